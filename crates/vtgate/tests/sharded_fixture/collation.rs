//! Text vtgate compares itself: rows whose `_ci` (PAD SPACE) values differ from others only
//! by case, trailing spaces or accents (`Straße`/`strasse`/`ß`/`s`, `é`/`E`, `''`/`' '`),
//! spread over the shards, then GROUP BY, DISTINCT, COUNT(DISTINCT), MIN/MAX, ORDER BY with
//! LIMIT, UNION and hash joins on them: vtgate merges and orders what the shards sent, and
//! must do it with MariaDB's collation rules.

use super::{q, Query};

/// Inserts the rows (ids 7001.. on every shard, the orders on their customers).
pub(super) fn collation_setup() -> Vec<String> {
    let names = [
        "'alice '",
        "'ALICE  '",
        "'Straße'",
        "'strasse'",
        "'STRASSE'",
        "'ß'",
        "'s'",
        "'S '",
        "'é'",
        "'E'",
        "'e '",
        "'Ä'",
        "'a'",
        "''",
        "' '",
        "NULL",
        "'Bob'",
        "'bob   '",
    ];
    let rows: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let region = ["'u '", "'US'", "'us'", "' '", "NULL"][i % 5];
            format!("({}, 'c{i}@x ', {n}, {}, {region})", 7001 + i, i % 4)
        })
        .collect();
    let orders: Vec<String> = (0..names.len())
        .map(|i| {
            let note = ["'GIFT '", "'gift  '", "'Gift'", "'gıft'", "NULL", "'x'"][i % 6];
            format!(
                "({}, {}, 'SKU{}', {}, {}, {note})",
                95001 + i,
                7001 + i,
                i % 3,
                i * 5,
                i % 4
            )
        })
        .collect();
    vec![
        format!(
            "insert into customer (customer_id, email, name, score, region) values {}",
            rows.join(", ")
        ),
        format!(
            "insert into corder (order_id, customer_id, sku, price, qty, note) values {}",
            orders.join(", ")
        ),
    ]
}

/// The checks after [`collation_setup`].
pub(super) fn collation_checks() -> Vec<Query> {
    let mut out = Vec::new();
    for sql in [
        "select name, count(*) from customer where customer_id > 7000 group by name",
        "select count(distinct name), count(distinct region), count(*) from customer \
         where customer_id > 7000",
        "select count(distinct name) from customer where customer_id > 7000",
        "select count(distinct region) from customer where customer_id > 7000",
        "select distinct name from customer where customer_id > 7000",
        "select min(name), max(name) from customer where customer_id > 7000",
        "select region, min(name), max(name), count(*) from customer where customer_id > 7000 \
         group by region",
        "select name from customer where customer_id > 7000 union \
         select note from corder where order_id > 95000",
        "select count(*) from (select distinct name from customer where customer_id > 7000) d",
        "select note, count(*), sum(qty) from corder where order_id > 95000 group by note",
        "select /*vt+ ALLOW_HASH_JOIN */ c.customer_id, d.customer_id from customer c \
         join customer d on d.name = c.name where c.customer_id > 7000 and d.customer_id > 7000",
        "select /*vt+ ALLOW_HASH_JOIN */ c.customer_id, d.customer_id from customer c \
         left join customer d on d.region = c.region and d.customer_id > 7000 \
         where c.customer_id > 7000",
        "select c.customer_id, d.customer_id from customer c join customer d \
         on d.name = c.name where c.customer_id > 7000 and d.customer_id > 7000",
        "select c.customer_id, t.n from customer c join (select name, count(*) as n \
         from customer where customer_id > 7000 group by name) t on t.name = c.name \
         where c.customer_id > 7000",
        "select o.order_id, t.n from corder o left join (select note, count(*) as n \
         from corder where order_id > 95000 group by note) t on t.note = o.note \
         where o.order_id > 95000",
        "select customer_id, name from customer where name = 'ALICE' and customer_id > 7000",
        "select customer_id, name from customer where name in ('STRASSE ', 'e') \
         and customer_id > 7000",
        "select customer_id from customer where region = 'U' and customer_id > 7000",
        "select sum(distinct score), count(*) from customer where customer_id > 7000",
        // An expression in a `_bin` collation (flagged BINARY by MariaDB): byte order.
        "select name collate utf8mb4_bin as x, count(*) from customer \
         where customer_id > 7000 group by x",
        "select min(name collate utf8mb4_bin), max(name collate utf8mb4_bin) from customer \
         where customer_id > 7000",
    ] {
        out.push(q(sql, false));
    }
    // Ordered by text then the key: vtgate's merge of the shards' sorted streams.
    for (col, dir) in [
        ("name", "asc"),
        ("name", "desc"),
        ("region", "asc"),
        ("email", "desc"),
        ("name collate utf8mb4_bin", "asc"),
    ] {
        out.push(q(
            format!(
                "select customer_id, {col} from customer where customer_id > 7000 \
                 order by {col} {dir}, customer_id"
            ),
            true,
        ));
        out.push(q(
            format!(
                "select customer_id, {col} from customer where customer_id > 7000 \
                 order by {col} {dir}, customer_id limit 5 offset 2"
            ),
            true,
        ));
    }
    out
}

/// Text that MariaDB's SUM/AVG(DISTINCT) dedupes by its number (`'5'`, `'05'`, `'5.0'`,
/// `' 5'` are one value 5) while GROUP BY and COUNT(DISTINCT) keep them apart.
pub(super) fn numeric_text_setup() -> Vec<String> {
    let notes = [
        "'5'", "'05'", "'5.0'", "' 5'", "'5 '", "'5x'", "'abc'", "'-5'", "'1e1'", "'10'",
    ];
    let rows: Vec<String> = notes
        .iter()
        .enumerate()
        .map(|(i, n)| format!("({}, {}, 'SKU1', {}, 1, {n})", 96001 + i, 7001 + i, 100 + i))
        .collect();
    vec![format!(
        "insert into corder (order_id, customer_id, sku, price, qty, note) values {}",
        rows.join(", ")
    )]
}

/// The checks after [`numeric_text_setup`].
pub(super) fn numeric_text_checks() -> Vec<Query> {
    [
        "select sum(distinct note) from corder where order_id > 96000",
        "select avg(distinct note) from corder where order_id > 96000",
        "select count(distinct note) from corder where order_id > 96000",
        "select sum(distinct note), count(*) from corder where order_id > 96000",
        "select qty, sum(distinct note) from corder where order_id > 96000 group by qty",
        "select sum(note), avg(note), min(note), max(note) from corder where order_id > 96000",
        "select sum(distinct note + 0) from corder where order_id > 96000",
        "select note, count(*) from corder where order_id > 96000 and note = 5 group by note",
        "select count(*) from corder where order_id > 96000 and note = 5",
        "select count(*) from corder where order_id > 96000 and note = '5'",
        "select order_id from corder where order_id > 96000 order by note, order_id",
    ]
    .into_iter()
    .map(|sql| q(sql, sql.contains("order by")))
    .collect()
}

/// Text columns in collations other than the table's default (`_bin`, `_nopad`,
/// `_unicode_ci`): MariaDB reports them all as `utf8mb4_general_ci`, and vtgate must still
/// merge, group and de-duplicate them by their own collation (or refuse).
pub(super) fn column_collations_setup() -> Vec<String> {
    let values = [
        ("'a'", "'_'", "'a'"),
        ("'B'", "'a'", "'a '"),
        ("'a'", "'b'", "'b'"),
        ("'A'", "'A'", "'A'"),
        ("'b '", "'B '", "'b '"),
        ("'_'", "'-'", "' '"),
        ("NULL", "NULL", "NULL"),
        ("'B'", "'z'", "'a'"),
        ("''", "''", "''"),
        ("' '", "' '", "'a  '"),
    ];
    let rows: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, (tag, label, np))| {
            // Customers 1..=10: the rows land on every shard.
            format!("({}, {}, {tag}, {label}, {np})", 97001 + i, 1 + i)
        })
        .collect();
    vec![
        "alter table corder add column tag varchar(12) collate utf8mb4_bin, \
         add column label varchar(12) collate utf8mb4_unicode_ci, \
         add column np varchar(12) collate utf8mb4_general_nopad_ci, \
         add column lb varchar(12) character set latin1 collate latin1_bin"
            .to_string(),
        format!(
            "insert into corder (order_id, customer_id, tag, label, np) values {}",
            rows.join(", ")
        ),
        "update corder set note = tag where order_id > 97000".to_string(),
        // Converted to utf8mb4 on the wire and reported as utf8mb4_general_ci, flagged BINARY.
        "update corder set lb = tag where order_id > 97000".to_string(),
    ]
}

/// The checks after [`column_collations_setup`].
pub(super) fn column_collations_checks() -> Vec<Query> {
    let mut out = Vec::new();
    let new_rows = "from corder where order_id > 97000";
    // Across shards, one side's value is compared on the other as a literal, under that
    // side's collation; MariaDB compares the pair under one collation (here the `_bin` one).
    // From the general_ci side that is the same answer; from the `utf8mb4_bin` side the
    // literal carries `COLLATE utf8mb4_bin`, which wins over `general_ci`, `unicode_ci`,
    // `general_nopad_ci` and latin1's `_bin` as the column does; from the converted
    // latin1_bin side it is refused. (Pairs MariaDB refuses to compare, general_ci with
    // nopad_ci, vtgate still answers.)
    for (a, b) in [
        ("note", "tag"),
        ("tag", "note"),
        ("tag", "label"),
        ("tag", "np"),
        ("tag", "lb"),
        ("lb", "note"),
    ] {
        out.push(q(
            format!(
                "select o.order_id, p.order_id from corder o join corder p on o.{a} = p.{b} \
                 where o.order_id > 97000 and p.order_id > 97000"
            ),
            false,
        ));
        out.push(q(
            format!(
                "select order_id {new_rows} and {b} in \
                 (select {a} from corder where order_id > 97000)"
            ),
            false,
        ));
    }
    // CONCAT over a join: `_bin` with `general_ci` is `_bin` (grouped by it), and
    // `unicode_ci` with `general_ci` is MariaDB's illegal mix (1267), which vtgate refuses.
    out.push(q(
        "select concat('-', o.tag, c.email) as t, count(*) from corder o join customer c \
         on c.customer_id = o.customer_id where o.order_id > 97000 group by t",
        false,
    ));
    out.push(q(
        "select c.customer_id, concat(o.label, c.region, 7, -2.50) from customer c \
         left join corder o on o.customer_id = c.score and o.order_id > 97000 \
         where c.customer_id < 12",
        false,
    ));
    // A UNION of the converted latin1_bin column with a general_ci one.
    out.push(q(
        format!("select lb as x {new_rows} and customer_id < 5 union select note {new_rows}"),
        false,
    ));
    for col in ["tag", "np", "label", "lb", "note collate utf8mb4_bin"] {
        for sql in [
            format!("select {col} as x, count(*) {new_rows} group by x"),
            format!("select distinct {col} as x {new_rows}"),
            format!("select count(distinct {col}) {new_rows}"),
            format!("select min({col}), max({col}) {new_rows}"),
            format!(
                "select {col} as x {new_rows} and customer_id < 5 union \
                 select {col} as x {new_rows} and customer_id >= 5"
            ),
            format!("select x, count(*) from (select {col} as x {new_rows}) t group by x"),
        ] {
            out.push(q(sql, false));
        }
        for order in ["x, order_id", "x desc, order_id"] {
            out.push(q(
                format!("select order_id, {col} as x {new_rows} order by {order}"),
                true,
            ));
            out.push(q(
                format!("select order_id, {col} as x {new_rows} order by {order} limit 3"),
                true,
            ));
        }
    }
    out
}
