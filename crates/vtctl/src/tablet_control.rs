//! `SetShardTabletControl`: denied tables per tablet type, which tablets enforce from their
//! shard record (`disallowed due to rule: enforce denied tables`).

use anyhow::{bail, Result};
use clap::Args;
use proto::topodata::shard::TabletControl;
use proto::topodata::TabletType;
use topo::TopoServer;

use crate::{all_cells, parse_keyspace_shard};

/// `SetShardTabletControl [--cells c] [--denied-tables t1,t2] [--remove] <keyspace/shard> <type>`.
#[derive(Args, Debug)]
pub struct SetShardTabletControl {
    #[arg(long, value_delimiter = ',')]
    cells: Vec<String>,
    #[arg(long = "denied-tables", value_delimiter = ',')]
    denied_tables: Vec<String>,
    /// Remove the listed tables (or, with no list, the whole control for this type).
    #[arg(long)]
    remove: bool,
    keyspace_shard: String,
    tablet_type: TabletType,
}

impl SetShardTabletControl {
    pub async fn run(self, ts: &TopoServer) -> Result<()> {
        let (ks, shard) = parse_keyspace_shard(&self.keyspace_shard)?;
        if self.denied_tables.is_empty() && !self.remove {
            bail!("SetShardTabletControl needs --denied-tables or --remove");
        }
        let tablet_type = self.tablet_type as i32;
        ts.update_shard_fields(&ks, &shard, |s| {
            apply(
                &mut s.tablet_controls,
                tablet_type,
                &self.cells,
                &self.denied_tables,
                self.remove,
            );
            Ok(())
        })
        .await?;
        ts.rebuild_keyspace_graph(&ks, &all_cells(ts).await?)
            .await?;
        Ok(())
    }
}

/// Adds or removes denied tables in the control of one tablet type.
fn apply(
    controls: &mut Vec<TabletControl>,
    tablet_type: i32,
    cells: &[String],
    tables: &[String],
    remove: bool,
) {
    let index = controls.iter().position(|c| c.tablet_type == tablet_type);
    match (index, remove) {
        (Some(i), true) if tables.is_empty() => {
            controls.remove(i);
        }
        (Some(i), true) => {
            controls[i].denied_tables.retain(|t| !tables.contains(t));
            if controls[i].denied_tables.is_empty() {
                controls.remove(i);
            }
        }
        (None, true) => {}
        (Some(i), false) => {
            for t in tables {
                if !controls[i].denied_tables.contains(t) {
                    controls[i].denied_tables.push(t.clone());
                }
            }
        }
        (None, false) => controls.push(TabletControl {
            tablet_type,
            cells: cells.to_vec(),
            denied_tables: tables.to_vec(),
            ..Default::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_merges_and_removes_denied_tables() {
        let mut controls = Vec::new();
        let primary = TabletType::Primary as i32;
        apply(&mut controls, primary, &[], &["customer".into()], false);
        apply(
            &mut controls,
            primary,
            &[],
            &["corder".into(), "customer".into()],
            false,
        );
        assert_eq!(controls.len(), 1);
        assert_eq!(controls[0].denied_tables, vec!["customer", "corder"]);
        apply(&mut controls, primary, &[], &["customer".into()], true);
        assert_eq!(controls[0].denied_tables, vec!["corder"]);
        apply(&mut controls, primary, &[], &[], true);
        assert!(controls.is_empty());
    }
}
