//! Plan-cache adversaries: one statement shape run many times in a row with literals of
//! different types and spellings, so every run after the first takes the cached plan made
//! for `:vtgN` bind variables. Integers against the `hash` vindex column as numbers and as
//! strings MariaDB reads as exact numbers (`' 7'`, `'7.0'`, `'+7'`, `'1e1'`, integers past 2^53
//! written as text), u64 max, negative numbers, `_ci` text with trailing spaces and other
//! case; in point selects, IN lists, BETWEEN, joins, subqueries, derived tables and UNIONs.
//! The same values as binary-protocol parameters are in [`prepared`] and [`prepared_dml`].
//! Also: routing edges (NULL in IN lists, contradictions, ORs, tuples), correlated
//! subqueries at the edges of what merges, UNIONs of normalised sides, DML that must run as
//! MariaDB runs it or be refused ([`risky_dml`]), and savepoints across shards.

use mysql_async::Value;

use super::{customer_id, q, Query};

/// Values compared with `customer_id` (a signed BIGINT with a `hash` vindex).
fn id_literals() -> Vec<String> {
    let big = customer_id(10);
    let mut v: Vec<String> = [
        "7",
        "'7'",
        "' 7'",
        "'7 '",
        "'7abc'",
        "'07'",
        "'7.0'",
        "'+7'",
        "'-7'",
        "'abc'",
        "''",
        "'1e1'",
        "'7.5'",
        "'70e-1'",
        "10",
        "7.0",
        "7.5",
        "18446744073709551615",
        "'18446744073709551615'",
        "9223372036854775807",
        "'9223372036854775808'",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(big.to_string());
    v.push(format!("'{big}'"));
    // Past 2^53: MariaDB reads text against a BIGINT exactly (`big + 1` as text is not
    // `big`), where a comparison of doubles could not tell them apart.
    v.push(format!("'{}'", big + 1));
    v.push((big + 1).to_string());
    v.push(format!("'{big}.0'"));
    v
}

/// Values compared with `name` (`utf8mb4_general_ci`, PAD SPACE).
const NAME_LITERALS: &[&str] = &[
    "'alice'",
    "'ALICE '",
    "'Alice  '",
    "'bob'",
    "' bob'",
    "'0'",
    "0",
];

pub(super) fn literal_queries(out: &mut Vec<Query>) {
    let ids = id_literals();
    let shapes: &[(&str, bool)] = &[
        (
            "select customer_id, name from customer where customer_id = {v}",
            false,
        ),
        (
            "select order_id from corder where customer_id = {v} order by order_id",
            true,
        ),
        (
            "select count(*) from customer where customer_id in ({v}, 3)",
            false,
        ),
        (
            "select customer_id from customer where customer_id in ({v})",
            false,
        ),
        (
            "select customer_id from customer where customer_id in (3, {v}, 4, 5)",
            false,
        ),
        (
            "select customer_id from customer where customer_id between {v} and 12",
            false,
        ),
        (
            "select c.customer_id, o.order_id from customer c join corder o \
             on c.customer_id = o.customer_id where c.customer_id = {v}",
            false,
        ),
        (
            "select customer_id from customer where customer_id in \
             (select customer_id from corder where customer_id = {v})",
            false,
        ),
        (
            "select * from (select customer_id, name from customer where customer_id = {v}) d",
            false,
        ),
        (
            "select customer_id from customer where customer_id = {v} union \
             select customer_id from customer where customer_id = 3",
            false,
        ),
        (
            "select customer_id from customer where customer_id = {v} or customer_id = 3",
            false,
        ),
        (
            "select customer_id from customer where (customer_id, score) in (({v}, 20), (3, 91))",
            false,
        ),
        (
            "select c.customer_id from customer c where exists \
             (select 1 from corder o where o.customer_id = c.customer_id and o.customer_id = {v})",
            false,
        ),
    ];
    for (shape, ordered) in shapes {
        for v in &ids {
            out.push(q(shape.replace("{v}", v), *ordered));
        }
    }
    for v in NAME_LITERALS {
        for shape in [
            "select customer_id, name from customer where name = {v}",
            "select count(*) from customer where name in ({v}, 'eve')",
            "select name, count(*) from customer where name = {v} group by name",
            "select c.customer_id from customer c join corder o on c.customer_id = o.customer_id \
             where c.name = {v} and o.order_id < 200",
        ] {
            out.push(q(shape.replace("{v}", v), false));
        }
    }
}

/// Predicates vtgate evaluates itself (over a derived table it computes, a cross-shard outer
/// join's right side, a hash join), with literals of several types: numbers against text,
/// text against numbers, `_ci` text in other case and with trailing spaces.
pub(super) fn vtgate_filter_queries(out: &mut Vec<Query>) {
    let nums = [
        "5", "'5'", "'5.0'", "' 5'", "'5x'", "0", "'0'", "'abc'", "''", "'-3'",
    ];
    let texts = [
        "'alice'", "'ALICE '", "'Gift'", "'GIFT  '", "'gift'", "'0'", "0", "'US'", "'us '",
    ];
    for v in nums {
        for shape in [
            "select * from (select score, count(*) as n from customer group by score) d \
             where d.n = {v}",
            "select * from (select qty, count(*) as n, sum(price) as s from corder group by qty) d \
             where d.qty = {v}",
            "select * from (select qty, count(*) as n from corder group by qty) d where d.qty > {v}",
            "select * from (select qty, count(*) as n from corder group by qty) d \
             where d.qty in ({v}, 7)",
            "select * from (select qty, count(*) as n from corder group by qty) d \
             where d.qty between {v} and 8",
            "select c.customer_id, o.order_id, o.qty from customer c left join corder o \
             on o.qty = c.score and o.order_id < 40 where c.customer_id < 40 and o.qty = {v}",
            "select /*vt+ ALLOW_HASH_JOIN */ c.customer_id, o.order_id from customer c join corder o \
             on c.score = o.qty where c.customer_id < 100 and o.qty = {v}",
            "select c.customer_id, t.n from customer c join (select qty, count(*) as n from corder \
             group by qty) t on t.qty = c.score where c.customer_id < 60 and t.qty = {v}",
        ] {
            out.push(q(shape.replace("{v}", v), false));
        }
    }
    for v in texts {
        for shape in [
            "select * from (select name, count(*) as n from customer group by name) d \
             where d.name = {v}",
            "select * from (select region, count(*) as n from customer group by region) d \
             where d.region in ({v}, 'x')",
            "select * from (select note, count(*) as n from corder group by note) d \
             where d.note = {v}",
            "select * from (select note, count(*) as n from corder group by note) d \
             where d.note > {v}",
            "select c.customer_id, o.note from customer c left join corder o \
             on o.customer_id = c.score and o.order_id < 400 where c.customer_id < 50 \
             and o.note = {v}",
            "select /*vt+ ALLOW_HASH_JOIN */ c.customer_id, d.customer_id from customer c \
             join customer d on d.name = c.name where c.customer_id < 30 and d.customer_id < 30 \
             and d.name = {v}",
        ] {
            out.push(q(shape.replace("{v}", v), false));
        }
    }
}

/// DML routed by `customer_id` literals of several spellings, then the whole tables.
pub(super) fn literal_dml() -> Vec<String> {
    vec![
        "update customer set score = 500 where customer_id = '8 '".into(),
        "update customer set score = 501 where customer_id = '9.0'".into(),
        "update customer set score = 502 where customer_id in ('11', ' 12', '+13')".into(),
        format!(
            "update customer set score = 503 where customer_id = '{}'",
            customer_id(20) + 1
        ),
        "delete from corder where customer_id = ' 14'".into(),
        "delete from corder where customer_id in ('15.0', 16)".into(),
        "update corder set qty = 99 where customer_id = '1e1'".into(),
    ]
}

/// Prepared statements and the parameter rows each runs with, in turn (binary protocol).
pub fn prepared() -> Vec<(&'static str, Vec<Vec<Value>>)> {
    let big = customer_id(10);
    let ids: Vec<Value> = vec![
        Value::Int(7),
        Value::UInt(7),
        Value::Bytes(b"7".to_vec()),
        Value::Bytes(b" 7".to_vec()),
        Value::Bytes(b"7.0".to_vec()),
        Value::Bytes(b"07".to_vec()),
        Value::NULL,
        Value::Int(-7),
        Value::UInt(u64::MAX),
        Value::Bytes(b"18446744073709551615".to_vec()),
        Value::Double(7.0),
        Value::Double(7.5),
        Value::Int(big as i64),
        Value::UInt(big),
        Value::Bytes(big.to_string().into_bytes()),
        Value::Bytes((big + 1).to_string().into_bytes()),
        Value::Bytes(b"abc".to_vec()),
        Value::Int(3),
    ];
    let one = |vs: &[Value]| vs.iter().map(|v| vec![v.clone()]).collect::<Vec<_>>();
    let pairs: Vec<Vec<Value>> = ids
        .iter()
        .map(|v| vec![v.clone(), Value::Int(3)])
        .chain(ids.iter().map(|v| vec![Value::NULL, v.clone()]))
        .collect();
    let names: Vec<Value> = ["alice", "ALICE ", "Bob", " bob", "0", "zz"]
        .iter()
        .map(|s| Value::Bytes(s.as_bytes().to_vec()))
        .chain([Value::NULL, Value::Int(0)])
        .collect();
    vec![
        (
            "select customer_id, name, score from customer where customer_id = ?",
            one(&ids),
        ),
        (
            "select order_id, price from corder where customer_id = ?",
            one(&ids),
        ),
        (
            "select customer_id from customer where customer_id in (?, ?)",
            pairs.clone(),
        ),
        (
            "select customer_id from customer where customer_id = ? or customer_id = ?",
            pairs,
        ),
        (
            "select customer_id from customer where customer_id between ? and 12",
            one(&ids),
        ),
        (
            "select c.customer_id, o.order_id from customer c join corder o \
             on c.customer_id = o.customer_id where c.customer_id = ?",
            one(&ids),
        ),
        (
            "select * from (select customer_id, name from customer where customer_id = ?) d",
            one(&ids),
        ),
        (
            "select customer_id, name from customer where name = ?",
            one(&names),
        ),
        (
            "select count(*) from customer where name in (?, 'eve')",
            one(&names),
        ),
        (
            "select customer_id from customer where customer_id <=> ?",
            one(&ids),
        ),
    ]
}

/// Routing edges: IN lists with NULL, contradictions, ORs of vindex values and other
/// columns, tuples, and aggregates over routes that can match no row (which still answer
/// one row).
pub(super) fn routing_edge_queries(out: &mut Vec<Query>) {
    for w in [
        "customer_id in (null)",
        "customer_id in (null, 3)",
        "customer_id not in (3, null)",
        "customer_id = null",
        "customer_id <=> null",
        "customer_id = 3 or customer_id = null",
        "customer_id = 3 or customer_id in (4, 5)",
        "(customer_id = 3 or customer_id = 4) and score > 0",
        "(customer_id = 3 and score = 91) or customer_id = 4",
        "customer_id = 3 or score = 5",
        "customer_id in (3, 4) and customer_id in (4, 5)",
        "customer_id = 3 and customer_id = 4",
        "customer_id = 3 and customer_id in (3, 4)",
        "customer_id in (3, 3, 3)",
        "(customer_id, score) in ((3, null), (4, 51))",
        "(customer_id, score) = (3, 91)",
        "(score, customer_id) in ((91, 3), (51, 4))",
        "customer_id = 3 xor customer_id = 4",
        "customer_id in ('3', 4.0)",
        "customer_id = 3 or customer_id is null",
        "customer_id in (3) is true",
        "customer_id = 3 and 1 = 0",
        "1 = 0",
        "null",
        "false",
        "customer_id = 3 and not (customer_id = 3)",
        "customer_id = score and score = 3",
        "customer_id = score and score = '3'",
        "customer_id = big and big = 3",
        "customer_id = balance and balance = 3",
        "customer_id = email and email = '3'",
        "customer_id in (select customer_id from corder where order_id in (null, 21))",
    ] {
        out.push(q(
            format!("select customer_id, score from customer where {w}"),
            false,
        ));
        out.push(q(
            format!("select count(*), max(score), sum(score) from customer where {w}"),
            false,
        ));
        out.push(q(
            format!("select score, count(*) from customer where {w} group by score"),
            false,
        ));
    }
    // Literals after a subquery's WHERE, outside any WHERE of their own (the normaliser
    // works on tokens: they must stay as written or mean the same).
    for sql in [
        "select (select max(score) from customer c2 where c2.customer_id = 3) as m, \
         score = 5 and region = 'us' as f from customer where customer_id < 20",
        "select customer_id, (select count(*) from corder o where o.customer_id = c.customer_id \
         and o.qty = 3) = 2 and score = 5 as f from customer c where customer_id < 30",
        "select c.customer_id from customer c join (select customer_id from corder \
         where qty = 3) d on d.customer_id = c.customer_id and c.score = 5",
        "select customer_id from customer where customer_id < 40 and score in \
         (select qty from corder where order_id < 50) = 1",
        "select customer_id, score between 1 and 50 and score = 7 from customer where customer_id < 20",
        "select customer_id from customer where score = 5 - 2 or score = 2 * 3 or score = 5 div 2",
        "select customer_id from customer where score = 5 is true or score = 3 = 1",
        "select customer_id from customer where score between 1 and 5 + 1",
        "select customer_id from customer where score = 1 between 0 and 2",
        "select customer_id from customer where score <=> 5 or score <> 5 and score < 10",
        "select customer_id from customer where name = 'bob' collate utf8mb4_bin",
    ] {
        out.push(q(sql, false));
    }
    // Correlated subqueries beside aggregation, NULLs, derived tables and ORDER BY.
    for sql in [
        "select count(*) from customer c where exists \
         (select 1 from corder o where o.customer_id = c.customer_id)",
        "select c.region, count(*) from customer c where not exists \
         (select 1 from corder o where o.customer_id = c.customer_id) group by c.region",
        "select c.customer_id from customer c where c.score not in (select o.qty from corder o \
         where o.customer_id = c.customer_id) and c.customer_id < 200",
        "select c.customer_id from customer c where c.score not in (select o.qty from corder o \
         where o.customer_id = c.customer_id and o.qty is not null) and c.customer_id < 200",
        "select d.customer_id from (select customer_id, score from customer where score > 50) d \
         where exists (select 1 from corder o where o.customer_id = d.customer_id)",
        "select c.customer_id, c.score from customer c where exists (select 1 from corder o \
         where o.customer_id = c.customer_id) order by c.score desc, c.customer_id limit 7",
        "select c.customer_id, (select max(o.price) from corder o \
         where o.customer_id = c.customer_id) as m from customer c order by m desc, \
         c.customer_id limit 5",
        "select o.order_id from corder o where o.price > (select avg(p.price) from corder p \
         where p.customer_id = o.customer_id) and o.order_id < 300",
        "select c.customer_id from customer c where (select count(*) from corder o \
         where o.customer_id = c.customer_id) = 0 and c.customer_id < 100",
        "select c.customer_id, (select o.order_id from corder o where o.customer_id = \
         c.customer_id order by o.order_id limit 1) from customer c where c.customer_id < 50",
        "select d.customer_id, (select count(*) from corder o where o.customer_id = d.customer_id) \
         from (select customer_id from customer where score > 90) d",
        "select d.customer_id from (select customer_id from customer where score > 90) d \
         where d.customer_id in (select o.customer_id from corder o where o.qty = 3)",
        "select d.customer_id from (select customer_id, score from customer) d \
         where d.score > (select max(o.qty) from corder o where o.customer_id = d.customer_id)",
        "select c.customer_id from customer c where exists \
         (select 1 from corder o where o.customer_id = c.customer_id and o.qty = score)",
        "select c.customer_id from customer c where exists \
         (select 1 from corder o where o.customer_id = customer_id and o.qty = 9)",
        "select c.customer_id from customer c join corder o on o.customer_id = c.customer_id \
         and o.qty = (select max(p.qty) from corder p where p.customer_id = c.customer_id)",
        "select c.region, count(*) from customer c group by c.region \
         having count(*) > (select count(*) from corder o where o.qty = 3) / 10",
        "select c.customer_id from customer c where c.customer_id < 40 order by \
         (select count(*) from corder o where o.customer_id = c.customer_id), c.customer_id",
        "select t.customer_id from (select c.customer_id from customer c where exists \
         (select 1 from corder o where o.customer_id = c.customer_id and o.qty = 2)) t",
    ] {
        out.push(q(sql, sql.contains("limit 7") || sql.contains("limit 5")));
    }
    // UNIONs whose sides are normalised separately, with ORDER BY/LIMIT over the union.
    for (a, b) in [
        ("3", "'4'"),
        ("'3'", "4"),
        ("' 3'", "3"),
        ("3", "3"),
        ("18446744073709551615", "3"),
    ] {
        for shape in [
            "select customer_id, score from customer where customer_id = {a} union \
             select customer_id, score from customer where customer_id = {b}",
            "select customer_id from customer where customer_id in ({a}, 5) union all \
             select customer_id from customer where customer_id = {b} order by customer_id",
            "select score from customer where customer_id = {a} union \
             select qty from corder where customer_id = {b} order by 1 limit 3",
            "select count(*) from (select customer_id from customer where customer_id = {a} \
             union select customer_id from customer where customer_id between {b} and 20) u",
        ] {
            let sql = shape.replace("{a}", a).replace("{b}", b);
            let ordered = sql.contains("order by");
            out.push(q(sql, ordered));
        }
    }
    for sql in [
        "select 1 from dual where 1 = 0",
        "select count(*) from dual where 1 = 0",
        "select 1 where null",
        "select count(*), sum(price) from corder where customer_id in (null)",
        "select count(*) + 1, max(price) * 2 from corder where customer_id = null",
        "select c.customer_id, o.order_id from customer c join corder o \
         on o.customer_id = c.customer_id where c.customer_id in (null, 3)",
        "select c.customer_id, o.order_id from customer c left join corder o \
         on o.customer_id = c.customer_id and o.customer_id in (null) where c.customer_id < 5",
    ] {
        out.push(q(sql, false));
    }
}

/// DML vtgate must either run with MariaDB's effect or refuse with VT12001 (checked by
/// affected rows and the whole tables afterwards): LIMIT and ORDER BY across shards,
/// uncorrelated subqueries over other shards' rows, vindex columns changed, joins.
pub fn risky_dml() -> Vec<&'static str> {
    vec![
        "update customer set score = 901 where region = 'us' limit 2",
        "update customer set score = 902 order by customer_id limit 3",
        "delete from corder where price > 5000 order by price desc, order_id limit 3",
        "delete from corder where customer_id = 3 order by order_id limit 1",
        "update customer set big = 903 where score in (select qty from corder where order_id < 10)",
        "update customer set big = 904 where score = (select min(qty) from corder where qty > 0)",
        "delete from corder where qty = (select max(score) from customer where customer_id < 9)",
        "update customer set score = (select max(qty) from corder) where customer_id = 21",
        "update customer set big = 905 where customer_id in \
         (select customer_id from corder where qty = 9 and order_id < 400)",
        "update customer set big = 906 where exists \
         (select 1 from corder o where o.qty = customer.score and o.order_id < 30)",
        "update customer set customer_id = 4 where customer_id = 1501",
        "update customer c join corder o on o.customer_id = c.customer_id \
         set c.big = 907 where o.order_id = 77",
        "delete o from corder o join customer c on o.customer_id = c.customer_id \
         where c.score = 3 and c.customer_id < 400",
        "delete from corder where customer_id in (select customer_id from customer where score = 4)",
        // Several tables co-located with the targets: sent whole; otherwise refused.
        "update corder o join customer c on c.customer_id = o.customer_id set o.qty = c.score \
         where c.region = 'eu' and o.order_id < 500",
        "update customer set score = (select count(*) from corder \
         where corder.customer_id = customer.customer_id) where customer_id < 100",
        "update corder o join product p on p.sku = o.sku set o.price = p.price + o.qty \
         where o.order_id between 500 and 700",
        "delete o from corder o join product p on p.sku = o.sku where p.price > 200 \
         and o.order_id < 900",
        "delete c, o from customer c join corder o on o.customer_id = c.customer_id \
         where c.customer_id in (11, 12, 13)",
        // Not co-located: the rows' primary keys are selected first.
        "update customer c join corder o on o.order_id = c.customer_id set c.score = o.qty \
         where o.price > 100",
        "delete c from customer c join corder o on o.order_id = c.customer_id where o.qty = 1",
        "update customer set score = score + 1 order by score desc, customer_id limit 3",
        "update corder set qty = (select count(*) from customer c where c.score = corder.qty) \
         where order_id < 50",
        "delete from corder where exists \
         (select 1 from customer c where c.customer_id = corder.order_id and c.score > 90)",
        "delete from customer where customer_id between 20 and 40 and not exists \
         (select 1 from corder o where o.customer_id = customer.customer_id)",
        "update corder o join customer c on c.score = o.qty set o.note = 'x' where o.order_id < 10",
        // SET subqueries run first (another keyspace's: see `dml_sequences`); the updated
        // table's is refused.
        "update customer set big = (select count(*) from corder where qty = 9) where region = 'ap'",
        "update corder set qty = (select max(qty) from corder) where order_id = 5",
        "delete o from corder o join customer c on c.score = o.qty where o.order_id < 10",
        "insert into corder (order_id, customer_id, sku, price) select order_id + 300000, \
         customer_id, sku, price from corder where qty = 1 and order_id < 300",
        "insert into corder (order_id, customer_id, sku, price) select order_id + 400000, \
         customer_id, sku, price from corder order by price desc, order_id limit 5",
    ]
}

/// DML prepared once and run with each parameter row (binary protocol), on both sides.
pub fn prepared_dml() -> Vec<(&'static str, Vec<Vec<Value>>)> {
    let s = |v: &str| Value::Bytes(v.as_bytes().to_vec());
    vec![
        (
            "update customer set score = ? where customer_id = ?",
            vec![
                vec![Value::Int(911), Value::Int(31)],
                vec![Value::Int(912), s("32")],
                vec![Value::NULL, s(" 33")],
                vec![s("914"), s("34.0")],
                vec![Value::Int(-915), Value::UInt(35)],
                vec![Value::Int(916), Value::NULL],
                vec![Value::Int(917), Value::UInt(u64::MAX)],
                vec![Value::Double(918.0), Value::Double(36.0)],
            ],
        ),
        (
            "update customer set name = ? where customer_id in (?, ?)",
            vec![
                vec![s("Ünï"), Value::Int(37), s("38")],
                vec![Value::NULL, Value::Int(39), Value::NULL],
                vec![s("o'q\\\"x"), s("41 "), Value::Int(42)],
            ],
        ),
        (
            "delete from corder where customer_id = ? and qty = ?",
            vec![
                vec![Value::Int(43), Value::Int(1)],
                vec![s("44"), s("2")],
                vec![s("45.0"), Value::NULL],
                vec![Value::UInt(46), s("3x")],
            ],
        ),
    ]
}

/// Savepoints across shards: rows written on one shard before a savepoint and on others
/// after it (so those shards join the transaction after the SAVEPOINT), partial rollbacks,
/// a name reused, names in other case, RELEASE; then COMMIT.
pub(super) fn savepoint_sequence() -> Vec<String> {
    [
        "begin",
        "update customer set score = 801 where customer_id = 1",
        "savepoint s1",
        "update customer set score = 802 where customer_id in (2, 3, 4, 5, 6)",
        "insert into corder (order_id, customer_id, sku, price) values (97001, 2, 'SKU1', 1), \
         (97002, 3, 'SKU2', 2), (97003, 4, 'SKU3', 3)",
        "rollback to S1",
        "update customer set score = 803 where customer_id in (6, 8)",
        "savepoint s2",
        "delete from corder where customer_id in (8, 9, 11)",
        "savepoint S1",
        "update customer set score = 804 where customer_id in (12, 13, 14)",
        "rollback to savepoint s1",
        "update customer set score = 805 where customer_id = 15",
        "rollback to s2",
        "savepoint s3",
        "update customer set score = 806 where customer_id in (16, 17)",
        "release savepoint s3",
        "commit",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}
