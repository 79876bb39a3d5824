//! Unqualified table names and reference-table sources (Vitess
//! `buildGlobalTables`, `buildReferences`).

use std::sync::Arc;

use super::{BuildError, FindTableError, QualifiedName, TableType, VSchema};

/// Registers every table name of keyspaces without
/// `require_explicit_routing`; a name in several keyspaces becomes
/// ambiguous, except for reference tables whose source is the other table.
pub(super) fn build_global_tables(vschema: &mut VSchema) {
    for (ksname, ks) in &vschema.keyspaces {
        if ks.require_explicit_routing {
            continue;
        }
        for (tname, t) in &ks.tables {
            let source = t
                .source
                .as_ref()
                .filter(|_| t.table_type == TableType::Reference);
            match vschema.global_tables.get(tname) {
                Some(None) => {}
                Some(Some(existing)) => {
                    let same_source =
                        source.is_some_and(|s| s.keyspace.is_empty() || s.keyspace == *existing);
                    if !same_source {
                        vschema.global_tables.insert(tname.clone(), None);
                    }
                }
                None => {
                    // A reference table named like its source is reached
                    // through the source.
                    if source.is_some_and(|s| s.table == *tname) {
                        continue;
                    }
                    vschema
                        .global_tables
                        .insert(tname.clone(), Some(ksname.clone()));
                }
            }
        }
    }
}

/// Checks every reference table's source and records the reference on the
/// source table; the first problem becomes the keyspace's error.
pub(super) fn build_references(vschema: &mut VSchema) {
    let names: Vec<String> = vschema.keyspaces.keys().cloned().collect();
    for ksname in names {
        if let Err(e) = build_keyspace_references(vschema, &ksname) {
            if let Some(ks) = vschema.keyspaces.get_mut(&ksname) {
                ks.error.get_or_insert(e);
            }
        }
    }
}

fn build_keyspace_references(vschema: &mut VSchema, ksname: &str) -> Result<(), BuildError> {
    let references: Vec<(String, QualifiedName)> = match vschema.keyspaces.get(ksname) {
        Some(ks) => ks
            .tables
            .iter()
            .filter(|(_, t)| t.table_type == TableType::Reference)
            .filter_map(|(n, t)| t.source.clone().map(|s| (n.clone(), s)))
            .collect(),
        None => return Ok(()),
    };
    for (tname, source) in references {
        let quoted = format!("{:?}", source.to_string());
        if source.keyspace == ksname {
            return Err(BuildError::Reference(format!(
                "source {quoted} may not reference a table in the same keyspace as table: {tname}"
            )));
        }
        let ks = (!source.keyspace.is_empty()).then_some(source.keyspace.as_str());
        let found = match vschema.lookup_table(ks, &source.table, false) {
            Ok(found) => found,
            Err(FindTableError::UnknownKeyspace(k)) => {
                return Err(BuildError::Reference(format!(
                    "source {quoted} references a non-existent keyspace {k:?}"
                )))
            }
            Err(e) => return Err(BuildError::Reference(e.to_string())),
        };
        let Some(src) = found else {
            return Err(BuildError::Reference(format!(
                "source {quoted} references a table {:?} that is not present in the VSchema of keyspace {:?}",
                source.table, source.keyspace
            )));
        };
        let type_name = match src.table_type {
            TableType::Normal | TableType::Reference => None,
            TableType::Sequence => Some("sequence"),
        };
        if let Some(type_name) = type_name {
            return Err(BuildError::Reference(format!(
                "source {quoted} may not reference a table of type {type_name:?}: {tname}"
            )));
        }
        if let Some(other) = src.referenced_by.get(ksname) {
            let mut pair = [other.clone(), tname.clone()];
            pair.sort();
            return Err(BuildError::Reference(format!(
                "source {quoted} may not be referenced more than once per keyspace: {}, {}",
                pair[0], pair[1]
            )));
        }
        let src_keyspace = src.keyspace.name.clone();
        if let Some(t) = vschema
            .keyspaces
            .get_mut(&src_keyspace)
            .and_then(|k| k.tables.get_mut(&src.name))
        {
            Arc::make_mut(t)
                .referenced_by
                .insert(ksname.to_string(), tname.clone());
        }
        if let Some(chained) = &src.source {
            return Err(BuildError::Reference(format!(
                "reference chaining is not allowed {tname} => {src_keyspace}.{} => {chained}: {tname}",
                src.name
            )));
        }
    }
    Ok(())
}
