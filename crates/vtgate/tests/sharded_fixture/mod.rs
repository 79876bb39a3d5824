//! The sharded differential test's data and queries, generated from templates x columns x
//! values: customers (mixed-case text in a `_ci` collation, NULLs, large BIGINTs, decimals),
//! their orders (same `hash` vindex column), and a reference table of products.

#![allow(dead_code, clippy::manual_is_multiple_of)]

mod collation;
mod correlated;
mod ctes;
mod dml;
mod hash_joins;
mod hunt;
mod join_order;
mod join_projection;
mod literals;
mod loose_aggregates;
mod outer_joins;
mod pullouts;
mod random;
mod semi_joins;
mod shapes;
mod shard_local;
mod tracked_columns;

pub use correlated::refused_correlated;
pub use dml::dml_sequences;
pub use literals::{prepared, prepared_dml, risky_dml};
pub use random::{random_dml, random_queries};
use shapes::{
    aggregate_arithmetic, cross_keyspace_queries, edge_queries, more_queries,
    same_shard_join_queries,
};

/// One query and whether its ORDER BY is total (rows compared in order).
pub struct Query {
    pub sql: String,
    pub ordered: bool,
}

fn q(sql: impl Into<String>, ordered: bool) -> Query {
    Query {
        sql: sql.into(),
        ordered,
    }
}

pub const CUSTOMERS: u64 = 1500;
pub const ORDERS: u64 = 4000;
const NAMES: &[&str] = &[
    "Alice", "alice", "ALICE", "Bob", "bob", "Carol", "dave", "Eve",
];
const REGIONS: &[&str] = &["us", "eu", "ap", "US", "Eu"];

/// Customer ids: small ones, and every 10th a large BIGINT.
pub fn customer_id(i: u64) -> u64 {
    if i % 10 == 0 {
        9_000_000_000_000_000_000 + i * 1_000_003
    } else {
        i
    }
}

fn lit(v: Option<String>) -> String {
    v.unwrap_or_else(|| "NULL".into())
}

fn customer_row(i: u64) -> String {
    let id = customer_id(i);
    let name = (i % 9 != 0).then(|| format!("'{}'", NAMES[(i % 8) as usize]));
    let score = (i % 7 != 0).then(|| (((i * 37) % 100) as i64 - 20).to_string());
    let balance = (i % 11 != 0).then(|| format!("{}.{:02}", (i * 13) % 5000, i % 100));
    let big = match i % 13 {
        0 => None,
        1 => Some("9223372036854775807".to_string()),
        2 => Some("-9223372036854775807".to_string()),
        _ => Some(((i as i64 - 700) * 1_000_000_000_007).to_string()),
    };
    let region = (i % 6 != 5).then(|| format!("'{}'", REGIONS[(i % 5) as usize]));
    format!(
        "({id}, 'user{i}@Example.COM', {}, {}, {}, {}, {})",
        lit(name),
        lit(score),
        lit(balance),
        lit(big),
        lit(region)
    )
}

fn order_row(i: u64) -> String {
    let cust = customer_id((i * 7) % (CUSTOMERS + 20) + 1);
    let sku = (i % 10 != 0).then(|| format!("'SKU{}'", i % 25));
    let qty = (i % 8 != 0).then(|| ((i * 3) % 10).to_string());
    let note = match i % 4 {
        0 => None,
        1 => Some("'Gift'".to_string()),
        2 => Some("'gift'".to_string()),
        _ => Some(format!("'note{}'", i % 17)),
    };
    format!(
        "({i}, {cust}, {}, {}, {}, {})",
        lit(sku),
        (i * 101) % 10_000,
        lit(qty),
        lit(note)
    )
}

/// Multi-row INSERTs of the fixture, 50 rows each.
pub fn fixture_inserts() -> Vec<String> {
    let mut out = Vec::new();
    let ids: Vec<u64> = (1..=CUSTOMERS).collect();
    for chunk in ids.chunks(50) {
        let rows: Vec<String> = chunk.iter().map(|&i| customer_row(i)).collect();
        out.push(format!(
            "insert into customer (customer_id, email, name, score, balance, big, region) \
             values {}",
            rows.join(", ")
        ));
    }
    let ids: Vec<u64> = (1..=ORDERS).collect();
    for chunk in ids.chunks(50) {
        let rows: Vec<String> = chunk.iter().map(|&i| order_row(i)).collect();
        out.push(format!(
            "insert into corder (order_id, customer_id, sku, price, qty, note) values {}",
            rows.join(", ")
        ));
    }
    // A BIGINT keyed by `xxhash`, which hashes a value's text: `'05'` must still find 5,
    // and text that is no number at all (`'abc'`) the row 0.
    let tally: Vec<String> = (0..=200).map(|i| format!("({i}, {})", i % 7)).collect();
    out.push(format!(
        "insert into tally (id, n) values {}",
        tally.join(", ")
    ));
    // Text keyed by `unicode_loose_md5`, some of it reading as numbers to MySQL.
    out.push(
        "insert into word (id, w) values (1, '5'), (2, '5abc'), (3, '05'), (4, ' 5'), \
         (5, 'x'), (6, 'uni'), (7, '7'), (8, '7.0'), (9, 'X'), (10, '0')"
            .to_string(),
    );
    out
}

/// The reference table's rows (loaded into every shard and the plain database).
pub fn product_inserts() -> Vec<String> {
    let rows: Vec<String> = (0..22)
        .map(|i| {
            let desc = if i % 5 == 0 {
                "NULL".to_string()
            } else {
                format!("'Product {}'", i % 7)
            };
            format!("('SKU{i}', {desc}, {})", i * 10)
        })
        .collect();
    vec![format!(
        "insert into product (sku, description, price) values {}",
        rows.join(", ")
    )]
}

/// Rows of the unsharded keyspace's `warehouse` (loaded through vtgate into `commerce`).
pub fn warehouse_insert() -> String {
    let rows: Vec<String> = (0..30)
        .map(|i| {
            let stock = if i % 6 == 0 {
                "NULL".to_string()
            } else {
                (i * 7 % 40).to_string()
            };
            format!(
                "('SKU{i}', {stock}, '{}')",
                ["Paris", "paris", "Oslo"][i % 3]
            )
        })
        .collect();
    format!(
        "insert into warehouse (sku, stock, city) values {}",
        rows.join(", ")
    )
}

/// Sample customer ids: existing small and large ones, and missing ones.
fn sample_ids() -> Vec<String> {
    let mut v: Vec<String> = [1, 2, 3, 7, 10, 20, 99, 500, 1000, 1499, 1500]
        .iter()
        .map(|&i| customer_id(i).to_string())
        .collect();
    v.extend(["0", "1501", "123456789", "18446744073709551615"].map(String::from));
    v
}

const NUM_COLS: &[&str] = &["score", "big", "balance"];
const ALL_COLS: &[&str] = &["score", "big", "balance", "name", "region", "email"];

/// The SELECTs, generated.
pub fn queries() -> Vec<Query> {
    let mut out = Vec::new();
    let ids = sample_ids();
    // Point selects and IN lists.
    for id in &ids {
        out.push(q(
            format!("select * from customer where customer_id = {id}"),
            false,
        ));
        out.push(q(
            format!("select order_id, price, note from corder where customer_id = {id} order by order_id"),
            true,
        ));
    }
    for w in ids.windows(3) {
        out.push(q(
            format!(
                "select customer_id, name, score from customer where customer_id in ({}, {}, {})",
                w[0], w[1], w[2]
            ),
            false,
        ));
    }
    // Scatter filters: column x operator x value.
    let filters: &[(&str, &[&str])] = &[
        (
            "score",
            &[
                "= 5",
                "< 0",
                "> 50",
                "between 10 and 20",
                "is null",
                "in (1, 2, 3)",
            ],
        ),
        (
            "big",
            &[
                "> 0",
                "< -1000000000000",
                "= 9223372036854775807",
                "is not null",
            ],
        ),
        ("balance", &["> 2500.50", "<= 100", "is null", "= 13.01"]),
        (
            "name",
            &[
                "= 'alice'",
                "= 'BOB'",
                "like 'a%'",
                "is null",
                "in ('eve', 'DAVE')",
                "> 'bob'",
            ],
        ),
        (
            "region",
            &["= 'us'", "<> 'eu'", "is null", "in ('AP', 'x')"],
        ),
        ("email", &["like 'user1%'", "= 'USER5@example.com'"]),
    ];
    for (col, preds) in filters {
        for p in *preds {
            out.push(q(
                format!("select customer_id, {col} from customer where {col} {p}"),
                false,
            ));
            out.push(q(
                format!("select count(*) from customer where {col} {p}"),
                false,
            ));
        }
    }
    // ORDER BY / LIMIT / OFFSET, totalled by the primary key.
    for col in ALL_COLS {
        for dir in ["asc", "desc"] {
            out.push(q(
                format!("select customer_id, {col} from customer order by {col} {dir}, customer_id {dir}"),
                true,
            ));
            for (limit, offset) in [(5, 0), (10, 3), (1, 1499), (7, 2000)] {
                out.push(q(
                    format!(
                        "select customer_id, {col} from customer order by {col} {dir}, customer_id \
                         limit {limit} offset {offset}"
                    ),
                    true,
                ));
            }
        }
        out.push(q(
            format!("select {col} from customer order by {col} limit 0"),
            true,
        ));
    }
    out.push(q(
        "select * from corder order by price desc, order_id limit 25",
        true,
    ));
    out.push(q(
        "select order_id from corder order by order_id limit 10, 5",
        true,
    ));
    // Aggregates.
    for col in NUM_COLS {
        out.push(q(
            format!(
                "select count(*), count({col}), sum({col}), min({col}), max({col}), avg({col}) \
                 from customer"
            ),
            false,
        ));
        out.push(q(
            format!("select sum({col}), count(distinct {col}) from customer where region = 'us'"),
            false,
        ));
    }
    for col in ["name", "region", "email"] {
        out.push(q(
            format!("select min({col}), max({col}), count(distinct {col}) from customer"),
            false,
        ));
    }
    // GROUP BY / HAVING / DISTINCT.
    for g in ["region", "name", "score"] {
        out.push(q(
            format!("select {g}, count(*), sum(score), max(big), min(balance) from customer group by {g}"),
            false,
        ));
        out.push(q(
            format!("select {g}, count(*) as c from customer group by {g} having count(*) > 100"),
            false,
        ));
        out.push(q(
            format!("select {g}, count(*) from customer group by {g} order by {g}"),
            false,
        ));
        out.push(q(format!("select distinct {g} from customer"), false));
        out.push(q(
            format!("select count(distinct {g}) from customer"),
            false,
        ));
    }
    out.push(q(
        "select region, name, count(*) from customer group by region, name",
        false,
    ));
    out.push(q(
        "select customer_id, count(*), sum(price) from corder group by customer_id",
        false,
    ));
    out.push(q(
        "select note, count(*), sum(qty), avg(price) from corder group by note having sum(qty) > 10",
        false,
    ));
    out.push(q("select distinct region, name from customer", false));
    out.push(q("select distinct note from corder order by note", false));
    // Joins: same shard (vindex column), reference table, cross-shard.
    for id in ids.iter().take(6) {
        out.push(q(
            format!(
                "select c.customer_id, c.email, o.order_id, o.price from customer c join corder o \
                 on c.customer_id = o.customer_id where c.customer_id = {id}"
            ),
            false,
        ));
    }
    out.push(q(
        "select c.customer_id, o.order_id from customer c join corder o \
         on c.customer_id = o.customer_id where o.price > 9000",
        false,
    ));
    out.push(q(
        "select c.region, count(*) from customer c join corder o on c.customer_id = o.customer_id \
         group by c.region",
        false,
    ));
    out.push(q(
        "select o.order_id, p.description from corder o join product p on o.sku = p.sku \
         where o.price < 500",
        false,
    ));
    out.push(q(
        "select c.customer_id, o.order_id from customer c left join corder o \
         on c.customer_id = o.customer_id where c.customer_id in (1, 2, 1499)",
        false,
    ));
    out.push(q(
        "select c.customer_id, o.order_id from customer c join corder o on c.score = o.qty \
         where c.customer_id < 30 and o.order_id < 40",
        false,
    ));
    out.push(q(
        "select c.name, o.note from customer c join corder o on c.name = o.note \
         where c.customer_id < 100",
        false,
    ));
    out.push(q(
        "select c.customer_id, o.order_id from customer c left join corder o on c.score = o.qty \
         and o.order_id < 20 where c.customer_id < 15",
        false,
    ));
    // Subqueries.
    for price in [100, 5000, 9900] {
        out.push(q(
            format!(
                "select customer_id, name from customer where customer_id in \
                 (select customer_id from corder where price > {price})"
            ),
            false,
        ));
        out.push(q(
            format!(
                "select count(*) from customer where customer_id not in \
                 (select customer_id from corder where price > {price} and customer_id is not null)"
            ),
            false,
        ));
    }
    out.push(q(
        "select customer_id from customer where score = (select max(qty) from corder)",
        false,
    ));
    out.push(q(
        "select count(*) from customer where exists (select 1 from corder where price > 9990)",
        false,
    ));
    out.push(q(
        "select t.region, t.n from (select region, count(*) as n from customer group by region) t",
        false,
    ));
    out.push(q(
        "select x.customer_id from (select customer_id, score from customer where score > 70) x",
        false,
    ));
    // UNION.
    out.push(q(
        "select region from customer union select note from corder",
        false,
    ));
    out.push(q(
        "select name from customer union all select note from corder where order_id < 50",
        false,
    ));
    out.push(q(
        "select customer_id from customer where customer_id = 1 union select customer_id from corder where order_id = 3",
        false,
    ));
    out.push(q(
        "select sku from product union select sku from corder",
        false,
    ));
    // Expressions.
    for e in [
        "score * 2 + 1",
        "coalesce(score, -1)",
        "concat(name, '-', region)",
        "lower(email)",
        "balance / 3",
        "big div 7",
        "score is null",
        "case when score > 50 then 'hi' else 'lo' end",
        "if(region = 'us', 1, 0)",
        "length(name) + score",
    ] {
        out.push(q(
            format!("select customer_id, {e} from customer where customer_id < 40"),
            false,
        ));
        out.push(q(
            format!("select customer_id, {e} as v from customer order by v, customer_id limit 12"),
            true,
        ));
    }
    for e in [
        "sum(score * 2)",
        "max(lower(name))",
        "count(if(score > 10, 1, null))",
    ] {
        out.push(q(
            format!("select region, {e} from customer group by region"),
            false,
        ));
    }
    aggregate_arithmetic(&mut out);
    more_queries(&mut out);
    edge_queries(&mut out);
    cross_keyspace_queries(&mut out);
    same_shard_join_queries(&mut out);
    hash_joins::hash_join_queries(&mut out);
    loose_aggregates::group_concat_queries(&mut out);
    loose_aggregates::any_value_queries(&mut out);
    out.extend(shapes::mysql_operator_queries());
    out.extend(shapes::temporal_value_queries());
    join_order::join_order_queries(&mut out);
    shard_local::shard_local_queries(&mut out);
    pullouts::pullout_queries(&mut out);
    outer_joins::outer_join_queries(&mut out);
    semi_joins::semi_join_queries(&mut out);
    join_projection::join_projection_queries(&mut out);
    correlated::correlated_queries(&mut out);
    correlated::per_row_values(&mut out);
    literals::literal_queries(&mut out);
    literals::vtgate_filter_queries(&mut out);
    literals::routing_edge_queries(&mut out);
    hunt::hunt_queries(&mut out);
    tracked_columns::tracked_column_queries(&mut out);
    ctes::cte_queries(&mut out);
    // `*` ordered by position.
    out.push(q(
        "select * from customer where customer_id < 30 order by 1",
        true,
    ));
    out.push(q(
        "select * from corder where order_id < 100 order by 4 desc, 1 limit 5",
        true,
    ));
    out.push(q(
        "select *, price from corder where order_id < 50 order by 7, 1",
        true,
    ));
    out.push(q(
        "select * from corder where order_id < 50 order by 2, qty",
        false,
    ));
    // `*` over a cross-shard join ordered by its (expanded) columns, quoted or not.
    out.push(q(
        "select c.*, o.`sku` from customer c join corder o on o.qty = c.score \
         where c.customer_id < 9 order by `o`.sku, c.customer_id limit 12",
        true,
    ));
    // Reference table alone.
    out.push(q("select * from product order by sku", true));
    out.push(q("select count(*), sum(price) from product", false));
    out
}
