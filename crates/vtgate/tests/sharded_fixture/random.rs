//! Random SELECTs over the fixture, from a seed: the hand-written queries test the shapes
//! their authors thought of; these combine tables, filters, expressions, aggregates, orders
//! and limits in ways nobody picked. Every query is one MariaDB answers deterministically:
//! no column outside GROUP BY, LIMIT only under an ORDER BY that is total (it ends with every
//! table's primary key, or covers every item of a DISTINCT or every GROUP BY column).
//!
//! The same seed gives the same queries, so a failure found by one run is found again:
//! `DIFF_SEED=n DIFF_RANDOM=count` run other ones (the test prints the seed it used).

use super::{q, Query};

/// splitmix64: small, seedable, and the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Int,
    Dec,
    Text,
}

/// A column, and values worth comparing it with (some present in the fixture, some not).
struct Col {
    name: &'static str,
    kind: Kind,
    values: &'static [&'static str],
}

const fn col(name: &'static str, kind: Kind, values: &'static [&'static str]) -> Col {
    Col { name, kind, values }
}

struct Table {
    alias: &'static str,
    pk: &'static str,
    cols: &'static [Col],
}

const CUSTOMER_IDS: &[&str] = &[
    "1",
    "2",
    "7",
    "33",
    "500",
    "1499",
    "1501",
    "9000000000010000030",
    "9000000000150000450",
];

const CUSTOMER: Table = Table {
    alias: "c",
    pk: "customer_id",
    cols: &[
        col("customer_id", Kind::Int, CUSTOMER_IDS),
        col(
            "email",
            Kind::Text,
            &[
                "'user7@example.com'",
                "'USER1@EXAMPLE.COM'",
                "'user5'",
                "'v'",
            ],
        ),
        col(
            "name",
            Kind::Text,
            &["'alice'", "'BOB'", "'eve'", "'Carol '", "'zed'", "''"],
        ),
        col(
            "score",
            Kind::Int,
            &["-20", "0", "5", "17", "50", "79", "100"],
        ),
        col(
            "balance",
            Kind::Dec,
            &["0", "13.01", "100", "2500.5", "4999.99"],
        ),
        col(
            "big",
            Kind::Int,
            &[
                "0",
                "-1000000000000",
                "9223372036854775807",
                "-9223372036854775807",
                "5000000000035",
            ],
        ),
        col("region", Kind::Text, &["'us'", "'EU'", "'ap'", "'x'"]),
    ],
};

const CORDER: Table = Table {
    alias: "o",
    pk: "order_id",
    cols: &[
        col(
            "order_id",
            Kind::Int,
            &["1", "40", "333", "2000", "3999", "4001"],
        ),
        col("customer_id", Kind::Int, CUSTOMER_IDS),
        col(
            "sku",
            Kind::Text,
            &["'SKU3'", "'sku7'", "'SKU24'", "'SKU99'"],
        ),
        col("price", Kind::Int, &["0", "101", "5000", "9000", "9999"]),
        col("qty", Kind::Int, &["0", "3", "5", "9"]),
        col("note", Kind::Text, &["'gift'", "'GIFT'", "'note3'", "'z'"]),
    ],
};

const PRODUCT: Table = Table {
    alias: "p",
    pk: "sku",
    cols: &[
        col("sku", Kind::Text, &["'SKU3'", "'SKU10'"]),
        col("description", Kind::Text, &["'Product 1'", "'product 6'"]),
        col("price", Kind::Int, &["0", "50", "200"]),
    ],
};

const WAREHOUSE: Table = Table {
    alias: "w",
    pk: "sku",
    cols: &[
        col("sku", Kind::Text, &["'SKU3'", "'SKU29'"]),
        col("stock", Kind::Int, &["0", "7", "20", "39"]),
        col("city", Kind::Text, &["'paris'", "'OSLO'", "'Rome'"]),
    ],
};

/// Orders grouped per customer, as a derived table.
const PER_CUSTOMER: Table = Table {
    alias: "t",
    pk: "customer_id",
    cols: &[
        col("customer_id", Kind::Int, CUSTOMER_IDS),
        col("n", Kind::Int, &["1", "2", "3", "5"]),
        col("total", Kind::Dec, &["0", "101", "9000", "15000"]),
    ],
};

/// Orders with their buyer by a column that is not the sharding key (a cross-shard join
/// inside a derived table, whose outer conditions move into it).
const ORDER_BUYER: Table = Table {
    alias: "j",
    pk: "order_id",
    cols: &[
        col("order_id", Kind::Int, &["1", "40", "150", "199", "200"]),
        col("customer_id", Kind::Int, CUSTOMER_IDS),
        col("qty", Kind::Int, &["0", "3", "5", "9"]),
        col("note", Kind::Text, &["'gift'", "'GIFT'", "'note3'", "'z'"]),
        col("name", Kind::Text, &["'alice'", "'BOB'", "'eve'", "''"]),
        col("score", Kind::Int, &["-20", "0", "5", "17", "50"]),
    ],
};

/// A FROM clause, its tables, and a condition it always carries (keeping cross-shard joins
/// to a few thousand rows).
struct From {
    sql: &'static str,
    tables: &'static [&'static Table],
    bound: Option<&'static str>,
}

const FROMS: &[From] = &[
    From {
        sql: "customer c",
        tables: &[&CUSTOMER],
        bound: None,
    },
    From {
        sql: "corder o",
        tables: &[&CORDER],
        bound: None,
    },
    From {
        sql: "customer c join corder o on c.customer_id = o.customer_id",
        tables: &[&CUSTOMER, &CORDER],
        bound: None,
    },
    From {
        sql: "customer c left join corder o on c.customer_id = o.customer_id",
        tables: &[&CUSTOMER, &CORDER],
        bound: None,
    },
    From {
        sql: "corder o join product p on o.sku = p.sku",
        tables: &[&CORDER, &PRODUCT],
        bound: None,
    },
    From {
        sql: "corder o left join product p on p.sku = o.sku",
        tables: &[&CORDER, &PRODUCT],
        bound: None,
    },
    From {
        sql: "customer c join corder o on c.score = o.qty",
        tables: &[&CUSTOMER, &CORDER],
        bound: Some("c.customer_id < 60 and o.order_id < 300"),
    },
    From {
        sql: "customer c left join corder o on c.score = o.qty and o.order_id < 200",
        tables: &[&CUSTOMER, &CORDER],
        bound: Some("c.customer_id < 80"),
    },
    From {
        sql: "corder o join commerce.warehouse w on o.sku = w.sku",
        tables: &[&CORDER, &WAREHOUSE],
        bound: Some("o.order_id < 600"),
    },
    From {
        sql: "customer c join corder o on c.customer_id = o.customer_id \
              join product p on p.sku = o.sku",
        tables: &[&CUSTOMER, &CORDER, &PRODUCT],
        bound: None,
    },
    From {
        sql: "(select * from customer where score > 10 or name like 'a%') c",
        tables: &[&CUSTOMER],
        bound: None,
    },
    From {
        sql: "customer c join (select * from corder where qty > 3) o \
              on o.customer_id = c.customer_id",
        tables: &[&CUSTOMER, &CORDER],
        bound: None,
    },
    From {
        sql: "(select * from corder where price > 5000) o left join product p on p.sku = o.sku",
        tables: &[&CORDER, &PRODUCT],
        bound: None,
    },
    From {
        sql: "customer c join corder o on o.customer_id = c.customer_id \
              left join commerce.warehouse w on w.sku = o.sku",
        tables: &[&CUSTOMER, &CORDER, &WAREHOUSE],
        bound: Some("c.customer_id < 400"),
    },
    From {
        sql: "corder o right join customer c on c.customer_id = o.customer_id",
        tables: &[&CORDER, &CUSTOMER],
        bound: None,
    },
    From {
        sql: "corder o right join customer c on c.score = o.qty and o.order_id < 200",
        tables: &[&CORDER, &CUSTOMER],
        bound: Some("c.customer_id < 80"),
    },
    From {
        sql: "customer c join (select customer_id, count(*) as n, sum(price) as total \
              from corder group by customer_id) t on t.customer_id = c.customer_id",
        tables: &[&CUSTOMER, &PER_CUSTOMER],
        bound: None,
    },
    From {
        sql: "customer c left join (corder o join product p on p.sku = o.sku) \
              on o.customer_id = c.customer_id",
        tables: &[&CUSTOMER, &CORDER, &PRODUCT],
        bound: None,
    },
    From {
        sql: "customer c join (corder o left join product p on p.sku = o.sku) \
              on o.qty = c.score",
        tables: &[&CUSTOMER, &CORDER, &PRODUCT],
        bound: Some("c.customer_id < 60 and o.order_id < 300"),
    },
    From {
        sql: "customer c left join (corder o join product p on p.sku = o.sku) \
              on o.qty = c.score",
        tables: &[&CUSTOMER, &CORDER, &PRODUCT],
        bound: Some("c.customer_id < 60"),
    },
    From {
        sql: "customer c join corder o on o.customer_id = c.customer_id \
              right join commerce.warehouse w on w.stock = c.score",
        tables: &[&CUSTOMER, &CORDER, &WAREHOUSE],
        bound: None,
    },
    From {
        sql: "(select o.order_id, o.customer_id, o.qty, o.note, c.name, c.score \
              from corder o join customer c on c.customer_id = o.qty \
              where o.order_id < 200) j",
        tables: &[&ORDER_BUYER],
        bound: None,
    },
    From {
        sql: "(select o.order_id, o.customer_id, o.qty, o.note, c.name, c.score \
              from corder o left join customer c on c.customer_id = o.qty \
              where o.order_id < 200) j",
        tables: &[&ORDER_BUYER],
        bound: None,
    },
];

/// A column of one of the FROM's tables, qualified.
struct Picked {
    sql: String,
    col: &'static Col,
}

fn column(rng: &mut Rng, from: &From) -> Picked {
    let t = *rng.pick(from.tables);
    let col = rng.pick(t.cols);
    Picked {
        sql: format!("{}.{}", t.alias, col.name),
        col,
    }
}

/// An integer column whose values stay far from BIGINT's ends, for arithmetic: MariaDB
/// skips evaluating select items over rows an impossible WHERE removes, a shard query cannot
/// always, and an overflow on one side only is no wrong row.
fn small_int(rng: &mut Rng, from: &From) -> Picked {
    small(rng, from, Kind::Int)
}

fn small(rng: &mut Rng, from: &From, kind: Kind) -> Picked {
    loop {
        let c = column_of(rng, from, kind);
        if !matches!(c.col.name, "big" | "customer_id") {
            return c;
        }
    }
}

fn column_of(rng: &mut Rng, from: &From, kind: Kind) -> Picked {
    loop {
        let c = column(rng, from);
        if c.col.kind == kind || (kind == Kind::Dec && c.col.kind == Kind::Int) {
            return c;
        }
    }
}

/// A condition on one column.
fn predicate(rng: &mut Rng, from: &From) -> String {
    let c = column(rng, from);
    let v = |rng: &mut Rng| *rng.pick(c.col.values);
    match rng.below(10) {
        0 => format!("{} is null", c.sql),
        1 => format!("{} is not null", c.sql),
        2 => format!("{} in ({}, {}, {})", c.sql, v(rng), v(rng), v(rng)),
        3 => {
            let (a, b) = (v(rng), v(rng));
            format!("{} between {a} and {b}", c.sql)
        }
        4 if c.col.kind == Kind::Text => {
            let prefix = v(rng).trim_matches('\'').chars().next().unwrap_or('a');
            format!("{} like '{prefix}%'", c.sql)
        }
        5 => format!("{} not in ({}, {})", c.sql, v(rng), v(rng)),
        _ => {
            let op = *rng.pick(&["=", "<>", "<", "<=", ">", ">=", "<=>"]);
            format!("{} {op} {}", c.sql, v(rng))
        }
    }
}

/// A condition with a subquery on `customer c` or `corder o` of the FROM, when it has one:
/// IN, NOT IN (whose NULLs matter), EXISTS correlated on the vindex column or not, and a
/// comparison with an aggregate.
fn subquery(rng: &mut Rng, from: &From) -> Option<String> {
    let has = |alias: &str| from.tables.iter().any(|t| t.alias == alias);
    let inner = From {
        sql: "corder o2",
        tables: &[&CORDER_2],
        bound: None,
    };
    let filter = predicate(rng, &inner);
    Some(match (has("c"), has("o"), rng.below(5)) {
        (true, _, 0) => {
            format!("c.customer_id in (select o2.customer_id from corder o2 where {filter})")
        }
        (true, _, 1) => format!("c.score not in (select o2.qty from corder o2 where {filter})"),
        (true, _, 2) => format!(
            "exists (select 1 from corder o2 where o2.customer_id = c.customer_id and {filter})"
        ),
        (_, true, 3) => format!("o.qty >= (select max(o2.qty) - 2 from corder o2 where {filter})"),
        (_, true, _) => {
            format!("not exists (select 1 from corder o2 where o2.sku = o.sku and {filter})")
        }
        _ => return None,
    })
}

/// The orders table again, as `o2`, for subqueries.
const CORDER_2: Table = Table {
    alias: "o2",
    ..CORDER
};

/// A WHERE clause of one to three conditions, sometimes ORed or negated.
fn condition(rng: &mut Rng, from: &From) -> Option<String> {
    let mut parts = Vec::new();
    if rng.chance(12) {
        parts.extend(subquery(rng, from));
    }
    for _ in 0..rng.below(4) {
        let p = predicate(rng, from);
        parts.push(match rng.below(8) {
            0 => format!("not ({p})"),
            1 => format!("({p} or {})", predicate(rng, from)),
            _ => p,
        });
    }
    if rng.chance(10) {
        // Two columns, often of two tables (over a LEFT JOIN: filtered over the joined rows).
        let kind = *rng.pick(&[Kind::Int, Kind::Dec, Kind::Text]);
        let (a, b) = (
            column_of(rng, from, kind).sql,
            column_of(rng, from, kind).sql,
        );
        parts.push(match rng.below(3) {
            0 => format!("{a} <= {b}"),
            1 => format!("not ({a} = {b})"),
            _ => format!("coalesce({a}, {b}) is not null"),
        });
    }
    parts.extend(from.bound.map(String::from));
    (!parts.is_empty()).then(|| parts.join(" and "))
}

/// A scalar expression over one or two columns.
fn expression(rng: &mut Rng, from: &From) -> String {
    if rng.chance(25) {
        return expression_of_two(rng, from);
    }
    match rng.below(17) {
        0 => format!("{} + {}", small(rng, from, Kind::Dec).sql, rng.below(5)),
        1 => format!("{} * 2", small_int(rng, from).sql),
        2 => {
            let c = column_of(rng, from, Kind::Dec);
            format!("coalesce({}, {})", c.sql, rng.pick(c.col.values))
        }
        3 => format!("lower({})", column_of(rng, from, Kind::Text).sql),
        4 => format!(
            "concat({}, '-', {})",
            column_of(rng, from, Kind::Text).sql,
            column_of(rng, from, Kind::Text).sql
        ),
        5 => format!("length({})", column_of(rng, from, Kind::Text).sql),
        6 => {
            let c = column_of(rng, from, Kind::Dec);
            format!(
                "case when {} > {} then 'hi' else 'lo' end",
                c.sql,
                rng.pick(c.col.values)
            )
        }
        7 => format!("if({} is null, 0, 1)", column(rng, from).sql),
        8 => format!("{} div 3", column_of(rng, from, Kind::Int).sql),
        9 => format!("{} % 7", column_of(rng, from, Kind::Int).sql),
        10 => format!(
            "{} - {}",
            small_int(rng, from).sql,
            small_int(rng, from).sql
        ),
        11 => format!("abs({})", column_of(rng, from, Kind::Dec).sql),
        12 => {
            let c = column(rng, from);
            format!("nullif({}, {})", c.sql, rng.pick(c.col.values))
        }
        13 => {
            let kind = *rng.pick(&[Kind::Int, Kind::Dec]);
            format!(
                "{}({}, {})",
                rng.pick(&["greatest", "least"]),
                small(rng, from, kind).sql,
                small(rng, from, kind).sql
            )
        }
        14 => format!("round({}, 1)", column_of(rng, from, Kind::Dec).sql),
        15 => format!("substring({}, 2, 3)", column_of(rng, from, Kind::Text).sql),
        _ => {
            let c = column(rng, from);
            format!("ifnull({}, {})", c.sql, rng.pick(c.col.values))
        }
    }
}

/// An expression of two columns, often of two tables (then computed over the joined rows
/// of a join across shards): CASE, IF and IFNULL typing their result after columns of other
/// kinds, comparisons of text under its collation, DIV, CONCAT_WS, NULLIF.
fn expression_of_two(rng: &mut Rng, from: &From) -> String {
    let kind = *rng.pick(&[Kind::Int, Kind::Dec, Kind::Text]);
    match rng.below(7) {
        0 => format!(
            "case when {} > {} then {} else {} end",
            column_of(rng, from, Kind::Dec).sql,
            column_of(rng, from, Kind::Dec).sql,
            column(rng, from).sql,
            column(rng, from).sql
        ),
        1 => format!(
            "if({} = {}, {}, {})",
            column_of(rng, from, kind).sql,
            column_of(rng, from, kind).sql,
            column(rng, from).sql,
            column(rng, from).sql
        ),
        2 => format!(
            "ifnull({}, {})",
            column(rng, from).sql,
            column(rng, from).sql
        ),
        3 => format!(
            "{} div nullif({}, 0)",
            small_int(rng, from).sql,
            small_int(rng, from).sql
        ),
        4 => format!(
            "concat_ws('/', {}, {})",
            column(rng, from).sql,
            column(rng, from).sql
        ),
        5 => format!(
            "{} < {}",
            column_of(rng, from, kind).sql,
            column_of(rng, from, kind).sql
        ),
        _ => format!(
            "nullif({}, {})",
            column_of(rng, from, kind).sql,
            column_of(rng, from, kind).sql
        ),
    }
}

/// A window function over a one-table FROM of customers or orders, partitioned (often) by
/// the sharding key; each ordered window is ordered totally, so every row's value is known.
fn window(rng: &mut Rng, t: &Table) -> String {
    let a = t.alias;
    let partition = if rng.chance(60) {
        format!("{a}.customer_id")
    } else {
        column(rng, &one_table(t)).sql
    };
    let value = small(rng, &one_table(t), Kind::Int).sql;
    match rng.below(6) {
        0 => format!(
            "row_number() over (partition by {partition} order by {a}.{} desc)",
            t.pk
        ),
        1 => format!("count(*) over (partition by {partition})"),
        2 => format!("sum({value}) over (partition by {partition})"),
        3 => format!("rank() over (partition by {partition} order by {value})"),
        4 => format!(
            "lag({value}) over (partition by {partition} order by {a}.{})",
            t.pk
        ),
        _ => format!(
            "max({value}) over (partition by {partition} order by {a}.{})",
            t.pk
        ),
    }
}

/// A window function over the groups of a grouped SELECT (computed in vtgate once the
/// groups are merged); an ordered one is ordered totally by the group columns (each group's
/// are its own), or is a rank, whose ties are known.
fn window_over_groups(rng: &mut Rng, groups: &[String], aggregates: &[String]) -> String {
    let keys = groups.join(", ");
    let a = rng.pick(aggregates);
    let dir = *rng.pick(&["asc", "desc"]);
    match rng.below(6) {
        0 => format!("row_number() over (order by count(*) {dir}, {keys})"),
        // Not by an AVG: MariaDB 10.11 ranks its NULLs wrongly (vtgate README, gap 21).
        1 if a.starts_with("avg(") => format!("rank() over (order by count(*) {dir})"),
        1 => format!("rank() over (order by {a} {dir})"),
        2 => format!("dense_rank() over (order by {})", groups[0]),
        3 => format!("sum(count(*)) over (order by {keys})"),
        4 => format!("lag({a}) over (order by {keys} {dir})"),
        _ => format!("count(*) over (partition by {})", groups[0]),
    }
}

/// A window function over a FROM of several tables (computed in vtgate over the joined
/// rows): partitioned by any of their columns or not; ordered by every table's key, which
/// orders the joined rows totally, or by a value for RANK.
fn window_over(rng: &mut Rng, from: &From) -> String {
    let partition = if rng.chance(60) {
        format!("partition by {} ", column(rng, from).sql)
    } else {
        String::new()
    };
    let keys: Vec<String> = from
        .tables
        .iter()
        .map(|t| format!("{}.{} {}", t.alias, t.pk, rng.pick(&["asc", "desc"])))
        .collect();
    let keys = keys.join(", ");
    let value = small(rng, from, Kind::Int).sql;
    match rng.below(5) {
        0 => format!("row_number() over ({partition}order by {keys})"),
        1 => format!("count(*) over ({})", partition.trim_end()),
        2 => format!("sum({value}) over ({partition}order by {keys})"),
        3 => format!("rank() over ({partition}order by {value})"),
        _ => format!("lag({value}) over ({partition}order by {keys})"),
    }
}

/// A scalar subquery on the orders, correlated with the FROM's customer or order when it has
/// one.
fn scalar_subquery(rng: &mut Rng, from: &From) -> String {
    let outer = from
        .tables
        .iter()
        .find(|t| matches!(t.alias, "c" | "o"))
        .filter(|_| rng.chance(70));
    match outer {
        Some(t) => format!(
            "(select {} from corder o2 where o2.customer_id = {}.customer_id)",
            rng.pick(&["count(*)", "max(o2.qty)", "sum(o2.price)"]),
            t.alias
        ),
        None => {
            let inner = one_table(&CORDER_2);
            format!(
                "(select max(o2.price) from corder o2 where {})",
                predicate(rng, &inner)
            )
        }
    }
}

/// A FROM of `t` (customers, orders, or orders as `o2`) alone.
fn one_table(t: &Table) -> From {
    From {
        sql: "",
        tables: match t.alias {
            "c" => &[&CUSTOMER],
            "o2" => &[&CORDER_2],
            _ => &[&CORDER],
        },
        bound: None,
    }
}

/// An aggregate over the FROM's rows.
fn aggregate(rng: &mut Rng, from: &From) -> String {
    match rng.below(11) {
        // Quotients inside expressions, computed in vtgate with MySQL's digits.
        9 => format!(
            "round(avg({}), {})",
            column_of(rng, from, Kind::Dec).sql,
            rng.below(4)
        ),
        10 => format!(
            "sum({}) / count(*) * {}",
            column_of(rng, from, Kind::Dec).sql,
            rng.pick(&["3", "1000000", "-1.5"])
        ),
        0 => "count(*)".into(),
        1 => format!("count({})", column(rng, from).sql),
        2 => format!("count(distinct {})", column(rng, from).sql),
        3 | 4 => format!("sum({})", column_of(rng, from, Kind::Dec).sql),
        5 => format!("min({})", column(rng, from).sql),
        6 => format!("max({})", column(rng, from).sql),
        7 => format!("avg({})", column_of(rng, from, Kind::Dec).sql),
        _ => format!("sum({})", expression_of_numbers(rng, from)),
    }
}

fn expression_of_numbers(rng: &mut Rng, from: &From) -> String {
    match rng.below(3) {
        0 => format!("{} * 2", small_int(rng, from).sql),
        1 => format!("coalesce({}, 1)", column_of(rng, from, Kind::Dec).sql),
        _ => format!("case when {} then 1 else 0 end", predicate(rng, from)),
    }
}

/// A UNION (ALL) of two single-table SELECTs of one column each, of one kind.
fn union(rng: &mut Rng) -> Query {
    let kind = *rng.pick(&[Kind::Int, Kind::Text, Kind::Dec]);
    let side = |rng: &mut Rng| {
        let from = &FROMS[rng.below(2)];
        let c = column_of(rng, from, kind);
        let mut sql = format!("select {} as u from {}", c.sql, from.sql);
        if let Some(f) = condition(rng, from) {
            sql += &format!(" where {f}");
        }
        sql
    };
    let all = rng.chance(40);
    let mut sql = format!(
        "{} union {}{}",
        side(rng),
        if all { "all " } else { "" },
        side(rng)
    );
    // One column without duplicates: ordering by it is total.
    let ordered = !all && rng.chance(50);
    if ordered {
        sql += &format!(" order by u {}", rng.pick(&["asc", "desc"]));
        if rng.chance(50) {
            sql += &format!(" limit {}", 1 + rng.below(10));
        }
    }
    q(sql, ordered)
}

/// One random SELECT.
fn select(rng: &mut Rng) -> Query {
    if rng.chance(8) {
        return union(rng);
    }
    let from = rng.pick(FROMS);
    let filter = condition(rng, from);
    let mut sql = String::from("select ");
    let total;
    let mut order: Vec<String> = Vec::new();
    if rng.chance(45) {
        // Grouped: GROUP BY columns (maybe none) and aggregates, nothing else.
        let groups: Vec<String> = (0..rng.below(3))
            .map(|_| match rng.below(6) {
                0 => format!("{} div 10", small_int(rng, from).sql),
                1 => format!("lower({})", column_of(rng, from, Kind::Text).sql),
                _ => column(rng, from).sql,
            })
            .collect();
        let mut items: Vec<String> = groups.clone();
        let aggregates: Vec<String> = (0..1 + rng.below(3))
            .map(|_| aggregate(rng, from))
            .collect();
        items.extend(
            aggregates
                .iter()
                .enumerate()
                .map(|(i, a)| format!("{a} as a{i}")),
        );
        // Not beside COUNT(DISTINCT), nor grouped by a primary key: MariaDB 10.11 then
        // sorts wrongly (vtgate README, gaps 18 and 20).
        let distinct = aggregates.iter().any(|a| a.contains("distinct"));
        let by_key = groups.iter().any(|g| {
            from.tables
                .iter()
                .any(|t| *g == format!("{}.{}", t.alias, t.pk))
        });
        if !groups.is_empty() && !distinct && !by_key && rng.chance(20) {
            items.push(format!(
                "{} as w",
                window_over_groups(rng, &groups, &aggregates)
            ));
        }
        sql += &items.join(", ");
        sql += &format!(" from {}", from.sql);
        if let Some(f) = &filter {
            sql += &format!(" where {f}");
        }
        if !groups.is_empty() {
            sql += &format!(" group by {}", groups.join(", "));
            if rng.chance(30) {
                let a = rng.below(aggregates.len());
                let op = *rng.pick(&[">", "<", ">=", "<>"]);
                sql += &format!(" having a{a} {op} {}", rng.below(40));
            }
        }
        // Every group column in the order makes it total.
        if rng.chance(50) {
            order = groups
                .iter()
                .map(|g| format!("{g} {}", rng.pick(&["asc", "desc"])))
                .collect();
            if rng.chance(30) {
                order.insert(0, format!("a0 {}", rng.pick(&["asc", "desc"])));
            }
        }
        total = !order.is_empty() || groups.is_empty();
    } else {
        let single = match from.tables {
            [t] if !from.sql.starts_with('(') => Some(*t),
            _ => None,
        };
        let mut items: Vec<String> = (0..1 + rng.below(3))
            .map(|i| match (rng.below(20), single) {
                (0..=1, Some(t)) => format!("{} as w{i}", window(rng, t)),
                (0, None) => format!("{} as w{i}", window_over(rng, from)),
                (2, _) => format!("{} as s{i}", scalar_subquery(rng, from)),
                (3..=10, _) => format!("{} as e{i}", expression(rng, from)),
                (11, _) => format!("{}.*", rng.pick(from.tables).alias),
                _ => column(rng, from).sql,
            })
            .collect();
        if rng.chance(3) {
            // Every column of every table, as written (a RIGHT JOIN's too).
            items = vec!["*".to_string()];
        }
        // Not over `*`: the order would have to name every column.
        let distinct = rng.chance(25) && !items.iter().any(|i| i.ends_with('*'));
        sql += if distinct { "distinct " } else { "" };
        sql += &items.join(", ");
        sql += &format!(" from {}", from.sql);
        if let Some(f) = &filter {
            sql += &format!(" where {f}");
        }
        if rng.chance(60) {
            let dir = |rng: &mut Rng| *rng.pick(&["asc", "desc"]);
            let key = |item: &String| match item.rsplit_once(" as ") {
                Some((_, alias)) => alias.to_string(),
                None => item.clone(),
            };
            // Some of the items first (or an expression not selected), then what makes the
            // order total.
            for item in items.iter().filter(|i| !i.ends_with('*')) {
                if rng.chance(50) {
                    order.push(format!("{} {}", key(item), dir(rng)));
                }
            }
            if !distinct && rng.chance(15) {
                order.push(format!("{} {}", expression_of_two(rng, from), dir(rng)));
            }
            if distinct {
                order.extend(items.iter().map(|i| format!("{} {}", key(i), dir(rng))));
            } else {
                order.extend(
                    from.tables
                        .iter()
                        .map(|t| format!("{}.{} {}", t.alias, t.pk, dir(rng))),
                );
            }
        }
        total = !order.is_empty();
    }
    if !order.is_empty() {
        sql += &format!(" order by {}", order.join(", "));
    }
    if total && !order.is_empty() && rng.chance(50) {
        sql += &format!(" limit {}", 1 + rng.below(20));
        // MariaDB 10.11 ignores the offset of a DISTINCT whose items it folds to constants
        // (vtgate README, gap 17).
        if !sql.starts_with("select distinct") && rng.chance(40) {
            sql += &format!(" offset {}", rng.below(30));
        }
    }
    if from.sql.starts_with("(select") && rng.chance(30) {
        sql = as_cte(&sql, from.sql);
    }
    q(sql, total)
}

/// `sql` with the derived table `from` starts with written as a common table expression
/// (`with j as (select ...) select ... from j ...`), which vtgate plans as that derived table.
fn as_cte(sql: &str, from: &str) -> String {
    let mut depth = 0;
    let close = from
        .char_indices()
        .find(|&(_, c)| {
            depth += match c {
                '(' => 1,
                ')' => -1,
                _ => 0,
            };
            depth == 0
        })
        .map(|(i, _)| i)
        .expect("a derived table's parenthesis closes");
    let alias = from[close + 1..]
        .split_whitespace()
        .next()
        .expect("a derived table has an alias");
    let rest = &from[close + 1..].trim_start()[alias.len()..];
    format!(
        "with {alias} as {} {}",
        &from[..=close],
        sql.replacen(from, &format!("{alias}{rest}"), 1)
    )
}

/// `count` random SELECTs from `seed`.
pub fn random_queries(seed: u64, count: usize) -> Vec<Query> {
    let mut rng = Rng::new(seed);
    (0..count).map(|_| select(&mut rng)).collect()
}

const CUSTOMER_BARE: Table = Table {
    alias: "customer",
    ..CUSTOMER
};

const CORDER_BARE: Table = Table {
    alias: "corder",
    ..CORDER
};

/// One random UPDATE, DELETE or INSERT, never of a vindex column: single-table by any
/// condition (with ORDER BY ... LIMIT on the primary key), multi-table over the same-shard
/// join or the reference table, copies of the fixture's orders under new ids (INSERT ...
/// SELECT), customers inserted or updated (ON DUPLICATE KEY UPDATE), INSERT IGNORE.
fn dml(rng: &mut Rng, n: usize) -> String {
    let customers = From {
        sql: "customer",
        tables: &[&CUSTOMER_BARE],
        bound: None,
    };
    let orders = From {
        sql: "corder",
        tables: &[&CORDER_BARE],
        bound: None,
    };
    let joined = &FROMS[2];
    let with_product = &FROMS[4];
    let wh = |rng: &mut Rng, from: &From| {
        let mut parts: Vec<String> = (0..1 + rng.below(2))
            .map(|_| predicate(rng, from))
            .collect();
        if rng.chance(15) {
            parts.extend(subquery(rng, from));
        }
        parts.join(" and ")
    };
    let limit = |rng: &mut Rng, pk: &str| {
        if rng.chance(30) {
            format!(
                " order by {pk} {} limit {}",
                rng.pick(&["asc", "desc"]),
                1 + rng.below(5)
            )
        } else {
            String::new()
        }
    };
    match rng.below(9) {
        7 => {
            // New and existing customers: inserted, or their score bumped (2 rows each).
            let rows: Vec<String> = (0..1 + rng.below(3))
                .map(|_| {
                    let id = rng.pick(CUSTOMER_IDS);
                    format!(
                        "({id}, 'r{n}@x', {}, {}, 1.50, NULL, 'us')",
                        rng.pick(&["'alice'", "NULL", "'Zed'"]),
                        rng.below(90)
                    )
                })
                .collect();
            format!(
                "insert into customer (customer_id, email, name, score, balance, big, region) \
                 values {} on duplicate key update score = score + 1, name = values(name)",
                rows.join(", ")
            )
        }
        8 => {
            // Each order id with the customer of the fixture's order its id is a copy of (ids
            // modulo 100,000): a key on two shards is no duplicate to either (sharding keeps
            // keys unique per shard only, as in Vitess).
            let orders = [
                ("1", "8"),
                ("40", "281"),
                ("5000001", "8"),
                ("5000002", "15"),
            ];
            let rows: Vec<String> = (0..1 + rng.below(3))
                .map(|_| {
                    let (order, customer) = rng.pick(&orders);
                    format!(
                        "({order}, {customer}, 'SKU{}', {}, 1, 'ins')",
                        rng.below(30),
                        rng.below(9000)
                    )
                })
                .collect();
            format!(
                "insert ignore into corder (order_id, customer_id, sku, price, qty, note) values {}",
                rows.join(", ")
            )
        }
        0 => format!(
            "update corder set qty = {}, note = {} where {}{}",
            rng.below(12),
            rng.pick(&["'gift'", "'Gift '", "NULL", "'upd'"]),
            wh(rng, &orders),
            limit(rng, "order_id")
        ),
        1 => format!(
            "update customer set score = score + 1, name = {} where {}{}",
            rng.pick(&["'ALICE'", "name", "NULL", "concat(name, '!')"]),
            wh(rng, &customers),
            limit(rng, "customer_id")
        ),
        2 => format!(
            "delete from corder where {}{}",
            wh(rng, &orders),
            limit(rng, "order_id")
        ),
        3 => format!(
            "update {} set o.price = o.price + 1, c.balance = c.balance - 1 where {}",
            joined.sql,
            wh(rng, joined)
        ),
        4 => format!(
            "update {} set o.qty = p.price div 10 where {}",
            with_product.sql,
            wh(rng, with_product)
        ),
        5 => format!("delete o from {} where {}", joined.sql, wh(rng, joined)),
        _ => format!(
            "insert into corder (order_id, customer_id, sku, price, qty, note) \
             select order_id + {}, customer_id, sku, price, qty, 'copy' from corder \
             where order_id < 100000 and {}",
            100_000 * (n + 1),
            wh(rng, &orders)
        ),
    }
}

/// `count` random DML statements from `seed`.
pub fn random_dml(seed: u64, count: usize) -> Vec<String> {
    let mut rng = Rng::new(seed ^ 0xd31);
    (0..count).map(|n| dml(&mut rng, n)).collect()
}

#[test]
fn a_derived_table_becomes_a_cte() {
    let from = "(select * from corder where price > 5000) o left join product p on p.sku = o.sku";
    assert_eq!(
        as_cte(&format!("select o.qty from {from} where o.qty > 1"), from),
        "with o as (select * from corder where price > 5000) select o.qty from o \
         left join product p on p.sku = o.sku where o.qty > 1"
    );
}
