//! Shard lifecycle and the per-shard serving graph:
//!
//! * `DeleteShards [--recursive] [--even-if-serving] <ks/shard>...`, as Vitess's:
//!   a shard that still serves primary traffic, or still has tablets (without
//!   `--recursive`), is refused; otherwise its tablets' records, its place in
//!   every cell's SrvKeyspace and its record are removed.
//! * `GetSrvKeyspaces <keyspace> [cell...]`: the SrvKeyspace of each cell as
//!   protojson (bytes in base64), so the shards serving each tablet type show.

use anyhow::{bail, Result};
use clap::Args;
use proto::topodata::{KeyRange, SrvKeyspace, TabletType};
use serde_json::{json, Map, Value};
use topo::TopoServer;

use crate::tmclient::alias_text;
use crate::{all_cells, parse_keyspace_shard};

/// `DeleteShards`.
#[derive(Args, Debug)]
pub struct DeleteShards {
    /// Also delete the shard's tablet records.
    #[arg(long)]
    recursive: bool,
    /// Delete a shard that still serves primary traffic.
    #[arg(long = "even-if-serving")]
    even_if_serving: bool,
    /// Shards as `<keyspace>/<shard>`.
    #[arg(required = true)]
    shards: Vec<String>,
}

impl DeleteShards {
    pub async fn run(self, ts: &TopoServer) -> Result<()> {
        for keyspace_shard in &self.shards {
            let (ks, shard) = parse_keyspace_shard(keyspace_shard)?;
            self.delete(ts, &ks, &shard).await?;
            println!("Successfully deleted shard {ks}/{shard}.");
        }
        Ok(())
    }

    async fn delete(&self, ts: &TopoServer, ks: &str, shard: &str) -> Result<()> {
        let record = ts.get_shard(ks, shard).await?;
        if record.is_primary_serving && !self.even_if_serving {
            bail!("shard {ks}/{shard} is still serving, cannot delete it, use the even-if-serving flag if needed");
        }
        let tablets = ts.get_tablets_by_shard(ks, shard).await?;
        if let Some(first) = tablets.first() {
            if !self.recursive {
                let cell = first.alias.as_ref().map_or("", |a| a.cell.as_str());
                bail!(
                    "shard {ks}/{shard} still has {} tablets in cell {cell}; use --recursive or remove them manually",
                    tablets.len()
                );
            }
        }
        for tablet in &tablets {
            if let Some(alias) = &tablet.alias {
                ts.delete_tablet(alias).await?;
                tracing::info!(tablet = alias_text(tablet), "deleted tablet record");
            }
        }
        for cell in all_cells(ts).await? {
            let mut srv = match ts.get_srv_keyspace(&cell, ks).await {
                Ok(srv) => srv,
                Err(e) if e.is_no_node() => continue,
                Err(e) => return Err(e.into()),
            };
            for partition in &mut srv.partitions {
                partition.shard_references.retain(|r| r.name != shard);
                partition.shard_tablet_controls.retain(|c| c.name != shard);
            }
            ts.update_srv_keyspace(&cell, ks, &srv).await?;
        }
        ts.delete_shard(ks, shard).await?;
        Ok(())
    }
}

/// `GetSrvKeyspaces <keyspace> [cell...]`.
#[derive(Args, Debug)]
pub struct GetSrvKeyspaces {
    keyspace: String,
    /// Cells to read (every cell when none).
    cells: Vec<String>,
}

impl GetSrvKeyspaces {
    pub async fn run(self, ts: &TopoServer) -> Result<()> {
        let cells = if self.cells.is_empty() {
            all_cells(ts).await?
        } else {
            self.cells
        };
        let mut out = Map::new();
        for cell in cells {
            let srv = ts.get_srv_keyspace(&cell, &self.keyspace).await?;
            out.insert(cell, srv_keyspace_json(&srv));
        }
        println!("{}", serde_json::to_string_pretty(&Value::Object(out))?);
        Ok(())
    }
}

fn srv_keyspace_json(srv: &SrvKeyspace) -> Value {
    let partitions: Vec<Value> = srv
        .partitions
        .iter()
        .map(|p| {
            let served_type = TabletType::try_from(p.served_type)
                .map_or("UNKNOWN", |t| t.as_str_name());
            let refs: Vec<Value> = p
                .shard_references
                .iter()
                .map(|r| json!({"name": r.name, "key_range": key_range_json(r.key_range.as_ref())}))
                .collect();
            let controls: Vec<Value> = p
                .shard_tablet_controls
                .iter()
                .map(|c| {
                    json!({
                        "name": c.name,
                        "key_range": key_range_json(c.key_range.as_ref()),
                        "query_service_disabled": c.query_service_disabled,
                    })
                })
                .collect();
            json!({"served_type": served_type, "shard_references": refs, "shard_tablet_controls": controls})
        })
        .collect();
    json!({"partitions": partitions})
}

/// protojson of a key range: empty bounds are left out, bytes are base64.
fn key_range_json(kr: Option<&KeyRange>) -> Value {
    let mut out = Map::new();
    if let Some(kr) = kr {
        if !kr.start.is_empty() {
            out.insert("start".into(), Value::String(base64(&kr.start)));
        }
        if !kr.end.is_empty() {
            out.insert("end".into(), Value::String(base64(&kr.end)));
        }
    }
    Value::Object(out)
}

/// Standard base64 with padding, as protojson writes bytes.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ranges_print_as_protojson() {
        assert_eq!(base64(&[0x80]), "gA==");
        assert_eq!(base64(&[0x40, 0x80]), "QIA=");
        assert_eq!(base64(b"abc"), "YWJj");
        let kr = KeyRange {
            start: vec![],
            end: vec![0x80],
        };
        assert_eq!(key_range_json(Some(&kr)), json!({"end": "gA=="}));
        assert_eq!(key_range_json(None), json!({}));
    }
}
