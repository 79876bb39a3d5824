//! Shapes that need the tables' columns, which the fixture's VSchema does not list: vtgate
//! knows them from schema tracking (`--schema-change-signal`, on by default).
//!
//! - A select alias that shadows a column: GROUP BY and HAVING name the column (MySQL looks at
//!   the FROM tables there before the select list), ORDER BY the alias.
//! - Unqualified columns of cross-shard and cross-keyspace joins, resolved to the one table
//!   that has them; `*` over such a join.
//! - `JOIN ... USING`, written as ON over the known columns: across shards, with a
//!   reference table, across keyspaces, in a chain.

use super::{q, Query};

pub(super) fn tracked_column_queries(out: &mut Vec<Query>) {
    for sql in [
        // GROUP BY the column `region`, not the count.
        "select count(*) as region from customer group by region",
        "select max(price) as qty, count(*) from corder group by qty",
        "select sum(price) as qty from corder where sku = 'SKU3' group by qty",
        // An alias of another value: grouping by it would merge every region.
        "select length(region) as region, count(*) from customer group by region",
        // HAVING the GROUP BY column, not the alias.
        "select length(region) as region, count(*) from customer group by region \
         having region = 'eu'",
        "select count(*) as qty from corder group by qty having qty > 3",
        "select sum(price) as qty, count(*) from corder group by qty having qty in (2, 5)",
        "select count(*) as score from customer group by score having score < 20 and count(*) > 1",
        // The same with the GROUP BY column qualified, on one shard, and in joins.
        "select count(*) as qty from corder o group by o.qty having qty > 50",
        "select count(*) as qty from corder where customer_id = 7 group by corder.qty \
         having qty > 0",
        "select count(*) as qty from customer c join corder o on c.score = o.qty \
         group by o.qty having qty > 5",
        // An alias shadowing a column of another joined table: grouped by the column.
        "select count(*), 'x' as note from customer c join corder o \
         on c.customer_id = o.customer_id group by note",
        "select count(*), 'x' as note from customer c join corder o on c.score = o.qty \
         where c.customer_id < 200 group by note",
        "select count(*) as qty from customer c join corder o \
         on c.customer_id = o.customer_id group by qty",
        "select min(score) as region from customer c join corder o on c.score = o.qty \
         where c.customer_id < 200 group by region",
        // DISTINCT over an alias named like another selected column: by position.
        "select distinct note as sku, sku from corder where customer_id = 7",
        "select distinct qty as price, price from corder where qty = 5",
        "select distinct o.note as region, region from customer c join corder o \
         on c.customer_id = o.customer_id where c.customer_id < 50",
        "select distinct o.note as region, region from customer c join corder o \
         on c.score = o.qty where c.customer_id < 30",
        // The alias where the name is not a GROUP BY column.
        "select qty, count(*) as price from corder group by qty having price > 400",
        // Unqualified columns of a cross-shard join.
        "select email, sku from customer c join corder o on c.score = o.qty \
         where c.customer_id < 20",
        "select name, note, qty from customer join corder on score = qty \
         where region = 'eu' and qty < 3 and customer.customer_id < 300",
        "select count(*), max(note), min(email) from customer c join corder o on c.big = o.price",
        "select region, count(*) from customer c join corder o on c.score = o.qty \
         where sku = 'SKU4' group by region",
        "select c.customer_id, order_id from customer c left join corder o \
         on c.score = o.qty and note is null where c.customer_id < 30",
        // Cross-keyspace.
        "select city, qty from corder o join commerce.warehouse w on o.sku = w.sku \
         where o.customer_id < 50",
        "select stock, count(*) from corder o join commerce.warehouse w on o.sku = w.sku \
         group by stock",
        // Ambiguous for MariaDB too (1052 on both).
        "select customer_id from customer c join corder o on c.score = o.qty",
    ] {
        out.push(q(sql, false));
    }
    for sql in [
        "select customer_id, email, order_id from customer join corder using (customer_id) \
         where customer_id < 30",
        "select sku, description, qty from corder join product using (sku) where order_id < 40",
        "select sku, count(*), max(qty) from corder o join product p using (sku) group by sku",
        "select sku, stock, qty from corder join commerce.warehouse using (sku) \
         where order_id < 60",
        "select id, n, w from tally join word using (id)",
        "select id, n, w from tally left join word using (id) where id < 15",
        "select count(*), sum(n) from tally join word using (id)",
        "select w from word join tally using (id) where n = 3",
        "select id, t2.n from tally join word using (id) join tally t2 using (id)",
        "select id, n from tally join word using (id) where w is not null and id > 2",
        "select sku, price, order_id from corder join product using (sku, price)",
        "select id, n, w from tally natural join word",
        "select count(*), min(order_id) from corder natural join product",
        "select id, w from word natural left join tally where id < 9",
    ] {
        out.push(q(sql, false));
    }
    for sql in [
        "select n as id2, id from tally join word using (id) order by id",
        // `*`: the shared columns first, then the left's, then the right's.
        "select * from tally join word using (id) order by id",
        "select * from tally natural join word order by id",
        "select * from tally left join word using (id) where id < 12 order by id",
        "select * from corder join product using (sku) where order_id < 20 order by order_id",
        "select * from customer join corder using (customer_id) \
         where customer_id < 20 order by order_id",
    ] {
        out.push(q(sql, true));
    }
    out.push(q(
        "select * from customer c join corder o on c.score = o.qty \
         where c.customer_id < 12 order by o.order_id, c.customer_id",
        true,
    ));
    out.push(q(
        "select score + 1 as region, count(*) from customer \
         where customer_id < 100 group by score order by region, 2",
        true,
    ));
}
