//! vtgate's comparison of `utf8mb4_general_ci` and `utf8mb4_unicode_ci` text against
//! MariaDB's own (127.0.0.1:3306, root): every character of the Basic Multilingual Plane in
//! MariaDB's collation order, and a few thousand generated strings sorted and grouped by both.

use std::cmp::Ordering;

use engine::cell::CompareKind;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder};
use proto::query::Type;

async fn connect() -> Conn {
    let opts = OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(3306)
        .user(Some("root"))
        .db_name(Some("test"));
    let mut conn = Conn::new(opts).await.expect("MariaDB at 127.0.0.1:3306");
    conn.query_drop("SET NAMES utf8mb4")
        .await
        .expect("set names");
    conn
}

/// The collations vtgate weighs itself, with MariaDB's ids.
const COLLATIONS: [(&str, u32); 2] = [("utf8mb4_general_ci", 45), ("utf8mb4_unicode_ci", 224)];

fn kind(id: u32) -> CompareKind {
    CompareKind::for_type(Type::Varchar, id, "c").expect("a collation vtgate weighs")
}

fn cmp(kind: CompareKind, a: &str, b: &str) -> Ordering {
    kind.compare(Some(a.as_bytes()), Some(b.as_bytes()))
        .expect("comparable")
}

#[tokio::test]
async fn every_bmp_character_orders_as_in_mariadb() {
    let mut conn = connect().await;
    for (name, id) in COLLATIONS {
        // Characters in MariaDB's order, each with whether it equals the one before.
        let rows: Vec<(u32, Option<bool>)> = conn
            .query(format!(
                "SELECT seq, c = LAG(c) OVER (ORDER BY c, seq) FROM \
                   (SELECT seq, CONVERT(CHAR(seq USING utf32) USING utf8mb4) COLLATE {name} AS c \
                    FROM seq_0_to_65535 WHERE seq NOT BETWEEN 55296 AND 57343) t \
                 ORDER BY c, seq"
            ))
            .await
            .expect("characters");
        assert_eq!(rows.len(), 65536 - 2048);
        let kind = kind(id);
        let text = |cp: u32| char::from_u32(cp).expect("not a surrogate").to_string();
        let mut mismatches = Vec::new();
        for pair in rows.windows(2) {
            let ((a, _), (b, same)) = (&pair[0], &pair[1]);
            let want = if *same == Some(true) {
                Ordering::Equal
            } else {
                Ordering::Less
            };
            if cmp(kind, &text(*a), &text(*b)) != want {
                mismatches.push(format!("U+{a:04X} U+{b:04X} want {want:?}"));
            }
        }
        assert!(
            mismatches.is_empty(),
            "{name}: {} mismatches: {:?}",
            mismatches.len(),
            &mismatches[..mismatches.len().min(20)]
        );
        // Beyond the BMP every character has the weight 0xFFFD, above every letter.
        assert_eq!(cmp(kind, "😀", "😁"), Ordering::Equal);
        assert_eq!(cmp(kind, "😀", "中"), Ordering::Greater);
    }
}

/// A small deterministic generator (xorshift), so failures repeat.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[tokio::test]
async fn generated_strings_sort_and_group_as_in_mariadb() {
    const PALETTE: &[&str] = &[
        "a", "A", "á", "Ä", "å", "b", "e", "É", "ê", "s", "S", "ß", "ss", "z", "Z", "ı", "I", "i",
        "σ", "ς", "Σ", "ø", "Ø", "œ", "Œ", " ", "  ", "\t", "-", "_", "0", "9", "😀", "😁",
        "\u{FFFD}", "ǅ", "ǆ", "Ǆ", "ﬀ", "ｚ", "Ｚ", "ж", "Ж", "ё", "Ё", "中", "文", "ﬁ", "fi", "æ",
        "Æ", "ae", "\u{200B}", "\u{00AD}", "\u{0301}", "ŉ", "'n",
    ];
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    let values: Vec<String> = (0..3000)
        .map(|_| {
            let len = 1 + (g.next() % 4) as usize;
            (0..len)
                .map(|_| PALETTE[(g.next() % PALETTE.len() as u64) as usize])
                .collect()
        })
        .collect();
    let mut conn = connect().await;
    for (name, id) in COLLATIONS {
        check_generated(&mut conn, name, kind(id), &values).await;
    }
}

async fn check_generated(conn: &mut Conn, name: &str, kind: CompareKind, values: &[String]) {
    conn.query_drop(format!(
        "CREATE OR REPLACE TEMPORARY TABLE ci_probe (id INT PRIMARY KEY, \
         v VARCHAR(40) CHARACTER SET utf8mb4 COLLATE {name})"
    ))
    .await
    .expect("create");
    for chunk in values.chunks(500).enumerate() {
        let (n, chunk) = chunk;
        let tuples: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, v)| {
                format!(
                    "({}, '{}')",
                    n * 500 + i,
                    v.replace('\\', "\\\\").replace('\'', "''")
                )
            })
            .collect();
        conn.query_drop(format!("INSERT INTO ci_probe VALUES {}", tuples.join(",")))
            .await
            .expect("insert");
    }
    // Order: MariaDB's ORDER BY v, id against a stable sort by vtgate's comparison.
    let want: Vec<u32> = conn
        .query("SELECT id FROM ci_probe ORDER BY v, id")
        .await
        .expect("order");
    let mut got: Vec<u32> = (0..values.len() as u32).collect();
    got.sort_by(|&a, &b| cmp(kind, &values[a as usize], &values[b as usize]));
    assert_eq!(want, got, "{name}: ORDER BY differs");
    // Groups: the smallest id of each group, as GROUP BY v sees them.
    let mut want: Vec<u32> = conn
        .query("SELECT MIN(id) FROM ci_probe GROUP BY v")
        .await
        .expect("group");
    want.sort_unstable();
    let mut got: Vec<u32> = Vec::new();
    for (k, &id) in (0..values.len() as u32)
        .collect::<Vec<_>>()
        .iter()
        .enumerate()
    {
        let first = (0..k).all(|j| cmp(kind, &values[j], &values[id as usize]) != Ordering::Equal);
        if first {
            got.push(id);
        }
    }
    assert_eq!(want, got, "{name}: GROUP BY differs");
}
