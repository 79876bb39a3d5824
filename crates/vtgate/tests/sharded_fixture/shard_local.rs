//! Window functions and GROUP BY across shards, computed by the shards when every window
//! partition or group names the table's `hash` vindex column, so that each is whole on one
//! shard; other windows are computed in vtgate over every row (or every group, once the
//! groups are merged). Joins sent
//! to the shards whole with such derived tables, or with parenthesized groups of co-located
//! tables on the right of a LEFT JOIN.

use super::{q, Query};

pub(super) fn shard_local_queries(out: &mut Vec<Query>) {
    for sql in [
        "select order_id, customer_id, rank() over (partition by customer_id \
         order by price desc, order_id) as r from corder where order_id < 500",
        "select customer_id, order_id, sum(price) over (partition by customer_id) as s, \
         count(*) over (partition by customer_id, sku) as n from corder \
         where customer_id in (7, 8, 9, 11, 12)",
        "select o.order_id, lag(o.price) over (partition by o.customer_id order by o.order_id) \
         as prev from corder o where o.price > 5000",
        "select customer_id, name, row_number() over (partition by customer_id order by name) \
         as rn, count(*) over (partition by region, customer_id) as c from customer \
         where score > 50",
        "select order_id, max(qty) over (partition by customer_id order by order_id \
         rows between 2 preceding and current row) as m from corder where customer_id < 40",
        // Partitions spanning shards: computed in vtgate.
        "select order_id, row_number() over (partition by sku order by order_id) as rn \
         from corder where order_id < 50",
        "select customer_id, score, rank() over (order by score desc) as r, \
         sum(score) over (partition by region order by customer_id) as s, \
         dense_rank() over (partition by region order by score) as d from customer",
        "select order_id, lead(qty, 2) over (order by order_id) as nq, avg(price) over \
         (partition by sku) as ap, lag(sku) over (partition by qty order by order_id) as ps \
         from corder where order_id < 300",
        "select name, count(*) over (partition by name) as n, count(email) over () as e \
         from customer",
        // Not with an `OVER ()` window as well: MariaDB 10.11 then gives a PARTITION BY
        // window beside an ordered one wrong values (checked by hand on a six-row table).
        "select customer_id, balance, sum(balance) over (order by balance, customer_id) as b, \
         min(big) over (partition by region) as mb from customer",
        "select customer_id, max(balance) over () as mx, count(big) over (partition by region) \
         as n from customer",
        // `*` beside windows vtgate computes: written out from the tracked columns.
        "select *, row_number() over (order by score desc, customer_id) as rn from customer \
         where customer_id < 60",
        "select o.*, sum(price) over (partition by sku order by order_id) as s from corder o \
         where order_id < 300",
        // Windows over groups that span shards: the groups first, then the windows.
        "select customer_id, count(*), rank() over (partition by customer_id \
         order by count(*)) as r from corder group by qty, customer_id",
        "select qty, count(*) as n, rank() over (order by count(*) desc, qty) as r \
         from corder group by qty",
        "select c.region, count(*) as n, sum(count(*)) over (order by c.region) as running \
         from customer c group by c.region",
        "select sku, sum(qty) as q, dense_rank() over (order by sum(qty)) as d, \
         lag(sku) over (order by sku) as p from corder group by sku having count(*) > 1",
        // Groups by the vindex column, with what vtgate could not merge itself.
        "select customer_id, group_concat(order_id order by order_id) as ids, count(*) \
         from corder group by customer_id",
        "select customer_id, group_concat(distinct qty order by qty desc separator '/') as q \
         from corder where customer_id < 30 group by customer_id",
        "select customer_id, sku, count(*), sum(price) from corder group by sku, customer_id \
         having count(*) > 1",
        "select c.customer_id, max(c.score) + min(c.big) as m from customer c \
         group by c.customer_id having max(c.name) like 'a%'",
        "select customer_id, count(*), rank() over (partition by customer_id \
         order by count(*)) as r from corder group by customer_id, qty",
        "select distinct count(*) from corder group by customer_id",
        "select customer_id, bit_or(qty), count(distinct qty) from corder group by customer_id",
    ] {
        out.push(q(sql, false));
    }
    for sql in [
        "select order_id, row_number() over (order by price desc, order_id) as rn \
         from corder order by rn limit 10",
        "select customer_id, count(*) over (partition by region) as n from customer \
         where score > 20 order by n desc, customer_id limit 9 offset 1",
        "select c.*, rank() over (partition by region order by score) as r from customer c \
         where score > 80 order by r, customer_id limit 25",
        "select order_id, customer_id, row_number() over (partition by customer_id \
         order by order_id) as rn from corder order by order_id limit 20",
        "select order_id, dense_rank() over (partition by customer_id order by qty) as dr \
         from corder where customer_id < 200 order by dr desc, order_id limit 15",
        "select customer_id, count(*) as n, sum(qty) from corder group by customer_id \
         having n > 2 order by n desc, customer_id limit 7",
        "select qty, count(*) as n, row_number() over (order by count(*) desc, qty) as rn \
         from corder group by qty order by rn limit 5",
        "select customer_id, min(price) from corder where order_id > 100 \
         group by customer_id order by min(price), customer_id limit 5 offset 3",
        // derived tables each shard computes whole, joined on the vindex column
        "select c.customer_id, c.name, t.n, t.total from customer c join (select customer_id, \
         count(*) as n, sum(price) as total from corder group by customer_id having n > 1) t \
         on t.customer_id = c.customer_id order by t.total desc, c.customer_id limit 12",
        "select c.customer_id, t.k, t.qty from customer c left join (select customer_id as k, \
         qty, order_id from corder where qty > 5) t on t.k = c.customer_id \
         where c.customer_id < 30 order by c.customer_id, t.order_id",
        "select c.customer_id, t.order_id from customer c left join (select customer_id, \
         order_id from corder where customer_id = 7) t on t.customer_id = c.customer_id \
         where c.customer_id < 12 order by c.customer_id, t.order_id",
        "select count(*), sum(t.n), max(c.score) from customer c join (select customer_id, \
         count(*) as n from corder group by customer_id) t on c.customer_id = t.customer_id",
        "select c.region, count(*), sum(t.mx) from customer c join (select customer_id, \
         max(qty) as mx from corder group by customer_id) t on c.customer_id = t.customer_id \
         group by c.region order by c.region",
        // a parenthesized group on the right of a LEFT JOIN, co-located
        "select c.customer_id, o.order_id, p.description from customer c left join \
         (corder o join product p on p.sku = o.sku) on o.customer_id = c.customer_id \
         where c.customer_id < 50 order by c.customer_id, o.order_id",
        "select c.customer_id, count(o.order_id), count(p.sku) from customer c left join \
         (corder o join product p on p.sku = o.sku and p.price > 100) \
         on o.customer_id = c.customer_id group by c.customer_id \
         order by c.customer_id limit 40",
    ] {
        out.push(q(sql, true));
    }
}
