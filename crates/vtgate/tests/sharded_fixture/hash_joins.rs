//! Hash joins: joins on one column equality asked for with `/*vt+ ALLOW_HASH_JOIN */`, and
//! joins with a derived table vtgate computes itself. Keys with NULLs, duplicates on both
//! sides, integer, BIGINT, DECIMAL-against-integer and `_ci` text keys in mixed case.

use super::{q, Query};

pub(super) fn hash_join_queries(out: &mut Vec<Query>) {
    for sql in [
        "select /*vt+ ALLOW_HASH_JOIN */ c.customer_id, o.order_id from customer c join corder o \
         on c.score = o.qty where c.customer_id < 200 and o.order_id < 300",
        "select /*vt+ ALLOW_HASH_JOIN */ c.customer_id, o.order_id, o.qty from customer c \
         left join corder o on o.qty = c.score and o.order_id < 50 where c.customer_id < 60",
        "select /*vt+ ALLOW_HASH_JOIN */ c.customer_id, o.order_id from customer c join corder o \
         on o.price = c.balance where o.order_id < 2000",
        "select /*vt+ ALLOW_HASH_JOIN */ c.customer_id, d.customer_id, d.name from customer c \
         join customer d on d.name = c.name where c.customer_id < 40 and d.customer_id < 80",
        "select /*vt+ ALLOW_HASH_JOIN */ c.customer_id, d.customer_id from customer c \
         left join customer d on d.region = c.region and d.customer_id < 30 where c.customer_id < 25",
        "select /*vt+ ALLOW_HASH_JOIN */ o.order_id, p.order_id, p.note from corder o \
         left join corder p on p.note = o.note and p.order_id < 30 where o.order_id < 60",
        "select /*vt+ ALLOW_HASH_JOIN */ c.customer_id, d.customer_id from customer c \
         join customer d on d.big = c.big where c.customer_id < 100",
        "select /*vt+ ALLOW_HASH_JOIN */ o.order_id, w.city from corder o \
         join commerce.warehouse w on o.sku = w.sku where o.price > 9000",
        "select /*vt+ ALLOW_HASH_JOIN */ w.sku, o.order_id from commerce.warehouse w \
         left join corder o on o.sku = w.sku and o.qty = 3",
        "select /*vt+ ALLOW_HASH_JOIN */ c.region, count(*), count(o.order_id) from customer c \
         left join corder o on o.qty = c.score where c.customer_id < 300 group by c.region",
        "select c.customer_id, t.n from customer c left join (select qty, count(*) as n from corder \
         group by qty) t on t.qty = c.score where c.customer_id < 200",
        "select c.customer_id, t.c from customer c join (select name, count(*) as c from customer \
         group by name) t on t.name = c.name where c.customer_id < 100",
        "select o.order_id, t.m from corder o left join (select distinct score as m from customer \
         where customer_id < 50) t on t.m = o.qty where o.order_id < 80",
    ] {
        out.push(q(sql, false));
    }
    for sql in [
        "select /*vt+ ALLOW_HASH_JOIN */ c.customer_id, o.order_id from customer c join corder o \
         on o.qty = c.score where c.customer_id < 500 order by o.order_id, c.customer_id limit 30",
        "select c.customer_id, t.s from customer c join (select score, sum(balance) as s \
         from customer group by score) t on t.score = c.score where c.customer_id < 100 \
         order by c.customer_id",
    ] {
        out.push(q(sql, true));
    }
}
