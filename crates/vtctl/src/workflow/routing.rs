//! What a workflow changes in the topology: the global routing rules (with
//! the serving VSchema rebuilt after each change) and the denied tables of
//! the shards' PRIMARY tablet controls.

use std::collections::BTreeMap;

use anyhow::Result;
use proto::topodata::shard::TabletControl;
use proto::topodata::TabletType;
use proto::vschema::{RoutingRule, RoutingRules};
use topo::TopoServer;

use crate::all_cells;

/// The suffixes of the tablet types routing rules distinguish (`""` is the primary).
pub const READ_SUFFIXES: [&str; 2] = ["@replica", "@rdonly"];

/// Routing rules as an ordered map `from_table -> to_tables`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules(BTreeMap<String, Vec<String>>);

impl Rules {
    /// Reads the global routing rules.
    pub async fn load(ts: &TopoServer) -> Result<Rules> {
        let stored = ts.get_routing_rules().await?;
        Ok(Rules(
            stored
                .rules
                .into_iter()
                .map(|r| (r.from_table, r.to_tables))
                .collect(),
        ))
    }

    /// Stores the rules and rebuilds every cell's SrvVSchema.
    pub async fn save(&self, ts: &TopoServer) -> Result<()> {
        let rules = RoutingRules {
            rules: self
                .0
                .iter()
                .map(|(from, to)| RoutingRule {
                    from_table: from.clone(),
                    to_tables: to.clone(),
                })
                .collect(),
        };
        ts.save_routing_rules(&rules).await?;
        ts.rebuild_vschema_graph(&all_cells(ts).await?).await?;
        Ok(())
    }

    /// Routes `from` to the single table `to`.
    pub fn set(&mut self, from: String, to: String) {
        self.0.insert(from, vec![to]);
    }

    /// Removes the rule for `from`.
    pub fn remove(&mut self, from: &str) {
        self.0.remove(from);
    }

    /// Where `from` is routed, when a rule exists.
    pub fn get(&self, from: &str) -> Option<&[String]> {
        self.0.get(from).map(Vec::as_slice)
    }

    /// The rules a MoveTables create writes: every name of `table`, for
    /// every tablet type, goes to the source.
    pub fn route_all_to(&mut self, table: &str, source: &str, target: &str, to: &str) {
        for suffix in std::iter::once("").chain(READ_SUFFIXES) {
            for from in [
                format!("{table}{suffix}"),
                format!("{target}.{table}{suffix}"),
                format!("{source}.{table}{suffix}"),
            ] {
                self.set(from, format!("{to}.{table}"));
            }
        }
    }

    /// Points the reads of `suffix` (`@replica`, `@rdonly`) for `table` at keyspace `to`.
    pub fn route_reads(&mut self, table: &str, suffix: &str, keyspaces: [&str; 2], to: &str) {
        self.set(format!("{table}{suffix}"), format!("{to}.{table}"));
        for ks in keyspaces {
            self.set(format!("{ks}.{table}{suffix}"), format!("{to}.{table}"));
        }
    }

    /// Vitess's `changeWriteRoute`: writes of `table` go from `from` to `to`.
    pub fn route_writes(&mut self, table: &str, from: &str, to: &str) {
        self.remove(&format!("{to}.{table}"));
        self.set(table.to_owned(), format!("{to}.{table}"));
        self.set(format!("{from}.{table}"), format!("{to}.{table}"));
    }

    /// Removes every rule about `table` in these keyspaces.
    pub fn remove_table(&mut self, table: &str, keyspaces: [&str; 2]) {
        for suffix in std::iter::once("").chain(READ_SUFFIXES) {
            self.remove(&format!("{table}{suffix}"));
            for ks in keyspaces {
                self.remove(&format!("{ks}.{table}{suffix}"));
            }
        }
    }
}

/// Adds (`deny`) or removes `tables` in the PRIMARY tablet control of every shard of `keyspace`.
pub async fn set_denied_tables(
    ts: &TopoServer,
    keyspace: &str,
    tables: &[String],
    deny: bool,
) -> Result<()> {
    for shard in ts.get_shard_names(keyspace).await? {
        ts.update_shard_fields(keyspace, &shard, |s| {
            update_controls(&mut s.tablet_controls, tables, deny);
            Ok(())
        })
        .await?;
    }
    Ok(())
}

fn update_controls(controls: &mut Vec<TabletControl>, tables: &[String], deny: bool) {
    let primary = TabletType::Primary as i32;
    let index = controls.iter().position(|c| c.tablet_type == primary);
    match (index, deny) {
        (Some(i), true) => {
            for t in tables {
                if !controls[i].denied_tables.contains(t) {
                    controls[i].denied_tables.push(t.clone());
                }
            }
        }
        (None, true) => controls.push(TabletControl {
            tablet_type: primary,
            denied_tables: tables.to_vec(),
            ..Default::default()
        }),
        (Some(i), false) => {
            controls[i].denied_tables.retain(|t| !tables.contains(t));
            if controls[i].denied_tables.is_empty() && !controls[i].frozen {
                controls.remove(i);
            }
        }
        (None, false) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_switch_and_reverse_rules() {
        let mut rules = Rules::default();
        rules.route_all_to("customer", "commerce", "customer", "commerce");
        assert_eq!(rules.0.len(), 9);
        assert_eq!(
            rules.get("customer@replica"),
            Some(&["commerce.customer".to_owned()][..])
        );
        assert_eq!(
            rules.get("customer.customer"),
            Some(&["commerce.customer".to_owned()][..])
        );
        rules.route_reads("customer", "@rdonly", ["commerce", "customer"], "customer");
        assert_eq!(
            rules.get("commerce.customer@rdonly"),
            Some(&["customer.customer".to_owned()][..])
        );
        rules.route_writes("customer", "commerce", "customer");
        assert_eq!(
            rules.get("customer"),
            Some(&["customer.customer".to_owned()][..])
        );
        assert_eq!(
            rules.get("commerce.customer"),
            Some(&["customer.customer".to_owned()][..])
        );
        assert_eq!(rules.get("customer.customer"), None);
        rules.route_writes("customer", "customer", "commerce");
        assert_eq!(
            rules.get("customer"),
            Some(&["commerce.customer".to_owned()][..])
        );
        assert_eq!(rules.get("commerce.customer"), None);
        rules.remove_table("customer", ["commerce", "customer"]);
        assert!(rules.0.is_empty());
    }

    #[test]
    fn denied_tables_are_added_and_removed() {
        let mut controls = Vec::new();
        update_controls(&mut controls, &["a".into(), "b".into()], true);
        update_controls(&mut controls, &["b".into()], true);
        assert_eq!(controls[0].denied_tables, ["a", "b"]);
        update_controls(&mut controls, &["a".into(), "b".into()], false);
        assert!(controls.is_empty());
    }
}
