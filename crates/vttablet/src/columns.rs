//! What MariaDB's result metadata does not say about the columns of the tablet's database:
//! which are JSON, and the collation of each text column.
//!
//! - MariaDB's JSON is LONGTEXT with a column-level `CHECK (json_valid(col))`; on the wire it
//!   is a text BLOB, and only MariaDB's extended column metadata (which mysql_async does not
//!   request) says `json`. MariaDB itself derives that from the constraint, so the tablet does
//!   the same from `information_schema.CHECK_CONSTRAINTS` and types such fields `JSON`, as a
//!   MySQL JSON column is typed in Vitess.
//! - MariaDB reports every text column with the default collation of the connection's result
//!   character set (45, `utf8mb4_general_ci`), whatever the column's own: only the BINARY flag
//!   tells a `_bin` one. MySQL 8 reports the column's collation, and vtgate orders, groups and
//!   de-duplicates rows from several shards by it. So a text field of a table column gets the
//!   column's collation id from `information_schema.COLUMNS`, when that collation belongs to
//!   the reported character set (the bytes are in that character set, and clients decode
//!   them by it); a column converted from another character set keeps the reported id when
//!   that orders it rightly, and is unknown (below) otherwise.
//!   An expression's collation (`MIN(col)`, `CONCAT(..)`, a derived table's column) is not
//!   in the metadata at all. The reported id is right for it when every text column of the
//!   database is in a default `general_ci`-like collation or a `_bin` one (which MariaDB
//!   flags BINARY); otherwise the tablet cannot tell, and says so with
//!   `proto::sqltypes::UNKNOWN_COLLATION`, so that vtgate refuses to order such values
//!   rather than guess.
//!
//! The lists are cached; they are reloaded when older than [`MAX_AGE`] or after DDL ran
//! through this tablet, on a dedicated administration connection: never from the query pool,
//! whose connections the queries being described may all hold (a pool-sized batch of
//! streaming selects would otherwise deadlock).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts};
use proto::query::{Field, Type};
use proto::sqltypes::{BINARY_COLLATION, UNKNOWN_COLLATION};

use crate::error::Result;

/// How long a loaded list is trusted.
pub const MAX_AGE: Duration = Duration::from_secs(10);

/// Collations of a database whose expressions MariaDB's reported ids describe rightly:
/// `latin1_swedish_ci`, `ascii_general_ci`, `utf8mb3_general_ci`, `utf8mb4_general_ci`
/// (the same order as `utf8mb4_general_ci` for the ASCII text vtgate compares), and the
/// PAD SPACE `_bin` ones of those character sets, which MariaDB flags BINARY.
const PLAIN_COLLATIONS: &[u32] = &[8, 11, 33, 45, 46, 47, 65, 83];

/// The columns of the tablet's database, as last loaded.
#[derive(Debug, Default)]
pub struct ColumnMetadata {
    cache: Mutex<Option<Loaded>>,
    /// The loading connection (made on first use); its lock lets one caller load at a time.
    loader: tokio::sync::Mutex<Option<Conn>>,
}

/// Looked up for the fields of every result: foldhash, not SipHash.
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

#[derive(Debug)]
struct Loaded {
    at: Instant,
    /// Table → the columns MariaDB treats as JSON.
    json: Map<String, Vec<String>>,
    /// Table → column → collation, for the text columns.
    collations: Map<String, Map<String, Collation>>,
    /// Collation id → its character set (an index into the server's list).
    charset_of: Map<u32, u16>,
    /// Every text column is in one of [`PLAIN_COLLATIONS`].
    plain: bool,
}

/// A text column's collation id and its character set.
#[derive(Debug, Clone, Copy)]
struct Collation {
    id: u32,
    charset: Option<u16>,
}

/// A field that names a column of a table of `db`.
fn of_table(field: &Field, db: &str) -> bool {
    !field.org_table.is_empty() && field.database == db
}

/// A field that may be a JSON column: a text BLOB.
fn json_candidate(field: &Field) -> bool {
    field.r#type() == Type::Text
}

/// A field [`ColumnMetadata::describe`] may change: a JSON candidate of a table of `db`, or
/// text of such a table or of no table (an expression).
fn candidate(field: &Field, db: &str) -> bool {
    (of_table(field, db) && json_candidate(field))
        || (collation_candidate(field) && (of_table(field, db) || field.org_table.is_empty()))
}

/// A field whose collation may be more than MariaDB reported: text, not binary.
fn collation_candidate(field: &Field) -> bool {
    matches!(field.r#type(), Type::Text | Type::Varchar | Type::Char)
        && field.charset != BINARY_COLLATION
}

impl Loaded {
    /// The id to give a table column MariaDB reported as `reported`: its own when it is of
    /// the reported character set; `reported` when the column was converted from one of
    /// [`PLAIN_COLLATIONS`] (ordered as the reported one, or flagged BINARY); None when the
    /// column is not known or its order is not the reported one's.
    fn collation(&self, table: &str, column: &str, reported: u32) -> Option<u32> {
        let columns = self.collations.get(table)?;
        let found = columns.get(column).copied().or_else(|| {
            // Column names are case-insensitive; the metadata spells them as created.
            columns
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(column))
                .map(|(_, c)| *c)
        })?;
        let same_charset =
            found.charset.is_some() && found.charset == self.charset_of.get(&reported).copied();
        if same_charset {
            Some(found.id)
        } else {
            PLAIN_COLLATIONS.contains(&found.id).then_some(reported)
        }
    }

    /// Types JSON columns and sets text fields' collations, as the lists say.
    fn describe(&self, fields: &mut [Field], db: &str) {
        for field in fields.iter_mut().filter(|f| candidate(f, db)) {
            if json_candidate(field) && self.is_json(&field.org_table, &field.org_name) {
                field.set_type(Type::Json);
                continue;
            }
            if !collation_candidate(field) {
                continue;
            }
            // A table column as loaded; else an expression, or a column of a derived table
            // (MariaDB names the derived table and the alias), or of a table created since
            // the load: trusted as reported only in a plain database.
            match self.collation(&field.org_table, &field.org_name, field.charset) {
                Some(id) => field.charset = id,
                None if !self.plain => field.charset = UNKNOWN_COLLATION,
                None => {}
            }
        }
    }

    fn is_json(&self, table: &str, column: &str) -> bool {
        self.json
            .get(table)
            .is_some_and(|columns| columns.iter().any(|c| c == column))
    }
}

impl ColumnMetadata {
    /// Forgets the lists (after DDL).
    pub fn invalidate(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            *cache = None;
        }
    }

    /// Types the fields that are JSON columns of `db` as `JSON` and gives text columns of
    /// `db` their own collation, loading the lists on the loader connection (opened with
    /// `admin` when missing) when they are missing or old. After a failed load the types
    /// stay as they are and the text fields' collations are unknown.
    pub async fn describe(&self, fields: &mut [Field], db: &str, admin: &Opts) {
        if !fields.iter().any(|f| candidate(f, db)) || self.describe_fresh(fields, db) {
            return;
        }
        let mut loader = self.loader.lock().await;
        // Another caller may have loaded while this one waited.
        if self.describe_fresh(fields, db) {
            return;
        }
        match load(&mut loader, db, admin).await {
            Ok(loaded) => {
                loaded.describe(fields, db);
                *self.lock() = Some(loaded);
            }
            Err(e) => {
                *loader = None;
                tracing::warn!(error = %e, "cannot load the column metadata");
                // Orders vtgate cannot trust are refused, not guessed.
                for field in fields.iter_mut().filter(|f| collation_candidate(f)) {
                    field.charset = UNKNOWN_COLLATION;
                }
            }
        }
    }

    /// Describes `fields` from the lists when they are fresh (one lock: this runs for every
    /// result); false when they are missing or old.
    fn describe_fresh(&self, fields: &mut [Field], db: &str) -> bool {
        let cache = self.lock();
        match cache
            .as_ref()
            .filter(|loaded| loaded.at.elapsed() < MAX_AGE)
        {
            Some(loaded) => {
                loaded.describe(fields, db);
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Loaded>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The column metadata of `db`, read on `loader` (connected with `admin` first when empty).
async fn load(loader: &mut Option<Conn>, db: &str, admin: &Opts) -> Result<Loaded> {
    let conn = match loader {
        Some(conn) => conn,
        None => loader.insert(Conn::new(admin.clone()).await?),
    };
    // Column-level `json_valid(`col`)` constraints.
    let json: Vec<(String, String)> = conn
        .exec(
            "SELECT TABLE_NAME, CONSTRAINT_NAME FROM information_schema.CHECK_CONSTRAINTS \
             WHERE CONSTRAINT_SCHEMA = ? AND LEVEL = 'Column' \
             AND CHECK_CLAUSE = CONCAT('json_valid(`', REPLACE(CONSTRAINT_NAME, '`', '``'), '`)')",
            (db,),
        )
        .await?;
    // Options throughout: MariaDB lists collations without an id or a character set (the
    // UCA 14.0 ones apply to several), and a row that does not fit must not fail a query.
    let columns: Vec<(String, String, Option<u32>)> = conn
        .exec(
            "SELECT c.TABLE_NAME, c.COLUMN_NAME, co.ID FROM information_schema.COLUMNS c \
             JOIN information_schema.COLLATIONS co ON co.COLLATION_NAME = c.COLLATION_NAME \
             WHERE c.TABLE_SCHEMA = ?",
            (db,),
        )
        .await?;
    let charsets: Vec<(Option<u32>, Option<String>)> = conn
        .query("SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS")
        .await?;
    let mut names: Vec<String> = Vec::new();
    let mut charset_of = Map::default();
    for (id, charset) in charsets {
        let (Some(id), Some(charset)) = (id, charset) else {
            continue;
        };
        let index = names.iter().position(|n| *n == charset).unwrap_or_else(|| {
            names.push(charset);
            names.len() - 1
        });
        charset_of.insert(id, u16::try_from(index).unwrap_or(u16::MAX));
    }
    let mut collations: Map<String, Map<String, Collation>> = Map::default();
    let mut plain = true;
    for (table, column, id) in columns {
        plain &= id.is_some_and(|id| PLAIN_COLLATIONS.contains(&id));
        if let Some(id) = id {
            let charset = charset_of.get(&id).copied();
            collations
                .entry(table)
                .or_default()
                .insert(column, Collation { id, charset });
        }
    }
    let mut json_columns: Map<String, Vec<String>> = Map::default();
    for (table, column) in json {
        json_columns.entry(table).or_default().push(column);
    }
    Ok(Loaded {
        at: Instant::now(),
        json: json_columns,
        collations,
        charset_of,
        plain,
    })
}
