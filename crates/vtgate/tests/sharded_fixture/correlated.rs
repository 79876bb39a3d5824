//! Correlated subqueries: merged into the outer route when every inner row an outer row
//! reads is on that row's shard (correlated on the shared `hash` column, or a reference
//! table inside; the outer query one table or a join of co-located tables), and the one
//! shape that must stay refused.

use super::{q, Query};

/// Correlated subqueries vtgate answers: each must give MariaDB's rows.
pub(super) fn correlated_queries(out: &mut Vec<Query>) {
    for sql in [
        "select c.customer_id from customer c where exists \
         (select 1 from corder o where o.customer_id = c.customer_id)",
        "select c.customer_id, c.name from customer c where not exists \
         (select 1 from corder o where o.customer_id = c.customer_id)",
        "select c.customer_id from customer c where c.customer_id in \
         (select o.customer_id from corder o where o.customer_id = c.customer_id and o.qty > 1)",
        "select c.customer_id, (select count(*) from corder o where o.customer_id = c.customer_id) \
         from customer c",
        "select c.customer_id, (select sum(o.price) from corder o where o.customer_id = c.customer_id) \
         from customer c where c.customer_id in (1, 2, 3, 1499, 9000000000010000030)",
        "select c.customer_id, c.score from customer c where c.score > \
         (select min(o.price) from corder o where o.customer_id = c.customer_id)",
        "select c.customer_id, c.score from customer c where c.score > \
         (select min(o.qty) from corder o where o.customer_id = c.customer_id)",
        "select c.customer_id from customer c where 5000 < (select o.price from corder o \
         where o.customer_id = c.customer_id order by o.price desc limit 1)",
        "select c.customer_id from customer c where c.score < 0 or exists \
         (select 1 from corder o where o.customer_id = c.customer_id and o.price > 9000)",
        "select c.customer_id from customer c where exists \
         (select 1 from customer d where d.customer_id = c.customer_id and d.score > 50)",
        "select c.customer_id from customer c where exists \
         (select 1 from product p where p.price = c.score)",
        "select o.order_id from corder o where exists \
         (select 1 from product p where p.sku = o.sku and p.price > 100)",
        "select c.customer_id from customer c where exists \
         (select 1 from product p where p.sku = c.region)",
        "select count(*) from customer c where not exists \
         (select 1 from corder o where o.customer_id = c.customer_id)",
        "select c.region, count(*) from customer c where exists \
         (select 1 from corder o where o.customer_id = c.customer_id and o.qty > 5) group by c.region",
        "select c.customer_id from customer c where c.customer_id = 7 and exists \
         (select 1 from corder o where o.customer_id = c.customer_id)",
        // over a join of co-located tables, correlated on either table's vindex column
        "select c.customer_id, o.order_id from customer c join corder o \
         on o.customer_id = c.customer_id where o.qty = (select max(p.qty) from corder p \
         where p.customer_id = c.customer_id)",
        "select o.order_id, o.price from corder o join customer c \
         on c.customer_id = o.customer_id where o.price > (select avg(p.price) \
         from corder p where p.customer_id = o.customer_id) and c.score > 20",
        "select c.customer_id, o.order_id, (select count(*) from corder p \
         where p.customer_id = o.customer_id and p.qty >= o.qty) as n from customer c \
         join corder o on o.customer_id = c.customer_id where c.customer_id < 200",
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.customer_id = c.customer_id and o.qty > 3 where not exists \
         (select 1 from corder p where p.customer_id = c.customer_id and p.price > 9000)",
        "select c.customer_id, o.sku from customer c join corder o \
         on o.customer_id = c.customer_id where exists \
         (select 1 from product p where p.sku = o.sku and p.price > 100)",
        "select c.region, count(*) from customer c join corder o \
         on o.customer_id = c.customer_id where o.price >= (select max(p.price) \
         from corder p where p.customer_id = c.customer_id) group by c.region",
    ] {
        out.push(q(sql, false));
    }
    out.push(q(
        "select c.customer_id, (select sum(o.price) from corder o where o.customer_id = c.customer_id) \
         as total from customer c order by total desc, c.customer_id limit 12",
        true,
    ));
    out.push(q(
        "select c.customer_id, (select count(*) from corder o where o.customer_id = c.customer_id) \
         as n from customer c order by n, c.customer_id limit 5 offset 3",
        true,
    ));
    out.push(q(
        "select c.customer_id, o.order_id from customer c join corder o \
         on o.customer_id = c.customer_id where o.price = (select min(p.price) from corder p \
         where p.customer_id = c.customer_id) order by o.price desc, o.order_id limit 9",
        true,
    ));
}

/// Correlated subqueries whose inner rows may be on other shards than their outer row:
/// vtgate must refuse them with VT12001.
pub fn refused_correlated() -> Vec<&'static str> {
    // A select item per outer row is run per row (below), but not when the rows are
    // grouped by its value (the WHERE shapes are semi-joins, see `semi_joins`).
    vec![
        "select c.region, count(*), (select count(*) from corder o where o.qty = c.score) \
         from customer c group by c.region, c.score",
    ]
}

/// Select items correlated on other columns than the shared vindex: run once per outer row.
pub(super) fn per_row_values(out: &mut Vec<Query>) {
    for sql in [
        "select c.customer_id, (select count(*) from corder o where o.qty = c.score) from customer c",
        "select c.customer_id, (select max(o.price) from corder o \
         where o.qty = c.score and o.order_id < 200) as top from customer c \
         where c.customer_id between 10 and 40",
        // At most one row each (order_id is the key); NULL without one.
        "select c.customer_id, (select o.sku from corder o where o.order_id = c.customer_id) as sku, \
         c.name from customer c where c.customer_id < 30",
        // More than one row: MySQL's 1242 on both sides.
        "select c.customer_id, (select o.order_id from corder o where o.qty = c.score) \
         from customer c where c.customer_id < 20",
        "select c.customer_id, (select count(*) from corder o where o.qty = c.score) as n \
         from customer c where c.region = 'eu' and c.score is not null",
        // After `*`: the value's column counts from the row's end.
        "select o.*, (select max(x.qty) from corder x where x.customer_id = o.customer_id) as m \
         from corder o where o.order_id < 40",
        "select c.*, o.sku, (select count(*) from corder x where x.qty = c.score) as n, \
         c.score + 1 from customer c join corder o on o.customer_id = c.customer_id \
         where c.customer_id < 25",
    ] {
        out.push(q(sql, false));
    }
    for sql in [
        "select c.customer_id, (select count(*) from corder o where o.qty = c.score) as n \
         from customer c order by c.customer_id limit 7 offset 2",
        // ordered by the value, DISTINCT: in vtgate over the rows with their values
        "select c.customer_id, (select count(*) from corder o where o.qty = c.score) as n \
         from customer c order by n, c.customer_id",
        "select c.name, (select max(o.price) from corder o where o.qty = c.score \
         and o.order_id < 300) as top from customer c where c.customer_id < 90 \
         order by top desc, c.customer_id limit 6 offset 1",
        "select w.sku, (select count(*) from corder o where o.sku = w.sku) as n \
         from commerce.warehouse w order by 2 desc, w.sku limit 4",
        "select distinct (select count(*) from corder o where o.qty = c.score) as n \
         from customer c where c.customer_id < 200 order by n",
        // ORDER BY a subquery reading the outer row: a hidden value per row.
        "select c.customer_id from customer c where c.customer_id < 40 order by \
         (select count(*) from corder o where o.customer_id = c.customer_id), c.customer_id",
        "select c.customer_id, c.name from customer c where c.score > 90 order by \
         (select max(o.price) from corder o where o.qty = c.score) desc, c.customer_id limit 8",
        // `*` written out from the tracked columns, sorted by the value in vtgate.
        "select c.*, (select count(*) from corder x where x.qty = c.score) as n \
         from customer c where c.customer_id < 40 order by n desc, c.customer_id",
        "select distinct c.score % 3 as k, (select min(o.qty) from corder o \
         where o.qty > c.score and o.order_id < 100) as m from customer c \
         where c.customer_id < 60 order by m, k",
    ] {
        out.push(q(sql, true));
    }
}
