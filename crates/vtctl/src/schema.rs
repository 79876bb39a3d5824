//! Schema and VSchema: `ApplySchema` runs DDL on every shard's primary; `ApplyVSchema` validates a
//! keyspace VSchema, stores it and rebuilds the serving VSchema of every cell.

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use topo::TopoServer;

use crate::all_cells;
use crate::tablets::execute_as_dba;

/// `ApplySchema (--sql-file F | --sql S) <keyspace>`.
#[derive(Args, Debug)]
pub struct ApplySchema {
    /// File of semicolon-separated DDL statements.
    #[arg(long = "sql-file", conflicts_with = "sql")]
    sql_file: Option<std::path::PathBuf>,
    /// DDL statements given inline.
    #[arg(long)]
    sql: Option<String>,
    keyspace: String,
}

impl ApplySchema {
    pub async fn run(self, ts: &TopoServer) -> Result<()> {
        let text = match (&self.sql_file, &self.sql) {
            (Some(path), _) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
            (None, Some(sql)) => sql.clone(),
            (None, None) => bail!("ApplySchema needs --sql-file or --sql"),
        };
        let statements: Vec<&str> = sql::split::split_statements(&text)
            .into_iter()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if statements.is_empty() {
            bail!("no SQL statements to apply");
        }
        let shards = ts.get_shard_names(&self.keyspace).await?;
        if shards.is_empty() {
            bail!("keyspace {} has no shards", self.keyspace);
        }
        // Check every shard has a primary before changing any of them.
        let mut primaries = Vec::with_capacity(shards.len());
        for shard in &shards {
            let record = ts.get_shard(&self.keyspace, shard).await?;
            let alias = record
                .primary_alias
                .ok_or_else(|| anyhow!("shard {}/{shard} has no primary", self.keyspace))?;
            primaries.push((shard, ts.get_tablet(&alias).await?));
        }
        for (shard, tablet) in &primaries {
            for statement in &statements {
                execute_as_dba(tablet, statement, 0, false)
                    .await
                    .with_context(|| format!("ApplySchema on {}/{shard}", self.keyspace))?;
            }
        }
        Ok(())
    }
}

/// `ApplyVSchema (--vschema-file F | --vschema JSON) [--dry-run] <keyspace>`.
#[derive(Args, Debug)]
pub struct ApplyVSchema {
    #[arg(long = "vschema-file", conflicts_with = "vschema")]
    vschema_file: Option<std::path::PathBuf>,
    #[arg(long)]
    vschema: Option<String>,
    /// Validate and print, without saving.
    #[arg(long = "dry-run")]
    dry_run: bool,
    keyspace: String,
}

impl ApplyVSchema {
    pub async fn run(self, ts: &TopoServer) -> Result<()> {
        let text = match (&self.vschema_file, &self.vschema) {
            (Some(path), _) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
            (None, Some(json)) => json.clone(),
            (None, None) => bail!("ApplyVSchema needs --vschema-file or --vschema"),
        };
        let model = vschema::model::Keyspace::from_json(&text).context("invalid VSchema JSON")?;
        ts.get_keyspace(&self.keyspace)
            .await
            .with_context(|| format!("keyspace {} does not exist", self.keyspace))?;
        vschema::validate_keyspace(&self.keyspace, &model)?;
        println!("New VSchema object:\n{}", model.to_json());
        if self.dry_run {
            println!("Dry run: Skipping update of VSchema");
            return Ok(());
        }
        ts.save_vschema(&self.keyspace, &model.into()).await?;
        ts.rebuild_vschema_graph(&all_cells(ts).await?).await?;
        Ok(())
    }
}

pub async fn get_vschema(ts: &TopoServer, keyspace: &str) -> Result<()> {
    let value = vschema::model::Keyspace::from(ts.get_vschema(keyspace).await?);
    println!("{}", value.to_json());
    Ok(())
}

pub async fn get_srv_vschema(ts: &TopoServer, cell: &str) -> Result<()> {
    let value = vschema::model::SrvVSchema::from(ts.get_srv_vschema(cell).await?);
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}
