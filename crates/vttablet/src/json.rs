//! Which columns of the tablet's database are JSON.
//!
//! MariaDB's JSON is LONGTEXT with a column-level `CHECK (json_valid(col))`; on the wire it is
//! a text BLOB, and only MariaDB's extended column metadata (which mysql_async does not
//! request) says `json`. MariaDB itself derives that from the constraint, so the tablet does
//! the same from `information_schema.CHECK_CONSTRAINTS` and types such fields `JSON`, as a
//! MySQL JSON column is typed in Vitess. The list is cached; it is reloaded when older than
//! [`MAX_AGE`] or after DDL ran through this tablet, on a dedicated administration
//! connection: never from the query pool, whose connections the queries being typed may
//! all hold (a pool-sized batch of streaming selects would otherwise deadlock).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts};
use proto::query::{Field, Type};

use crate::error::Result;

/// How long a loaded list is trusted.
pub const MAX_AGE: Duration = Duration::from_secs(10);

/// `(table, column)` pairs MariaDB treats as JSON, as last loaded.
#[derive(Debug, Default)]
pub struct JsonColumns {
    cache: Mutex<Option<Loaded>>,
    /// The loading connection (made on first use); its lock lets one caller load at a time.
    loader: tokio::sync::Mutex<Option<Conn>>,
}

#[derive(Debug)]
struct Loaded {
    at: Instant,
    columns: HashSet<(String, String)>,
}

/// A field that may be a JSON column: a text BLOB of a table of `db`.
fn candidate(field: &Field, db: &str) -> bool {
    field.r#type() == Type::Text && !field.org_table.is_empty() && field.database == db
}

impl JsonColumns {
    /// Forgets the list (after DDL).
    pub fn invalidate(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            *cache = None;
        }
    }

    /// Types the fields that are JSON columns of `db` as `JSON`, loading the list on the
    /// loader connection (opened with `admin` when missing) when it is missing or old. A
    /// failed load leaves the fields as they are.
    pub async fn mark(&self, fields: &mut [Field], db: &str, admin: &Opts) {
        if !fields.iter().any(|f| candidate(f, db)) {
            return;
        }
        if !self.is_fresh() {
            let mut loader = self.loader.lock().await;
            // Another caller may have loaded while this one waited.
            if !self.is_fresh() {
                match load(&mut loader, db, admin).await {
                    Ok(columns) => {
                        if let Ok(mut cache) = self.cache.lock() {
                            *cache = Some(Loaded {
                                at: Instant::now(),
                                columns,
                            });
                        }
                    }
                    Err(e) => {
                        *loader = None;
                        tracing::warn!(error = %e, "cannot load the JSON columns");
                        return;
                    }
                }
            }
        }
        let Ok(cache) = self.cache.lock() else { return };
        let Some(loaded) = cache.as_ref() else { return };
        for field in fields.iter_mut().filter(|f| candidate(f, db)) {
            if loaded
                .columns
                .contains(&(field.org_table.clone(), field.org_name.clone()))
            {
                field.set_type(Type::Json);
            }
        }
    }

    fn is_fresh(&self) -> bool {
        self.cache.lock().is_ok_and(|c| {
            c.as_ref()
                .is_some_and(|loaded| loaded.at.elapsed() < MAX_AGE)
        })
    }
}

/// The JSON columns of `db`: column-level `json_valid(`col`)` constraints, read on `loader`
/// (connected with `admin` first when empty).
async fn load(
    loader: &mut Option<Conn>,
    db: &str,
    admin: &Opts,
) -> Result<HashSet<(String, String)>> {
    let conn = match loader {
        Some(conn) => conn,
        None => loader.insert(Conn::new(admin.clone()).await?),
    };
    let rows: Vec<(String, String)> = conn
        .exec(
            "SELECT TABLE_NAME, CONSTRAINT_NAME FROM information_schema.CHECK_CONSTRAINTS \
             WHERE CONSTRAINT_SCHEMA = ? AND LEVEL = 'Column' \
             AND CHECK_CLAUSE = CONCAT('json_valid(`', REPLACE(CONSTRAINT_NAME, '`', '``'), '`)')",
            (db,),
        )
        .await?;
    Ok(rows.into_iter().collect())
}
