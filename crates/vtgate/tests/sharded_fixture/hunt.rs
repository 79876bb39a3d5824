//! Adversaries of the planner's same-shard merges, whole-statement routes and derived-table
//! routing: joins pinned by one literal written twice (vtgate's normaliser gives both one
//! bind variable), statements of several SELECTs pinned to one keyspace id, outer WHERE
//! conditions routed through plain derived tables, each with values of several spellings
//! and types (hex and bit literals, introducers, decimals, text MariaDB compares as numbers).

use super::{q, Query};

/// Values written where a `customer_id` (signed BIGINT, `hash` vindex) is compared.
/// `0x37` and `0x8` must reach the shards as written (the parser alone would print them as
/// `X'37'` / `X'8'`, which MariaDB reads as the string '7' or rejects) and match 55 and 8.
const VALUES: &[&str] = &[
    "0x37",
    "0x8",
    "7",
    "'7'",
    "'07'",
    "' 7'",
    "'7abc'",
    "7.0",
    "'+7'",
    "X'37'",
    "X'0037'",
    "'0.7e1'",
    "b'111'",
    "_utf8mb4'7'",
    "_binary'7'",
    "7e0",
    "-7",
    "NULL",
    "1999",
    "18446744073709551615",
    "9000000000000010000",
    "'9000000000000010001'",
];

/// Joins whose sharded tables are each pinned by the same value.
const MERGED: &[&str] = &[
    "select c.customer_id, o.order_id from customer c join corder o on o.qty <= c.score \
     where c.customer_id = {v} and o.customer_id = {v}",
    "select count(*), max(o.price), min(c.score) from customer c join corder o on o.qty >= 0 \
     where c.customer_id = {v} and o.customer_id = {v}",
    "select p.sku, c.customer_id from product p left join customer c on c.customer_id = {v} \
     where p.price < 60",
    "select p.sku, count(c.customer_id) from product p left join customer c \
     on c.customer_id = {v} group by p.sku",
    "select count(*) from product p join customer c on c.customer_id = {v}",
    "select c.customer_id, o.order_id from customer c join corder o \
     on c.customer_id = o.customer_id where c.customer_id = {v} and o.customer_id = {v}",
    "select c.customer_id, o.order_id from customer c left join corder o \
     on o.customer_id = {v} and o.qty > 3 where c.customer_id = {v}",
    // The OR must not merge; the outer bound keeps the nested loop to ~120 scatters.
    "select c.customer_id, o.order_id from customer c join corder o on o.qty <= c.score \
     where (c.customer_id = {v} or o.customer_id = {v}) and c.customer_id < 120",
    "select t.n, o.order_id from (select count(*) as n from customer where customer_id = {v}) t \
     left join corder o on o.customer_id = {v}",
    "select c.customer_id, o.order_id from customer c join corder o on o.qty < c.score \
     where c.customer_id = {v} and o.customer_id = 7",
    "select c.customer_id, o.order_id from customer c join corder o on o.qty < c.score \
     where c.customer_id = {v} and o.customer_id = '7'",
];

/// Statements of several SELECTs, each pinned by the value.
const ONE_SHARD: &[&str] = &[
    "select customer_id from customer where customer_id = {v} \
     union select customer_id from corder where customer_id = {v}",
    "select customer_id from customer where customer_id = {v} \
     union all select customer_id from corder where customer_id = {v}",
    "select customer_id, (select count(*) from corder o where o.customer_id = {v}) \
     from customer where customer_id = {v}",
    "select count(*) from customer where customer_id = {v} \
     and score not in (select qty from corder where customer_id = {v} and qty is not null)",
    "select (select count(*) from corder where customer_id = {v}), \
     (select max(score) from customer where customer_id = {v})",
    "select * from (select customer_id, score from customer where customer_id = {v}) d \
     union select customer_id, qty from corder where customer_id = {v}",
    "select customer_id from customer where customer_id = {v} \
     union select sku from product where price < 30",
    "select customer_id from customer where customer_id = {v} \
     and exists (select 1 from corder where customer_id = {v} and qty > 100)",
];

/// Outer conditions routed through plain derived tables.
const DERIVED: &[&str] = &[
    "select * from (select customer_id as cid, name from customer) t where t.cid = {v}",
    "select count(*) from (select customer_id as cid from customer) t where t.cid = {v}",
    "select * from (select customer_id as score, score as customer_id from customer) t \
     where t.customer_id = {v}",
    "select * from (select customer_id as score, score as customer_id from customer) t \
     where t.score = {v}",
    "select * from (select x as y from (select customer_id as x, score from customer \
     where score > 0) a) b where y = {v}",
    "select y, count(*) from (select x as y from (select customer_id as x from customer) a) b \
     where y = {v} or y = 3 group by y",
    "select cid from (select customer_id as cid from customer) t where cid = {v} \
     and exists (select 1 from corder where order_id = 3)",
    "select cid from (select customer_id as cid from customer) t where cid = {v} \
     and cid not in (select customer_id from corder where order_id = 3)",
    "select max(s), count(*) from (select score as s, customer_id from customer \
     where customer_id = {v}) t where t.customer_id = {v}",
];

/// Shapes without a value: renames, shadowing and nesting of derived tables.
const DERIVED_FIXED: &[&str] = &[
    "select * from (select customer_id as cid, customer_id from customer) t where cid = 8",
    "select customer_id from (select score as customer_id from customer \
     where customer_id < 100) t where customer_id = 8",
    "select * from (select c.customer_id from customer c) t where t.customer_id = 8 \
     and t.customer_id = 9",
    "select * from (select customer_id as id from customer where customer_id = 8) t \
     where t.id = 9",
    "select * from (select customer_id, score from (select customer_id, score, region \
     from customer where region = 'us') a) b where b.customer_id in (8, 9, 21)",
    "select count(*), sum(s) from (select score as s from (select score, customer_id \
     from customer) a where customer_id > 1000) b",
    "select b.id, b.s from (select customer_id as id, score as s from (select score, \
     customer_id from customer) a) b order by b.s desc, b.id limit 5",
    "select distinct s from (select score as s, customer_id from (select score, customer_id \
     from customer) a where customer_id < 50) b",
    "select * from (select customer_id as k from customer) t where k = 8 or k = '9'",
];

/// Hex and bit numbers outside routing: select lists, functions, ranges, HAVING, IN lists
/// and join conditions, where MariaDB reads each by its context.
const HEX_FIXED: &[&str] = &[
    "select customer_id, 0x41 + 0, 0x41 from customer where customer_id < 20",
    "select customer_id, concat(email, 0x21) from customer where customer_id between 5 and 30",
    "select count(*) from customer where score > 0x10",
    "select customer_id from customer where score = 0b1010 order by customer_id limit 5",
    "select customer_id from customer where customer_id in (0x7, 0x8, 9, 0b1010)",
    "select customer_id, score from customer where score between 0x10 and 0x20 \
     order by score, customer_id limit 3 offset 1",
    "select region, count(*) from customer where score > 0x8 group by region \
     having count(*) > 0x2",
    "select customer_id from customer where email like concat(0x61, '%')",
    "select o.order_id from customer c join corder o on o.customer_id = c.customer_id \
     where c.score > 0x20 and o.qty < 0b11",
    "select c.customer_id, o.order_id from customer c join corder o on o.qty <= c.score \
     where c.customer_id = 0x7 and o.qty > 0x1",
    "select customer_id from customer where customer_id = 0x7 \
     union select customer_id from corder where qty > 0x63",
    "select max(score) + 0x1, min(customer_id) from customer where customer_id > 0b11",
];

pub(super) fn hunt_queries(out: &mut Vec<Query>) {
    for sql in HEX_FIXED {
        out.push(q(*sql, false));
    }
    for shape in MERGED.iter().chain(ONE_SHARD).chain(DERIVED) {
        for v in VALUES {
            out.push(q(shape.replace("{v}", v), false));
        }
    }
    // The same shapes with two spellings of one number: two bind variables.
    for shape in MERGED.iter().chain(ONE_SHARD) {
        for (a, b) in [
            ("7", "'7'"),
            ("'07'", "7"),
            ("7", "'7abc'"),
            ("1999", "'1999'"),
        ] {
            out.push(q(shape.replacen("{v}", a, 1).replace("{v}", b), false));
        }
    }
    for sql in DERIVED_FIXED {
        out.push(q(*sql, false));
    }
}
