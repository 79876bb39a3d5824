//! Select items of nested-loop joins computed by vtgate over the joined rows: arithmetic
//! over columns of both tables (BIGINT, INT and DECIMAL, with MySQL's result types, NULL
//! for a division by zero, an error out of range), COALESCE/IFNULL on a LEFT JOINed table,
//! and aggregates, groups and ORDER BY over them; CONCAT of columns of both tables and
//! literals (numbers, decimals, NULLs; text of several collations in [`super::collation`]);
//! GREATEST/LEAST of numbers. Other expressions over both tables (CASE, IF, DIV,
//! comparisons, functions) by the last table's query, the other's columns bound typed. And `*`
//! expanded to the columns of derived tables. HAVING without GROUP BY, which names select
//! items.

use super::{q, Query};

pub(super) fn join_projection_queries(out: &mut Vec<Query>) {
    for sql in [
        "select c.customer_id, o.order_id, o.price * c.score from customer c join corder o \
         on o.qty = c.score where c.customer_id < 40 and o.order_id < 200",
        "select c.customer_id, o.order_id, c.balance + o.price as t, o.qty - c.score \
         from customer c join corder o on o.qty = c.score \
         where c.customer_id < 60 and o.order_id < 100",
        "select c.customer_id, o.order_id, o.price / c.score, c.balance / o.qty \
         from customer c join corder o on o.qty = c.score \
         where c.customer_id < 60 and o.order_id < 100",
        "select c.customer_id, -c.balance * o.qty + 1 from customer c join corder o \
         on o.order_id = c.customer_id where c.customer_id < 50",
        "select w.sku, w.stock * c.score, c.balance - w.stock from commerce.warehouse w \
         join customer c on c.customer_id = w.stock",
        // out of BIGINT's range: MySQL's error 1690 on both
        "select c.big * o.price from customer c join corder o on o.qty = c.score \
         where c.customer_id < 40 and o.order_id < 200",
        // on a LEFT JOINed table
        "select c.customer_id, coalesce(o.qty, -1), ifnull(o.price, 0) + 1 from customer c \
         left join corder o on o.qty = c.score and o.order_id < 50 where c.customer_id < 40",
        "select c.customer_id, o.price + c.score from customer c left join corder o \
         on o.qty = c.score and o.order_id < 50 where c.customer_id < 40",
        // aggregated and grouped
        "select sum(o.price * c.score), max(c.balance - o.price), count(*) from customer c \
         join corder o on o.qty = c.score where c.customer_id < 100 and o.order_id < 300",
        "select o.qty + c.score, count(*), sum(o.price) from customer c join corder o \
         on o.qty = c.score where c.customer_id < 100 and o.order_id < 300 \
         group by o.qty + c.score",
        // `*` over FROM items whose columns are known (derived tables)
        "select * from (select customer_id, score from customer where customer_id < 50) a \
         join (select order_id, qty from corder where order_id < 100) b on a.score = b.qty",
        "select b.*, a.customer_id from (select customer_id, score from customer \
         where customer_id < 50) a join (select order_id, qty from corder where order_id < 100) b \
         on a.score = b.qty",
        "select * from (select qty from corder where order_id < 20 union select score \
         from customer where customer_id < 20) as t1 join (select order_id, qty from corder \
         where order_id < 50) t2 on t1.qty = t2.qty",
        // refused: a table's columns are not known
        "select * from (select sku, count(*) as n from corder group by sku) t \
         join commerce.warehouse w on w.sku = t.sku",
        // GREATEST/LEAST over both tables: in the common type, NULL when an argument is
        "select c.customer_id, o.order_id, greatest(o.qty, c.score), least(c.balance, o.price) \
         from customer c join corder o on o.qty = c.score \
         where c.customer_id < 60 and o.order_id < 100",
        "select c.customer_id, greatest(o.qty, c.score, 3) as g, least(o.price, c.score) \
         from customer c left join corder o on o.qty = c.score and o.order_id < 50 \
         where c.customer_id < 40",
        "select greatest(o.qty, c.score) as g, count(*), max(least(o.price, c.balance)) \
         from customer c join corder o on o.qty = c.score \
         where c.customer_id < 100 and o.order_id < 300 group by g",
        "select max(greatest(o.qty, c.score)) - min(least(o.qty, c.score)) from customer c \
         join corder o on o.qty = c.score where c.customer_id < 100",
        // CONCAT over both tables
        "select concat(c.name, o.note) from customer c join corder o on o.qty = c.score \
         where c.customer_id < 10",
        "select c.customer_id, o.order_id, concat(c.name, ' / ', o.sku, '#', o.qty, ':', \
         c.balance, ' ', c.big) as t from customer c join corder o on o.qty = c.score \
         where c.customer_id < 30 and o.order_id < 200",
        "select concat(c.name, o.note) as t, count(*) from customer c join corder o \
         on o.qty = c.score where c.customer_id < 40 group by t",
        // CONCAT over a derived table computed in vtgate
        "select concat(t.sku, ':', t.n) as s from (select sku, count(*) as n from corder \
         group by sku) t",
        "select t.region, concat(t.region, '/', t.m, '/', t.b) from (select region, \
         max(score) as m, sum(balance) as b from customer group by region) t",
        // HAVING without grouping: a filter on the select items' names, run as WHERE
        "select c.customer_id, o.order_id, o.qty as q from customer c join corder o \
         on o.qty = c.score where c.customer_id < 60 and o.order_id < 200 having q > 2",
        "select c.customer_id as id, o.price * c.score as t from customer c join corder o \
         on o.qty = c.score where c.customer_id < 60 and o.order_id < 200 \
         having t > 50 and id < 30",
        // an alias before a column of the same name; then the column an aliased item reads
        "select c.score as qty, o.qty as oq from customer c join corder o \
         on o.order_id = c.customer_id having qty = 3",
        "select o.qty as q2, c.customer_id from customer c join corder o on o.qty = c.score \
         where c.customer_id < 40 and o.order_id < 100 having qty = 2",
        "select c.customer_id, o.qty as q from customer c left join corder o \
         on o.qty = c.score and o.order_id < 30 where c.customer_id < 40 having q is null",
        "select distinct c.region, o.qty from customer c join corder o on o.qty = c.score \
         where o.order_id < 100 having qty > 1 and region <> 'eu'",
        // MySQL's errors: two items of that name, no item of that name
        "select c.customer_id, o.customer_id from customer c join corder o \
         on o.qty = c.score where c.customer_id < 10 having customer_id = 3",
        "select c.customer_id from customer c join corder o on o.qty = c.score \
         having qty = 1",
        // refused: text
        "select c.name + o.qty from customer c join corder o on o.qty = c.score \
         where c.customer_id < 10 and o.order_id < 30",
        // Other expressions over both tables: computed by the query of the last table read,
        // the earlier table's columns bound as values of their types (NULL included), so
        // CASE and IF type their result as over the columns (`101.00` beside a DECIMAL).
        "select c.customer_id, o.order_id, case when o.price > c.balance then o.note \
         else c.name end as t from customer c join corder o on o.qty = c.score \
         where c.customer_id < 60 and o.order_id < 200",
        "select c.customer_id, o.order_id, if(c.score = o.qty, c.balance, o.price), \
         case when o.qty > 3 then c.balance else o.qty end from customer c join corder o \
         on o.order_id = c.customer_id where c.customer_id < 300",
        "select c.customer_id, o.order_id, c.name < o.note, nullif(c.region, o.sku), \
         concat_ws('/', c.big, o.note, c.balance), o.price div nullif(c.score, 0) \
         from customer c join corder o on o.qty = c.score \
         where c.customer_id < 30 and o.order_id < 100",
        // on a LEFT JOINed table: its NULL row evaluated with each unmatched row's values
        "select c.customer_id, case when c.score > 10 then o.qty else c.balance end, \
         ifnull(o.note, c.name) as n from customer c left join corder o \
         on o.qty = c.score and o.order_id < 50 where c.customer_id < 40",
        "select c.customer_id, if(o.order_id is null, c.email, o.sku) from customer c \
         left join corder o on o.order_id = c.score where c.customer_id < 80",
        // across keyspaces, and over three tables
        "select c.customer_id, w.sku, case when w.stock > c.score then w.city \
         else c.region end from commerce.warehouse w join customer c on c.customer_id = w.stock",
        "select c.customer_id, o.order_id, p.sku, if(p.price > o.qty, c.name, p.description) \
         from customer c join corder o on o.customer_id = c.customer_id \
         join product p on p.sku = o.sku where c.customer_id < 200",
        // grouped by one: the joined rows carry its value, vtgate groups them
        "select case when o.price > c.balance then 'x' else 'y' end as k, count(*) \
         from customer c join corder o on o.qty = c.score where c.customer_id < 60 group by k",
    ] {
        out.push(q(sql, false));
    }
    out.push(q(
        "select c.customer_id, o.order_id, concat(c.region, o.sku) as t from customer c \
         join corder o on o.qty = c.score where c.customer_id < 30 and o.order_id < 60 \
         order by t, c.customer_id, o.order_id",
        true,
    ));
    out.push(q(
        "select c.customer_id, o.order_id, case when o.qty > 3 then c.name else o.note end as t \
         from customer c join corder o on o.qty = c.score \
         where c.customer_id < 30 and o.order_id < 60 order by t, c.customer_id, o.order_id",
        true,
    ));
    out.push(q(
        "select c.customer_id, o.order_id, o.price - c.score * 100 as d from customer c \
         join corder o on o.qty = c.score where c.customer_id < 30 and o.order_id < 60 \
         order by d, c.customer_id, o.order_id",
        true,
    ));
    out.push(q(
        "select c.customer_id, o.order_id, o.price * c.score as t from customer c \
         join corder o on o.qty = c.score where o.order_id < 300 having t > 50 \
         order by t desc, c.customer_id, o.order_id limit 5",
        true,
    ));
}
