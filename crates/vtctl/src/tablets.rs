//! Tablet listing and one-tablet commands.

use anyhow::{Context, Result};
use clap::Args;
use proto::tabletmanagerdata::{ChangeTypeRequest, ExecuteFetchAsDbaRequest};
use proto::topodata::{Tablet, TabletAlias, TabletType};
use topo::TopoServer;

use crate::all_cells;
use crate::tmclient::{alias_text, connect, rpc_error};

/// `GetTablets [--keyspace KS] [--shard SHARD] [--cell C]`.
#[derive(Args, Debug)]
pub struct GetTablets {
    #[arg(long)]
    keyspace: Option<String>,
    #[arg(long)]
    shard: Option<String>,
    #[arg(long = "cell", alias = "cells", value_delimiter = ',')]
    cells: Vec<String>,
}

impl GetTablets {
    pub async fn run(self, ts: &TopoServer) -> Result<()> {
        let cells = if self.cells.is_empty() {
            all_cells(ts).await?
        } else {
            self.cells
        };
        let mut tablets = Vec::new();
        for cell in &cells {
            tablets.extend(ts.get_tablets_by_cell(cell).await?);
        }
        tablets.retain(|t| {
            self.keyspace.as_deref().is_none_or(|k| t.keyspace == k)
                && self.shard.as_deref().is_none_or(|s| t.shard == s)
        });
        tablets.sort_by_key(alias_text);
        for t in &tablets {
            println!("{}", tablet_line(t));
        }
        Ok(())
    }
}

/// One line per tablet, in the column order of `vtctldclient GetTablets`:
/// alias, keyspace, shard, type, vt address, mysql address, tags, primary term start.
fn tablet_line(t: &Tablet) -> String {
    let tablet_type = TabletType::try_from(t.r#type).unwrap_or(TabletType::Unknown);
    let vt_port = t.port_map.get("vt").copied().unwrap_or_default();
    let term = t
        .primary_term_start_time
        .as_ref()
        .filter(|_| tablet_type == TabletType::Primary)
        .map(|time| time.seconds.to_string())
        .unwrap_or_default();
    format!(
        "{} {} {} {} {}:{} {}:{} [] {}",
        alias_text(t),
        t.keyspace,
        t.shard,
        tablet_type.lower_name(),
        t.hostname,
        vt_port,
        t.mysql_hostname,
        t.mysql_port,
        term
    )
    .trim_end()
    .to_owned()
}

/// `ExecuteFetchAsDBA [--disable-binlogs] [--max-rows N] <alias> <sql>`.
#[derive(Args, Debug)]
pub struct ExecuteFetchAsDba {
    #[arg(long = "disable-binlogs")]
    disable_binlogs: bool,
    #[arg(long = "max-rows", default_value_t = 10_000)]
    max_rows: u64,
    tablet_alias: TabletAlias,
    sql: String,
}

impl ExecuteFetchAsDba {
    pub async fn run(self, ts: &TopoServer) -> Result<()> {
        let tablet = ts.get_tablet(&self.tablet_alias).await?;
        let result =
            execute_as_dba(&tablet, &self.sql, self.max_rows, self.disable_binlogs).await?;
        for row in &result.rows {
            let values = row.split_values().context("malformed row from tablet")?;
            let text: Vec<String> = values
                .iter()
                .map(|v| {
                    v.map_or_else(
                        || "NULL".to_owned(),
                        |b| String::from_utf8_lossy(b).into_owned(),
                    )
                })
                .collect();
            println!("{}", text.join("\t"));
        }
        Ok(())
    }
}

/// Runs one statement on a tablet's MariaDB as the DBA user.
pub async fn execute_as_dba(
    tablet: &Tablet,
    sql: &str,
    max_rows: u64,
    disable_binlogs: bool,
) -> Result<proto::query::QueryResult> {
    let mut client = connect(tablet).await?;
    let response = client
        .execute_fetch_as_dba(ExecuteFetchAsDbaRequest {
            query: sql.as_bytes().to_vec(),
            db_name: db_name(tablet),
            max_rows,
            disable_binlogs,
            reload_schema: false,
            ..Default::default()
        })
        .await
        .map_err(|s| rpc_error(tablet, "ExecuteFetchAsDba", s))?;
    Ok(response.into_inner().result.unwrap_or_default())
}

/// The tablet's database: its override, or Vitess's `vt_<keyspace>`.
pub fn db_name(tablet: &Tablet) -> String {
    if tablet.db_name_override.is_empty() {
        format!("vt_{}", tablet.keyspace)
    } else {
        tablet.db_name_override.clone()
    }
}

/// `ChangeTabletType <alias> <type>`: replica <-> rdonly (not to or from primary).
#[derive(Args, Debug)]
pub struct ChangeTabletType {
    tablet_alias: TabletAlias,
    tablet_type: TabletType,
}

impl ChangeTabletType {
    pub async fn run(self, ts: &TopoServer) -> Result<()> {
        if self.tablet_type == TabletType::Primary {
            anyhow::bail!("use PlannedReparentShard to make a tablet primary");
        }
        let tablet = ts.get_tablet(&self.tablet_alias).await?;
        let mut client = connect(&tablet).await?;
        client
            .change_type(ChangeTypeRequest {
                tablet_type: self.tablet_type as i32,
                ..Default::default()
            })
            .await
            .map_err(|s| rpc_error(&tablet, "ChangeType", s))?;
        println!(
            "- {}\n+ {}",
            tablet_line(&tablet),
            tablet_line(&ts.get_tablet(&self.tablet_alias).await?)
        );
        Ok(())
    }
}
