//! Name resolution: tables (qualified, unqualified, through routing rules),
//! vindexes, and shard/keyspace routing rules (Vitess `FindTable`,
//! `FindRoutedTable`, `FindVindex`, `FindRoutedShard`).

use std::sync::Arc;

use proto::topodata::TabletType;

use super::tables::split_table_name;
use super::{FindTableError, RoutingTarget, TableRef, VSchema};
use crate::model::SrvVSchema;
use crate::vindexes::Vindex;

fn qualifier(keyspace: Option<&str>) -> Option<&str> {
    keyspace.filter(|k| !k.is_empty())
}

impl VSchema {
    /// Vitess `findTable`: `Ok(None)` when there is no such table.
    pub(super) fn lookup_table(
        &self,
        keyspace: Option<&str>,
        table: &str,
        construct_unsharded: bool,
    ) -> Result<Option<TableRef>, FindTableError> {
        let Some(ks) = qualifier(keyspace) else {
            return self.lookup_global_table(table, construct_unsharded);
        };
        let schema = self
            .keyspaces
            .get(ks)
            .ok_or_else(|| FindTableError::UnknownKeyspace(ks.to_string()))?;
        Ok(schema.find(table, construct_unsharded))
    }

    /// Vitess `findGlobalTable`: with a single keyspace every name resolves
    /// in it; otherwise the name must be unique across keyspaces.
    fn lookup_global_table(
        &self,
        table: &str,
        construct_unsharded: bool,
    ) -> Result<Option<TableRef>, FindTableError> {
        if self.keyspaces.len() == 1 {
            return Ok(self
                .keyspaces
                .values()
                .next()
                .and_then(|k| k.find(table, construct_unsharded)));
        }
        match self.global_tables.get(table) {
            Some(Some(ks)) => Ok(self
                .keyspaces
                .get(ks)
                .and_then(|k| k.tables.get(table).cloned())),
            Some(None) => Err(FindTableError::Ambiguous(table.to_string())),
            None => Ok(None),
        }
    }

    /// Vitess `FindTable`: resolves `keyspace.table` or an unqualified name,
    /// ignoring routing rules. Tables of an unsharded keyspace need not be
    /// listed in its VSchema.
    pub fn find_table_direct(
        &self,
        keyspace: Option<&str>,
        table: &str,
    ) -> Result<TableRef, FindTableError> {
        self.lookup_table(keyspace, table, true)?
            .ok_or_else(|| FindTableError::NotFound(table.to_string()))
    }

    /// Resolves a table for a query to primary tablets, applying routing rules.
    pub fn find_table(
        &self,
        keyspace: Option<&str>,
        table: &str,
    ) -> Result<TableRef, FindTableError> {
        self.find_routed_table(keyspace, table, TabletType::Primary)
    }

    /// Vitess `FindRoutedTable`: first the routing rule for
    /// `[ks.]table@<tablet type>`, then for `[ks.]table`, then the VSchema.
    pub fn find_routed_table(
        &self,
        keyspace: Option<&str>,
        table: &str,
        tablet_type: TabletType,
    ) -> Result<TableRef, FindTableError> {
        let qualified = match qualifier(keyspace) {
            Some(ks) => format!("{ks}.{table}"),
            None => table.to_string(),
        };
        let with_type = format!("{qualified}@{}", tablet_type.lower_name());
        for name in [&with_type, &qualified] {
            match self.routing_rules.get(name) {
                Some(RoutingTarget::Table(t)) => return Ok(t.clone()),
                Some(RoutingTarget::Disabled) => {
                    return Err(FindTableError::Disabled(table.to_string()))
                }
                Some(RoutingTarget::Invalid(msg)) => {
                    return Err(FindTableError::BadRoutingRule(msg.clone()))
                }
                None => {}
            }
        }
        self.find_table_direct(keyspace, table)
    }

    /// Vitess `FindVindex`: a vindex by name, unqualified names must be
    /// unique across keyspaces. `Ok(None)` when there is none.
    pub fn find_vindex(
        &self,
        keyspace: Option<&str>,
        name: &str,
    ) -> Result<Option<Arc<dyn Vindex>>, FindTableError> {
        match qualifier(keyspace) {
            None => match self.unique_vindexes.get(name) {
                Some(Some(v)) => Ok(Some(v.clone())),
                Some(None) => Err(FindTableError::AmbiguousVindex(name.to_string())),
                None => Ok(None),
            },
            Some(ks) => self
                .keyspaces
                .get(ks)
                .map(|k| k.vindexes.get(name).cloned())
                .ok_or_else(|| FindTableError::UnknownKeyspace(ks.to_string())),
        }
    }

    /// The keyspace that serves `keyspace`/`shard` under the shard routing
    /// rules (partial MoveTables), or `keyspace` itself.
    pub fn find_routed_shard<'a>(&'a self, keyspace: &'a str, shard: &str) -> &'a str {
        self.shard_routing_rules
            .get(&format!("{keyspace}.{shard}"))
            .map_or(keyspace, String::as_str)
    }

    /// The keyspace that serves `keyspace` under the keyspace routing rules.
    pub fn find_routed_keyspace<'a>(&'a self, keyspace: &'a str) -> &'a str {
        self.keyspace_routing_rules
            .get(keyspace)
            .map_or(keyspace, String::as_str)
    }
}

/// Builds the table, shard and keyspace routing rules (Vitess
/// `buildRoutingRule`, `buildShardRoutingRule`).
pub(super) fn build_routing_rules(vschema: &mut VSchema, source: &SrvVSchema) {
    if let Some(rules) = &source.routing_rules {
        for rule in &rules.rules {
            let from = rule.from_table.clone();
            if rule.to_tables.len() > 1 {
                let msg = format!(
                    "table {} has more than one target: [{}]",
                    rule.from_table,
                    rule.to_tables.join(" ")
                );
                vschema
                    .routing_rules
                    .insert(from, RoutingTarget::Invalid(msg));
                continue;
            }
            let target = match rule.to_tables.first() {
                None => RoutingTarget::Disabled,
                Some(_) if vschema.routing_rules.contains_key(&from) => {
                    RoutingTarget::Invalid(format!("duplicate rule for entry {}", rule.from_table))
                }
                Some(to) => match split_table_name(to, false) {
                    Err(msg) => RoutingTarget::Invalid(msg),
                    Ok(q) => match vschema.find_table_direct(Some(&q.keyspace), &q.table) {
                        Ok(t) => RoutingTarget::Table(t),
                        Err(e) => RoutingTarget::Invalid(e.to_string()),
                    },
                },
            };
            vschema.routing_rules.insert(from, target);
        }
    }
    if let Some(rules) = &source.shard_routing_rules {
        for r in &rules.rules {
            vschema.shard_routing_rules.insert(
                format!("{}.{}", r.from_keyspace, r.shard),
                r.to_keyspace.clone(),
            );
        }
    }
    if let Some(rules) = &source.keyspace_routing_rules {
        for r in &rules.rules {
            vschema
                .keyspace_routing_rules
                .insert(r.from_keyspace.clone(), r.to_keyspace.clone());
        }
    }
}
