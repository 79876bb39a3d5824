//! Window functions and GROUP BY across shards, computed by the shards when every window
//! partition or group names the table's `hash` vindex column, so that each is whole on one
//! shard; other windows, and windows over groups that span shards, are refused.

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
        // Refused: a partition spanning shards, and windows over groups.
        "select order_id, row_number() over (partition by sku order by order_id) as rn \
         from corder where order_id < 50",
        "select customer_id, count(*), rank() over (partition by customer_id \
         order by count(*)) as r from corder group by qty, customer_id",
        "select qty, count(*), rank() over (partition by customer_id order by count(*)) as r \
         from corder group by qty",
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
        "select order_id, customer_id, row_number() over (partition by customer_id \
         order by order_id) as rn from corder order by order_id limit 20",
        "select order_id, dense_rank() over (partition by customer_id order by qty) as dr \
         from corder where customer_id < 200 order by dr desc, order_id limit 15",
        "select customer_id, count(*) as n, sum(qty) from corder group by customer_id \
         having n > 2 order by n desc, customer_id limit 7",
        "select customer_id, min(price) from corder where order_id > 100 \
         group by customer_id order by min(price), customer_id limit 5 offset 3",
    ] {
        out.push(q(sql, true));
    }
}
