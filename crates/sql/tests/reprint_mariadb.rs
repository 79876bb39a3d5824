//! vtgate re-prints the statements it plans (for the shards: keyspace names removed, literals
//! bound back), so the printed SQL must mean what the client wrote. For each expression below,
//! MariaDB (127.0.0.1:3306) evaluates a SELECT as written and as `sql::parse` prints it back:
//! the values and column types must be the same, or both must fail with one error number. A
//! statement the parser refuses is allowed (vtgate answers a syntax error); a different answer
//! is not. `BINARY a = b` once printed as `CAST(a = b AS BINARY)` and failed here.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Value};

/// One row with every kind of value the expressions use.
const FROM: &str = "FROM (SELECT 3 AS a, 5 AS b, NULL AS c, 'Abc' AS s, 'abc' AS l, \
                    DATE '2020-02-29' AS d, 1.5e0 AS f, -2 AS n, 'a%b' AS p, \
                    '{\"x\": [1, 2]}' AS j) t";

const EXPRESSIONS: &[&str] = &[
    // Precedence and associativity.
    "binary s = 'abc'",
    "binary s = l",
    "binary(s) = 'abc'",
    "not binary s = 'abc'",
    "binary s like 'A%'",
    "binary a * b + 1",
    "not a = b",
    "not a = 3",
    "not a between 1 and 2",
    "- a between -5 and 0",
    "- -a",
    "-a * b",
    "a xor b and c",
    "a xor b",
    "a = 3 xor b = 5",
    "a = 3 xor c not in (1, null)",
    "a = 1 || b = 5",
    "a = 1 || b = 5 and c is null",
    "a && b or c",
    "a || b",
    "a or b and c",
    "a ^ b * 2",
    "~a + 1",
    "a << 1 + 2",
    "a & b | 8",
    "a = b = 0",
    "a < b is null",
    "a is true = 1",
    "c is not unknown",
    "a between 1 and 4 and b",
    "a div 2",
    "b mod a",
    "b mod a * 2",
    "- b mod 2",
    "!a = 0",
    "!c",
    "!(a = b)",
    "!!a",
    "not !a",
    "!a + 1",
    "!-a",
    "!binary s = 'x'",
    "a % 2",
    "7 / 2 * 2",
    "a - b - 1",
    "a - (b - 1)",
    "2 * (a + b)",
    "a <=> c",
    "c <=> null",
    "a != b",
    "a <> b",
    "(a, b) = (3, 5)",
    "row(a, b) = (3, 5)",
    "a in (1, 2, 3)",
    "a not in (1, c)",
    "a in (select 3)",
    "a = any (select 3)",
    "a > all (select 1 union select 2)",
    "exists (select 1) = 1",
    "not exists (select 1 from dual where 1 = 0)",
    // Literals.
    "'a' 'b'",
    "'it''s'",
    "'it\\'s'",
    "'a\\nb'",
    "'back\\\\slash'",
    "\"dq\"",
    "'%'",
    "'\\%'",
    "N'x'",
    "X'41'",
    // `0x41 + 0` is 65 but `X'41' + 0` is 0 in MariaDB, and sqlparser prints 0x41 as X'41':
    // vtgate binds `0x` numbers before parsing and sends them as written (`hex_numbers`,
    // checked in vtgate's `tests/sharded.rs`).
    "0x41",
    "b'101'",
    "b'101' + 0",
    "_utf8mb4'x' collate utf8mb4_bin",
    "_latin1'x'",
    "1e3",
    ".5",
    "-0",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "1.50",
    "date '2020-01-01'",
    "timestamp '2020-01-01 10:00:00'",
    "time '10:00:00'",
    "true",
    "null",
    // Strings, patterns, collations.
    "s collate utf8mb4_bin = l",
    "s = l collate utf8mb4_bin",
    "s like 'a%'",
    "p like 'a!%b' escape '!'",
    "p like 'a\\%b'",
    "s not like '_b_'",
    "s regexp '^a'",
    "s not regexp 'B'",
    "s rlike 'c$'",
    "concat(s, l, c)",
    "concat_ws('-', s, c, l)",
    "trim(leading 'A' from s)",
    "trim(both 'c' from l)",
    "trim('  x  ')",
    "substring(s from 2 for 1)",
    "substring(s, 2)",
    "substr(s, -2, 1)",
    "position('b' in s)",
    "locate('b', s)",
    "lower(s) = l",
    "upper(s)",
    "length(s) + char_length(l)",
    "convert(s, char)",
    "convert(s using latin1)",
    "convert(a, signed)",
    // Casts and types.
    "cast(a as char)",
    "cast(a as char(1))",
    "cast(f as decimal(10, 2))",
    "cast(n as unsigned)",
    "cast(n as signed integer)",
    "cast(s as binary)",
    "cast('2020-01-01' as date)",
    "cast('10:00' as time)",
    "cast(a as double)",
    // Dates and intervals.
    "d + interval 1 day",
    "interval 1 day + d",
    "d - interval 1 month",
    "date_add(d, interval 2 year)",
    "date_sub(d, interval '1:1' hour_minute)",
    "d + interval '1-2' year_month",
    "date_add(d, interval '1 2:3:4' day_second) = d",
    "d - interval 1 + 1 day",
    "date_add(d, interval (1) day)",
    "extract(day_hour from timestamp '2020-01-02 03:04:05')",
    "extract(year from d)",
    "extract(year_month from d)",
    "datediff(d, '2020-01-01')",
    "date_format(d, '%Y/%m')",
    "last_day(d)",
    // Control flow and NULLs.
    "if(a > b, 'x', 'y')",
    "ifnull(c, 'z')",
    "nullif(a, 3)",
    "coalesce(c, c, a)",
    "case a when 3 then 'three' else 'other' end",
    "case when a > 4 then 1 when b > 4 then 2 end",
    "case c when null then 1 else 0 end",
    "greatest(a, b, n)",
    "least(a, c)",
    "interval(a, 1, 2, 4)",
    "interval(c, 1) + interval (b - a, 1, 2, 3)",
    // Numbers.
    "round(f)",
    "round(2.5)",
    "truncate(f * 3, 1)",
    "abs(n) + sign(n)",
    "mod(b, a)",
    "pow(a, 2)",
    "floor(-f)",
    "ceil(f)",
    "a / 0",
    "b div 0",
    "conv(255, 10, 16)",
    "crc32(s)",
    "md5(s)",
    // JSON and others.
    "json_extract(j, '$.x[1]')",
    "json_unquote(json_extract(j, '$.x'))",
    "json_length(j, '$.x')",
    "json_contains(j, '1', '$.x')",
    "json_value(j, '$.x[0]')",
    "@@session.sql_mode = @@sql_mode",
    "(select max(x) from (select 1 x union all select 7) u)",
    "(select 1) + a",
];

async fn answer(conn: &mut Conn, sql: &str) -> Result<(Vec<String>, Vec<Vec<Value>>), u16> {
    let mut result = conn.query_iter(sql).await.map_err(code)?;
    let columns = result
        .columns_ref()
        .iter()
        .map(|c| {
            format!(
                "{:?} {} {:?}",
                c.column_type(),
                c.character_set(),
                c.flags()
            )
        })
        .collect();
    let rows: Vec<mysql_async::Row> = result.collect().await.map_err(code)?;
    Ok((
        columns,
        rows.into_iter().map(mysql_async::Row::unwrap).collect(),
    ))
}

fn code(e: mysql_async::Error) -> u16 {
    match e {
        mysql_async::Error::Server(s) => s.code,
        other => panic!("MariaDB unreachable: {other}"),
    }
}

#[tokio::test]
async fn reprinted_statements_mean_the_same_to_mariadb() {
    let opts: Opts = OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(3306)
        .user(Some("root"))
        .into();
    let mut conn = Conn::new(opts).await.expect("MariaDB at 127.0.0.1:3306");
    let mut refused = Vec::new();
    let mut different = Vec::new();
    for e in EXPRESSIONS {
        let written = format!("SELECT {e} AS v {FROM}");
        let printed = match sql::parse::parse(&written) {
            Ok(statement) => statement.to_string(),
            Err(err) => {
                refused.push(format!("{e}: {err}"));
                continue;
            }
        };
        let want = answer(&mut conn, &written).await;
        let got = answer(&mut conn, &printed).await;
        if want != got {
            different.push(format!(
                "{e}\n    printed: {printed}\n    as written: {want:?}\n    as printed: {got:?}"
            ));
        }
    }
    println!(
        "{} expressions, refused by the parser: {refused:#?}",
        EXPRESSIONS.len()
    );
    assert!(different.is_empty(), "{}", different.join("\n"));
    // The parser takes nearly all of them: a refusal is honest, but many would be a gap.
    assert!(refused.len() <= 3, "{refused:#?}");
}
