//! Correlated `[NOT] EXISTS`, `[NOT] IN` and comparisons with one aggregate row in the WHERE,
//! whose inner rows may be on other shards than their outer row: semi-joins, the subquery
//! run once per outer row with that row's columns bound; aggregation, DISTINCT and LIMIT run
//! over the rows it keeps.

use super::{q, Query};

pub(super) fn semi_join_queries(out: &mut Vec<Query>) {
    for sql in [
        // correlated on columns that are not the vindex columns
        "select c.customer_id from customer c where exists \
         (select 1 from corder o where o.qty = c.score) and c.customer_id < 300",
        "select c.customer_id from customer c where c.customer_id < 300 and exists \
         (select 1 from corder o where o.order_id = c.customer_id)",
        "select c.customer_id, c.score from customer c where exists \
         (select 1 from corder o where o.customer_id = c.score)",
        // the vindex equality only under an OR
        "select c.customer_id from customer c where c.customer_id < 200 and exists \
         (select 1 from corder o where o.customer_id = c.customer_id or o.qty = 1)",
        // another keyspace inside
        "select c.customer_id from customer c where exists \
         (select 1 from commerce.warehouse w where w.sku = c.region)",
        "select c.customer_id from customer c where c.customer_id < 100 and not exists \
         (select 1 from commerce.warehouse w where w.stock = c.score)",
        // NOT EXISTS keeps rows whose column is NULL (the subquery finds nothing)
        "select c.customer_id, c.name from customer c where c.customer_id < 200 and not exists \
         (select 1 from corder o where o.qty = c.score)",
        "select c.customer_id from customer c where c.customer_id < 300 and c.score in \
         (select o.qty from corder o where o.order_id = c.customer_id)",
        "select c.customer_id from customer c where c.customer_id < 300 and c.score + 1 in \
         (select o.qty from corder o where o.order_id > c.customer_id and o.order_id < 400)",
        // an outer join, table of another keyspace, derived table
        "select c.customer_id, o.order_id from customer c join corder o on o.qty = c.score \
         where c.customer_id < 30 and o.order_id < 100 and exists \
         (select 1 from corder p where p.order_id = o.order_id + c.customer_id)",
        "select w.sku from commerce.warehouse w where exists \
         (select 1 from customer c where c.customer_id = w.stock)",
        "select w.sku, w.city from commerce.warehouse w where not exists \
         (select 1 from customer c where c.customer_id = w.stock and c.score > 10)",
        "select d.customer_id from (select customer_id, score from customer where score > 70) d \
         where exists (select 1 from corder o where o.qty * 10 = d.score)",
        // an uncorrelated subquery inside, two semi-joins
        "select c.customer_id from customer c where c.customer_id < 100 and exists \
         (select 1 from corder o where o.qty = c.score and o.sku in \
         (select sku from product where price > 150))",
        "select c.customer_id from customer c where c.customer_id < 200 and exists \
         (select 1 from corder o where o.qty = c.score) and not exists \
         (select 1 from corder p where p.order_id = c.customer_id)",
        // aggregated, grouped, deduplicated over the rows the semi-join keeps
        "select count(*) from customer c where exists (select 1 from corder o where o.qty = c.score)",
        "select c.region, count(*), max(c.score) from customer c where c.customer_id < 500 \
         and exists (select 1 from corder o where o.qty = c.score and o.price > 5000) \
         group by c.region",
        "select distinct c.score from customer c where c.customer_id < 300 and not exists \
         (select 1 from corder o where o.order_id = c.customer_id)",
        // NOT IN: no row when a value or the probe is NULL, every row for an empty subquery
        "select c.customer_id from customer c where c.customer_id < 50 and c.score not in \
         (select o.qty from corder o where o.order_id = c.customer_id)",
        "select c.customer_id, c.score from customer c where c.customer_id < 300 \
         and c.score not in (select o.qty from corder o where o.qty > c.score - 3 \
         and o.order_id < 200)",
        "select c.customer_id from customer c where c.customer_id < 300 and c.score not in \
         (select o.qty from corder o where o.order_id = c.customer_id and o.qty is not null)",
        "select count(*) from customer c where c.score not in \
         (select o.qty from corder o where o.customer_id = c.score)",
        // a comparison with one aggregate row of other shards
        "select c.customer_id, c.score from customer c where c.customer_id < 400 and c.score > \
         (select avg(o.qty) from corder o where o.order_id < c.customer_id)",
        "select c.customer_id from customer c where c.customer_id < 300 and \
         (select count(*) from corder o where o.qty = c.score) >= 2",
        "select c.customer_id from customer c where c.customer_id < 300 and c.score = \
         (select max(o.qty) from corder o where o.order_id between c.customer_id and \
         c.customer_id + 20)",
        "select c.region, count(*) from customer c where c.balance < \
         (select sum(o.price) from corder o where o.qty = c.score) group by c.region",
    ] {
        out.push(q(sql, false));
    }
    out.push(q(
        "select c.customer_id from customer c where exists \
         (select 1 from corder o where o.qty = c.score) order by c.customer_id desc limit 3",
        true,
    ));
    out.push(q(
        "select c.customer_id, c.name from customer c where c.customer_id < 300 and exists \
         (select 1 from corder o where o.qty = c.score and o.price > 9000) order by c.customer_id",
        true,
    ));
}
