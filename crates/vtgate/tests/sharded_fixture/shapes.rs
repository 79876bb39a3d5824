//! More query shapes of the sharded differential: edges, cross-keyspace and same-shard
//! joins, arithmetic over aggregates.

use super::*;

/// Aggregates under filters, multi-column orders, orders and joins over `corder`.
pub(super) fn more_queries(out: &mut Vec<Query>) {
    let wheres = [
        "region = 'us'",
        "score > 30",
        "name = 'alice'",
        "big < 0",
        "balance is not null and score < 10",
        "customer_id in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)",
        "customer_id between 100 and 200",
        "email like '%9@%'",
    ];
    for w in wheres {
        for col in NUM_COLS {
            out.push(q(
                format!("select count({col}), sum({col}), min({col}), max({col}) from customer where {w}"),
                false,
            ));
        }
        out.push(q(
            format!("select region, count(*), max(score) from customer where {w} group by region"),
            false,
        ));
        out.push(q(
            format!("select customer_id, score from customer where {w} order by score desc, customer_id limit 7"),
            true,
        ));
        out.push(q(
            format!("select distinct score from customer where {w} order by score"),
            true,
        ));
    }
    for (a, b) in [
        ("region", "score"),
        ("name", "big"),
        ("score", "balance"),
        ("region", "name"),
    ] {
        out.push(q(
            format!("select {a}, {b}, customer_id from customer order by {a}, {b} desc, customer_id limit 40"),
            false,
        ));
        out.push(q(
            format!(
                "select {a}, {b}, count(*) from customer group by {a}, {b} having count(*) >= 2"
            ),
            false,
        ));
    }
    for g in ["sku", "qty", "customer_id"] {
        out.push(q(
            format!(
                "select {g}, count(*), sum(price), min(note), max(qty) from corder group by {g}"
            ),
            false,
        ));
        out.push(q(
            format!(
                "select {g}, count(*) as n from corder group by {g} order by n desc, {g} limit 5"
            ),
            false,
        ));
    }
    for price in [0, 2500, 5000, 9999] {
        out.push(q(
            format!("select order_id, customer_id, price from corder where price >= {price} order by price, order_id limit 20"),
            true,
        ));
        out.push(q(
            format!(
                "select c.name, o.price from customer c join corder o on c.customer_id = o.customer_id \
                 where o.price between {price} and {price} + 300"
            ),
            false,
        ));
        out.push(q(
            format!(
                "select o.order_id, p.price, p.description from corder o join product p on o.sku = p.sku \
                 where o.price between {price} and {price} + 200"
            ),
            false,
        ));
        out.push(q(
            format!(
                "select count(*) from corder where customer_id in \
                 (select customer_id from customer where score > {price} / 100)"
            ),
            false,
        ));
    }
    for id in [1, 2, 4, 6, 10, 30] {
        let id = customer_id(id);
        out.push(q(
            format!(
                "select o.order_id, o.sku, p.description from corder o left join product p \
                 on o.sku = p.sku where o.customer_id = {id}"
            ),
            false,
        ));
        out.push(q(
            format!("select count(*), sum(price) from corder where customer_id = {id}"),
            false,
        ));
        out.push(q(
            format!("update corder set qty = qty where customer_id = {id} and 1 = 0"),
            false,
        ));
    }
}

/// Edge cases: empty inputs, all-NULL aggregates, NULL ordering, aliases, joins with ORDER
/// BY and LIMIT, aggregates over joins.
pub(super) fn edge_queries(out: &mut Vec<Query>) {
    for sql in [
        "select count(*), sum(score), min(score), max(big), avg(balance) from customer where 1 = 0",
        "select count(*), sum(score) from customer where customer_id = 1 and score > 1000",
        "select sum(score), max(score), count(score) from customer where score is null",
        "select region, count(*) from customer where 1 = 0 group by region",
        "select count(*) from customer where customer_id in (1, 2) and customer_id = 3",
        "select score, count(*) as n from customer group by score having n > 20",
        "select region as r, sum(score) as s from customer group by r having s > 100",
        "select sum(big) from customer",
        "select sum(big), avg(big) from customer where big > 0",
        "select max(big) - min(big) from customer where big between -100 and 100",
        "select count(*) + 1, sum(score) * 2 from customer",
        "select customer_id, null from customer where customer_id < 5",
        "select 1 from customer where customer_id = 1",
        "select 'x' as k, count(*) from customer",
        "select count(*) from customer c join corder o on c.customer_id = o.customer_id",
        "select count(*), max(o.price) from customer c join corder o on c.customer_id = o.customer_id \
         where c.region = 'us'",
        "select o.note, count(*) from corder o join customer c on o.customer_id = c.customer_id \
         group by o.note",
        "select c.customer_id, count(o.order_id) from customer c left join corder o \
         on c.customer_id = o.customer_id where c.customer_id < 25 group by c.customer_id",
        "select distinct c.region from customer c join corder o on c.customer_id = o.customer_id",
        "select customer_id from customer where customer_id not in (1, 2, 3) and customer_id < 8",
        "select customer_id from customer where customer_id = 1 or customer_id = 4",
        "select customer_id, name from customer where customer_id = 3 or customer_id in (5, 9) \
         or (customer_id = 11 and score > 0)",
        "select customer_id from customer where (customer_id = 5 and name = 'x') or (customer_id = 5 and score > 2)",
        "select customer_id, score from customer where (customer_id, score) in ((1, 3), (2, 4), (7, score), ('8', 1))",
        "select customer_id from customer where ((customer_id, score), region) in (((3, 1), 'us'), ((4, 2), 'EU'))",
        "select customer_id, region from customer where (customer_id, region) = (7, region)",
        "select count(*) from customer where customer_id in (null)",
        "select customer_id from customer where customer_id not in (null, 1, 2)",
        "select customer_id from customer where 2 > 1 and (customer_id = 12 or customer_id in (13, 14))",
        "select customer_id from customer where (customer_id = 1 or score = 5) and region is not null",
        "select * from customer where name is null and score is null",
        "select customer_id from customer where email = 'USER7@EXAMPLE.COM'",
        "select customer_id, email from customer where customer_id = '7'",
        "select count(distinct score), count(distinct region), count(*) from customer where score > 0",
        "select region, sum(distinct score), count(distinct score) from customer group by region",
        "select sum(distinct balance), sum(distinct big), count(*) from customer",
        "select region, sum(distinct score), count(distinct balance), sum(distinct balance) \
         from customer group by region",
        "select sum(distinct price), avg(qty), count(distinct sku), sum(distinct qty) \
         from corder where order_id < 500",
        "select sum(distinct o.qty), sum(distinct c.score), count(*) from customer c \
         join corder o on o.qty = c.score where c.customer_id < 50",
        "select c.region, sum(distinct o.price) from customer c join corder o \
         on o.qty = c.score where c.customer_id < 80 group by c.region",
    ] {
        out.push(q(sql, false));
    }
    for sql in [
        "select score, customer_id from customer order by score, customer_id limit 30",
        "select score, customer_id from customer order by score desc, customer_id desc limit 30",
        "select name, customer_id from customer order by name is null, name, customer_id limit 30",
        "select c.customer_id, o.order_id, o.price from customer c join corder o \
         on c.customer_id = o.customer_id order by o.price desc, o.order_id limit 15",
        "select c.customer_id, o.order_id from customer c join corder o \
         on c.customer_id = o.customer_id where c.customer_id < 50 order by o.order_id",
        "select region, count(*) as n from customer group by region order by n desc, region",
        "select score, count(*) from customer group by score order by score desc limit 5",
        "select score, count(*) from customer group by score order by score limit 5 offset 3",
        "select distinct score from customer order by score desc limit 4",
        "select customer_id, balance from customer order by balance, customer_id limit 10 offset 100",
        "select big, customer_id from customer order by big, customer_id limit 12",
        "select o.order_id, p.sku, p.price from corder o join product p on o.sku = p.sku \
         order by o.order_id limit 20",
    ] {
        out.push(q(sql, true));
    }
}

/// Joins between the sharded keyspace and the unsharded `commerce.warehouse`.
pub(super) fn cross_keyspace_queries(out: &mut Vec<Query>) {
    for sql in [
        "select o.order_id, w.stock from corder o join commerce.warehouse w on o.sku = w.sku \
         where o.customer_id = 1",
        "select o.order_id, w.city from corder o join commerce.warehouse w on o.sku = w.sku \
         where o.price > 9500",
        "select w.city, count(*) from corder o join commerce.warehouse w on o.sku = w.sku \
         group by w.city",
        "select w.sku, o.order_id from commerce.warehouse w left join corder o \
         on o.sku = w.sku and o.order_id < 30 where w.stock > 20",
        "select count(*) from corder where sku in (select sku from commerce.warehouse where stock > 30)",
        "select sku, stock from commerce.warehouse where sku in (select sku from corder where price < 50)",
        "select sum(w.stock), max(o.price) from corder o join commerce.warehouse w on o.sku = w.sku",
    ] {
        out.push(q(sql, false));
    }
    out.push(q(
        "select o.order_id, w.city from corder o join commerce.warehouse w on o.sku = w.sku \
         order by o.order_id limit 25",
        true,
    ));
}

/// Joins whose sharded items are all pinned to one shard by the same vindex value (sent
/// whole as one route), with NULL join columns and rows without partners; and near misses
/// (another value, IN) that stay nested loops.
pub(super) fn same_shard_join_queries(out: &mut Vec<Query>) {
    for sql in [
        "select c.customer_id, c.score, o.order_id, o.qty from customer c join corder o \
         on o.qty <= c.score where c.customer_id = 8 and o.customer_id = 8",
        "select c.customer_id, o.order_id from customer c, corder o \
         where c.customer_id = 15 and o.customer_id = 15 and o.qty <> c.score",
        "select c.customer_id, o.order_id, o.qty from customer c left join corder o \
         on o.customer_id = 7 and o.qty > c.score where c.customer_id = 7",
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.customer_id = 1 and o.qty = c.score where c.customer_id = 1",
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.customer_id = 1999 where c.customer_id = 1999",
        "select t.customer_id, t.score, o.order_id from (select customer_id, score from customer \
         where customer_id = 8) t join corder o on o.qty <> t.score where o.customer_id = 8",
        "select t.n, o.order_id from (select count(*) as n from customer where customer_id = 15) t \
         left join corder o on o.customer_id = 15 and o.qty >= t.n",
        "select t.score, o.qty from (select score from customer where customer_id = 8 limit 5) t \
         join (select qty from corder where customer_id = 8 limit 5) o on o.qty <> t.score",
        "select c.customer_id, o.order_id, count(*) from customer c join corder o \
         on o.qty <= c.score where c.customer_id = 8 and o.customer_id = 8 \
         group by c.customer_id, o.order_id",
        "select t.cid, o.order_id, o.qty from (select customer_id as cid, score from customer \
         where customer_id = 8) t left join corder o on o.customer_id = t.cid and o.qty <> t.score",
        "select t.customer_id, o.order_id from (select customer_id from customer \
         where customer_id = 1999) t left join corder o on o.customer_id = t.customer_id",
        "select c.customer_id, o.order_id from customer c join corder o on o.qty <> c.score \
         where c.customer_id = 8 and o.customer_id = 15",
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.customer_id = 15 where c.customer_id in (8, 15)",
    ] {
        out.push(q(sql, false));
    }
    out.push(q(
        "select c.customer_id, o.order_id from customer c join corder o on o.qty <= c.score \
         where c.customer_id = 8 and o.customer_id = 8 order by o.order_id desc limit 2",
        true,
    ));
}

/// Arithmetic over aggregates, computed in vtgate after the merge.
pub(super) fn aggregate_arithmetic(out: &mut Vec<Query>) {
    // COUNT(x) next to AVG(x), whose hidden partial count(x) it must not reuse unmerged.
    for sql in [
        "select avg(score), count(score) + 0 from customer",
        "select avg(score) from customer having count(score) > 3",
        "select region, avg(score) from customer group by region having count(score) > 100",
        "select region, avg(balance), sum(balance) / count(balance) from customer group by region",
        "select region, avg(score) from customer group by region order by count(score), region",
    ] {
        out.push(q(sql, false));
    }
    for col in NUM_COLS {
        out.push(q(
            format!(
                "select sum({col}) + 1, count(*) * 2, -min({col}), max({col}) - min({col}), \
                 sum({col}) / count(*) from customer"
            ),
            false,
        ));
        out.push(q(
            format!(
                "select region, sum({col}) / count({col}), count(*) - count({col}), \
                 2 * (sum({col}) - 3.5) from customer group by region"
            ),
            false,
        ));
        out.push(q(
            format!(
                "select region, count(*) from customer group by region \
                 having sum({col}) * 2 > count(*) + 10 and count(*) < 400"
            ),
            false,
        ));
        out.push(q(
            format!(
                "select score, max({col}) - min({col}) as spread from customer \
                 where score is not null group by score order by spread desc, score limit 9"
            ),
            true,
        ));
    }
    // Quotients inside an expression keep MySQL's digits (truncated to 9-digit words): AVG
    // times a million shows them, ROUND rounds from them.
    for col in NUM_COLS {
        out.push(q(
            format!(
                "select round(avg({col}), 2), avg({col}) * 3, avg({col}) * 1000000, \
                 round(sum({col}) / count(*), 3) + 1, round(avg({col})), round(avg({col}), -1) \
                 from customer"
            ),
            false,
        ));
        out.push(q(
            format!(
                "select region, avg({col}) * 7 - 1, round(avg({col}), 1) as r, \
                 sum({col}) / count(*) / 3 from customer group by region order by r, region"
            ),
            true,
        ));
    }
    // MariaDB compares and sorts a quotient rounded to its scale: each group passes these
    // HAVINGs (with all digits, few would), and AVG not selected is its sum over its count.
    for sql in [
        "select score % 7 as k, count(*) from customer group by k \
         having avg(balance) = round(avg(balance), 6) and avg(score) * 3 = round(avg(score) * 3, 4)",
        "select region, count(*) from customer group by region \
         having sum(score) / count(*) = round(sum(score) / count(*), 4) and avg(big) > 0",
        "select score % 5 as k, avg(score) from customer group by k order by avg(balance) * 3, k",
        "select region, sum(balance) / count(*) as q from customer group by region \
         order by q desc, region",
    ] {
        out.push(q(sql, true));
    }
    // Fraction digits of 5 to 9 and more: MySQL shows AVG's quotient truncated, not rounded.
    out.push(q(
        "select region, avg(cast(balance as decimal(14,5))), avg(cast(score as decimal(10,6))), \
         sum(cast(balance as decimal(14,7))) / count(*) from customer group by region",
        false,
    ));
    out.push(q(
        "select t.region, t.s / t.n * 100, round(t.a, 1), round(t.s / 7, 2) from (select region, \
         sum(balance) as s, count(*) as n, avg(balance) as a from customer group by region) t",
        false,
    ));
    out.push(q(
        "select customer_id, sum(price) * 2 - count(*), sum(qty) / 0 from corder group by customer_id",
        false,
    ));
    out.push(q(
        "select region, ifnull(sum(balance), 0), coalesce(max(score), -1), coalesce(min(big), 0) \
         from customer where score > 90 or score is null group by region",
        false,
    ));
    out.push(q(
        "select coalesce(sum(qty), 0), ifnull(max(qty), 0), coalesce(max(price), 1.5) from corder where price < 0",
        false,
    ));
    out.push(q(
        "select note, count(*) from corder group by note order by sum(price) - max(qty) * 100, note",
        false,
    ));
    out.push(q(
        "select c.region, count(*) * 10, sum(o.price) / count(*) from customer c join corder o \
         on c.score = o.qty where c.customer_id < 100 group by c.region",
        false,
    ));
    // Derived tables the shards cannot compute alone: the outer query runs in vtgate.
    for sql in [
        "select t.region, t.n * 2 from (select region, count(*) as n from customer group by region) t \
         where t.n > 100",
        "select count(*), sum(t.s), max(t.score) from (select score, sum(balance) as s from customer \
         group by score) t",
        "select n, count(*) from (select customer_id, count(*) as n from corder group by customer_id) t \
         group by n",
        "select a.s / a.c, a.c, a.s - 1 from (select sum(balance) as s, count(*) as c from customer) a",
        "select x.n from (select customer_id, count(*) as n from corder where customer_id = 7 \
         group by customer_id) x",
        "select count(*), max(x.score), count(x.name) from (select customer_id, score, name from customer \
         where customer_id > 12 order by customer_id limit 10) as x",
        "select c.customer_id, t.n from customer c join (select customer_id, count(*) as n from corder \
         group by customer_id) t on t.customer_id = c.customer_id where c.score > 60",
        "select t.m, c.name from (select max(customer_id) as m from corder where price > 9000) t \
         join customer c on c.customer_id = t.m",
        "select email, t.n from customer join (select customer_id as cid, count(*) as n from corder \
         group by customer_id) t on t.cid = customer.customer_id where customer.score < -15",
        "select p.sku, t.q from product p join (select sku, sum(qty) as q from corder group by sku) t \
         on t.sku = p.sku",
        "select * from (select c.customer_id, o.order_id from customer c join corder o \
         on o.customer_id = c.customer_id where c.customer_id < 40) as t",
        "select t.score, count(*) from (select c.score from customer c join corder o on o.qty = c.score \
         where c.customer_id < 60 and o.order_id < 100) t group by t.score",
        "select 'none', count(*), sum(balance), 2.50 from customer where score > 1000",
        "select count(*), sum(t.v), max(t.v) from (select score as v from customer union \
         select qty from corder) t",
        "select t.id from (select customer_id as id from customer where score = 5 union all \
         select customer_id from corder where price < 100) t where t.id < 1000",
        "select t.title, c.name from (select 'hello' as title) as t left join customer c \
         on c.customer_id = 3",
    ] {
        out.push(q(sql, false));
    }
    for sql in [
        "select t.order_id, t.price from (select order_id, customer_id, price from corder \
         order by price desc, order_id limit 20) t order by t.order_id",
        "select * from (select distinct score from customer) t where score between 10 and 20 \
         or score in (-5, 70) order by score",
        "select t.score, t.m - t.l as d from (select score, max(big) as m, min(balance) as l from customer \
         where score is not null group by score) t order by d desc, t.score limit 5",
    ] {
        out.push(q(sql, true));
    }
}

/// MySQL operators sqlparser reads differently: `BINARY` makes one operand compare
/// case-sensitively (`BINARY name = 'alice'` is `(BINARY name) = 'alice'`), `!x` is a NOT that
/// binds tightly, `MOD` is `%`. vtgate re-prints these statements for the shards, so they must
/// keep MySQL's meaning.
pub(super) fn mysql_operator_queries() -> Vec<Query> {
    [
        "select count(*) from customer where binary name = 'alice'",
        "select customer_id from customer where binary region = 'eu' and score > 50",
        "select region, count(*) from customer where binary region in ('us', 'Eu') group by region",
        "select count(*) from customer where not binary name = 'Alice'",
        "select count(*) from customer where binary name like 'A%'",
        "select name, count(*) from customer where binary(name) = 'ALICE' or binary name = 'bob' group by name",
        "select count(*) from corder where binary note = 'gift'",
        "select c.customer_id, o.order_id from customer c join corder o \
         on o.customer_id = c.customer_id where binary o.note = 'Gift' and c.customer_id < 300",
        "select customer_id mod 7, count(*) from customer group by customer_id mod 7",
        "select count(*) from customer where !(score > 10)",
        "select count(*), sum(!score) from customer where !score = 0",
        "select customer_id from customer where score mod 3 = 1 and !!region order by customer_id",
        // XOR sits between OR and AND in MySQL; these were planned as if it bound tighter.
        "select count(*) from customer where customer_id = 5 xor customer_id not in (5, null)",
        "select customer_id from customer where customer_id = 1 xor name not in ('Alice', null)",
        "select b.customer_id from customer a join customer b on a.customer_id = 1 \
         where b.name = 'zz' and (b.customer_id = 1 xor b.customer_id = 5)",
        "select count(*) from customer where score > 50 xor region = 'us'",
        "select count(*) from customer where score > 10 || name = 'bob' and region = 'eu'",
        // ORDER BY names a select alias before a column of that name.
        "select customer_id as score, score as customer_id from customer \
         order by customer_id desc, score limit 5",
        "select customer_id, -customer_id as customer_id from customer order by customer_id limit 3",
        "select region as score, count(*) as n from customer group by region order by score, n",
        // GROUP BY names a column before an alias of the same name (here the vindex column).
        "select 1 as customer_id, count(*) from customer where score > 70 group by customer_id",
        "select score as customer_id, count(*), sum(big) from customer where customer_id < 60 \
         group by customer_id",
        "select qty as customer_id, count(*) from corder where order_id < 300 group by customer_id",
        // Strings and decimals that MySQL reads as another integer than their text says,
        // against a BIGINT that `xxhash` keys by text.
        "select id, n from tally where id = '05'",
        "select id, n from tally where id = '7 '",
        "select id, n from tally where id = ' 12'",
        "select id, n from tally where id = '+9'",
        "select id, n from tally where id = '12.0'",
        "select id, n from tally where id = 13.0",
        "select id, n from tally where id in ('05', '059', 17)",
        "select id, n from tally where id = '5'",
        "select count(*) from tally t join customer c on c.score = t.n where t.id = '031'",
        // Text that is no number, which MySQL reads as 0 against the BIGINT (schema
        // tracking gives vtgate the column's type).
        "select id, n from tally where id = 'abc'",
        "select id, n from tally where id = 'x7'",
        "select id, n from tally where id = ''",
        "select id, n from tally where id in ('abc', 5)",
        "select count(*) from tally t join customer c on c.score = t.n where t.id = 'zz'",
        "select id, n from tally where id = 'abc' or id = 'def'",
        // A number against text keyed by unicode_loose_md5: MySQL compares numerically.
        "select id, w from word where w = 5",
        "select id, w from word where w = 0",
        "select id, w from word where w in (7, 5)",
        "select id, w from word where w = 'x'",
        // A TIME value from a subquery against an xxhash-keyed BIGINT.
        "select id from tally \
         where id = (select max(cast('00:00:12' as time)) from customer where customer_id < 10)",
        // Binary values from a subquery or a join side keep their binary comparison.
        "select customer_id from customer where customer_id < 400 and name = \
         (select max(cast(name as binary)) from customer where customer_id < 10)",
        "select a.customer_id, b.customer_id from (select customer_id, cast(name as binary) as bn \
         from customer where customer_id < 12) a join customer b on b.name = a.bn \
         where b.customer_id < 60",
        // SUM over text vtgate holds: MySQL converts, vtgate refuses (it answered error 1105).
        "select sum(x.c) from (select region, max(email) as c from customer group by region) x",
    ]
    .into_iter()
    .map(|sql| q(sql, false))
    .collect()
}

/// DATE, TIME and DATETIME values vtgate passes from one query to another (a pulled-out
/// subquery's value, a join variable) keep their type: `score > <TIME>` and `<DATETIME> + 0`
/// are not what the same text as a string gives.
pub(super) fn temporal_value_queries() -> Vec<Query> {
    [
        // The subqueries scatter (customer_id < 10), so vtgate runs them first and binds.
        "select customer_id, (select max(cast('-01:30:00' as time)) from customer \
         where customer_id < 10) + 0 from customer where customer_id = 5",
        "select customer_id, (select min(cast('1999-12-31 12:00:00' as datetime)) from customer \
         where customer_id < 10) + 0 from customer where customer_id = 5",
        "select customer_id from customer \
         where score > (select max(cast('00:00:40' as time)) from customer where customer_id < 10)",
        "select count(*) from customer where balance < \
         (select max(cast('2020-01-01' as date)) - 20200000 from customer where customer_id < 10)",
        "select a.customer_id, b.customer_id from (select customer_id, cast('00:00:30' as time) as t \
         from customer where customer_id < 5) a join customer b on b.score > a.t where b.customer_id < 40",
    ]
    .into_iter()
    .map(|sql| q(sql, false))
    .collect()
}
