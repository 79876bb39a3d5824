//! `SHOW` statements vtgate answers itself (databases, keyspaces, VITESS_SHARDS,
//! VITESS_TABLETS, VSCHEMA TABLES/KEYSPACES/VINDEXES, VITESS_TARGET, WARNINGS, ENGINES,
//! PLUGINS) and `SHOW TABLES`, which runs on the keyspace's shard with its column renamed
//! `Tables_in_<ks>`. Other `SHOW`s go to a tablet unchanged.

use proto::query::{QueryResult, Row};
use proto::topodata::TabletType;
use sql::classify::StatementKind;
use sql::show::{like_match, parse_show, show_database, Show, ShowFilter, ShowKind};

use super::local::{int_field, result, varchar_field};
use super::route::SYSTEM_SCHEMAS;
use super::{Executor, Reply};
use crate::error::VtError;
use crate::gateway::Caller;
use crate::rewrite::quote;
use crate::session::Session;

impl Executor {
    pub(super) async fn show(
        &self,
        session: &mut Session,
        caller: &Caller,
        sql: &str,
        kind: ShowKind,
    ) -> Result<Reply, VtError> {
        if kind == ShowKind::Other {
            if let Some((ks, if_not_exists)) = sql::show::show_create_database(sql) {
                if self.topology.get().keyspace(&ks).is_some() {
                    return self
                        .show_create_database(session, caller, &ks, if_not_exists)
                        .await;
                }
            }
            // `SHOW COLUMNS FROM t FROM ks`, `SHOW TABLE STATUS IN ks`: the keyspace's tablet
            // gets the statement without the clause, since its database has another name.
            if let Some((ks, rest)) = show_database(sql) {
                if self.topology.get().keyspace(&ks).is_some() {
                    let r = self.query_any(session, caller, &rest, Some(&ks)).await?;
                    return Ok(Reply::Result(r));
                }
            }
            return self
                .run_routed(session, caller, sql, &StatementKind::Show(kind))
                .await;
        }
        let show = parse_show(sql)?;
        let topo = self.topology.get();
        let text_rows = |names: Vec<String>| names.into_iter().map(|n| vec![Some(n)]).collect();
        let r = match kind {
            ShowKind::Databases | ShowKind::Keyspaces => {
                let mut names: Vec<String> = topo.keyspaces().map(|k| k.name.clone()).collect();
                if kind == ShowKind::Databases {
                    names.extend(SYSTEM_SCHEMAS.iter().map(|s| s.to_string()));
                }
                names.retain(|n| like(&show, n));
                result(vec![varchar_field("Database")], text_rows(names))
            }
            ShowKind::Tables => return self.show_tables(session, caller, &show).await,
            ShowKind::VitessShards => {
                let mut names = Vec::new();
                for ks in topo.keyspaces() {
                    let mut shards = ks.shards_for(TabletType::Primary).to_vec();
                    if shards.is_empty() {
                        shards = self.known_shards(&ks.name);
                    }
                    names.extend(shards.into_iter().map(|s| format!("{}/{s}", ks.name)));
                }
                names.retain(|n| like(&show, n));
                result(vec![varchar_field("Shards")], text_rows(names))
            }
            ShowKind::VitessTablets => self.show_tablets(&show),
            ShowKind::VSchemaTables => {
                let ks = session.keyspace().ok_or(VtError::NoDatabaseSelected)?;
                let info = topo
                    .keyspace(ks)
                    .ok_or_else(|| VtError::UnknownDatabase(ks.to_string()))?;
                let mut names: Vec<String> = info.tables.iter().cloned().collect();
                names.push("dual".into());
                names.sort();
                names.retain(|n| like(&show, n));
                result(vec![varchar_field("Tables")], text_rows(names))
            }
            ShowKind::VSchemaKeyspaces => {
                let fields = ["Keyspace", "Sharded", "Foreign Key", "Comment"]
                    .map(varchar_field)
                    .to_vec();
                let rows = topo
                    .keyspaces()
                    .filter(|k| like(&show, &k.name))
                    .map(|k| {
                        vec![
                            Some(k.name.clone()),
                            Some(k.sharded.to_string()),
                            Some("unmanaged".to_string()),
                            Some(String::new()),
                        ]
                    })
                    .collect();
                result(fields, rows)
            }
            ShowKind::VSchemaVindexes => {
                let first = if show.on.is_some() {
                    "Columns"
                } else {
                    "Keyspace"
                };
                let fields = [first, "Name", "Type", "Params", "Owner"]
                    .map(varchar_field)
                    .to_vec();
                result(fields, Vec::new())
            }
            ShowKind::VitessTarget => result(
                vec![varchar_field("Target")],
                vec![vec![Some(session.target_string().to_string())]],
            ),
            ShowKind::Warnings => {
                let fields = vec![
                    varchar_field("Level"),
                    int_field("Code", proto::query::Type::Uint16),
                    varchar_field("Message"),
                ];
                result(fields, Vec::new())
            }
            ShowKind::Engines => constant(
                &[
                    "Engine",
                    "Support",
                    "Comment",
                    "Transactions",
                    "XA",
                    "Savepoints",
                ],
                &[
                    "InnoDB",
                    "DEFAULT",
                    "Supports transactions, row-level locking, and foreign keys",
                    "YES",
                    "YES",
                    "YES",
                ],
            ),
            ShowKind::Plugins => constant(
                &["Name", "Status", "Type", "Library", "License"],
                &["InnoDB", "ACTIVE", "STORAGE ENGINE", "", "GPL"],
            ),
            ShowKind::Other => QueryResult::default(),
        };
        Ok(Reply::Result(r))
    }

    /// `SHOW CREATE DATABASE ks`: MariaDB's answer for the keyspace's database (a tablet's
    /// own, asked by its name), given under the keyspace's name, as clients such as
    /// `mariadb-dump --databases` read it.
    async fn show_create_database(
        &self,
        session: &mut Session,
        caller: &Caller,
        keyspace: &str,
        if_not_exists: bool,
    ) -> Result<Reply, VtError> {
        let named = self
            .query_any(session, caller, "select database()", Some(keyspace))
            .await?;
        let db = named
            .rows
            .first()
            .and_then(|r| r.split_values().ok())
            .and_then(|v| v.first().copied().flatten().map(<[u8]>::to_vec))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .ok_or_else(|| VtError::UnknownDatabase(keyspace.to_string()))?;
        let guard = if if_not_exists { "if not exists " } else { "" };
        let backquote = |name: &str| format!("`{}`", name.replace('`', "``"));
        let sql = format!("show create database {guard}{}", backquote(&db));
        let mut r = self
            .query_any(session, caller, &sql, Some(keyspace))
            .await?;
        let (tablet_name, keyspace_name) = (backquote(&db), backquote(keyspace));
        for row in &mut r.rows {
            let values = row
                .split_values()
                .map_err(|e| VtError::Other(format!("show create database: {e}")))?;
            let text = values
                .get(1)
                .copied()
                .flatten()
                .map(|b| String::from_utf8_lossy(b).replacen(&tablet_name, &keyspace_name, 1));
            *row = Row::from_values([
                Some(keyspace.as_bytes()),
                text.as_deref().map(str::as_bytes),
            ]);
        }
        Ok(Reply::Result(r))
    }

    async fn show_tables(
        &self,
        session: &mut Session,
        caller: &Caller,
        show: &Show,
    ) -> Result<Reply, VtError> {
        let ks = match (&show.from, session.keyspace()) {
            (Some(from), _) => from.clone(),
            (None, Some(ks)) => ks.to_string(),
            (None, None) => return Err(VtError::NoDatabaseSelected),
        };
        if self.topology.get().keyspace(&ks).is_none() {
            return Err(VtError::UnknownDatabase(ks));
        }
        let mut sql = String::from(if show.full {
            "show full tables"
        } else {
            "show tables"
        });
        match &show.filter {
            Some(ShowFilter::Like(p)) => {
                sql.push_str(" like ");
                sql.push_str(&quote(p));
            }
            Some(ShowFilter::Where(w)) => {
                sql.push_str(" where ");
                sql.push_str(w);
            }
            None => {}
        }
        let mut r = self.query_any(session, caller, &sql, Some(&ks)).await?;
        if let Some(f) = r.fields.first_mut() {
            f.name = format!("Tables_in_{ks}");
        }
        Ok(Reply::Result(r))
    }

    fn show_tablets(&self, show: &Show) -> QueryResult {
        let fields = [
            "Cell",
            "Keyspace",
            "Shard",
            "TabletType",
            "State",
            "Alias",
            "Hostname",
            "PrimaryTermStartTime",
        ]
        .map(varchar_field)
        .to_vec();
        let rows = self
            .gateway
            .health()
            .all()
            .into_iter()
            .filter(|h| like(show, &h.tablet.hostname))
            .map(|h| {
                let alias = h.conn().alias.clone();
                let state = if h.is_usable(std::time::Duration::MAX) {
                    "SERVING"
                } else {
                    "NOT_SERVING"
                };
                let term = if h.tablet_type == TabletType::Primary && h.primary_term_start > 0 {
                    rfc3339(h.primary_term_start)
                } else {
                    String::new()
                };
                vec![
                    Some(alias.cell.clone()),
                    Some(h.keyspace.clone()),
                    Some(h.shard.clone()),
                    Some(h.tablet_type.as_str_name().to_string()),
                    Some(state.to_string()),
                    Some(alias.to_string()),
                    Some(h.tablet.hostname.clone()),
                    Some(term),
                ]
            })
            .collect();
        result(fields, rows)
    }
}

fn like(show: &Show, value: &str) -> bool {
    match &show.filter {
        Some(ShowFilter::Like(p)) => like_match(p, value),
        _ => true,
    }
}

fn constant(names: &[&str], row: &[&str]) -> QueryResult {
    result(
        names.iter().map(|n| varchar_field(n)).collect(),
        vec![row.iter().map(|v| Some(v.to_string())).collect()],
    )
}

/// Unix seconds as RFC 3339 UTC (`2024-01-02T03:04:05Z`).
fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
