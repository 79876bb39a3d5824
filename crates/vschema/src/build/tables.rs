//! Building one keyspace: vindex instances and tables (Vitess
//! `buildTables`), and resolving auto-increment sequences afterwards.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use super::{
    AutoIncrement, BuildError, Column, ColumnKind, ColumnVindex, KeyspaceInfo, KeyspaceSchema,
    QualifiedName, Table, TableType, VSchema,
};
use crate::hex;
use crate::model::{self, SrvVSchema};
use crate::vindexes::Registry;

/// Builds a keyspace; on the first error the keyspace keeps what was built
/// so far and records the error.
pub(super) fn build_keyspace(
    name: &str,
    source: &model::Keyspace,
    registry: &Registry,
) -> KeyspaceSchema {
    let mut schema = KeyspaceSchema {
        keyspace: Arc::new(KeyspaceInfo {
            name: name.to_string(),
            sharded: source.sharded,
        }),
        tables: BTreeMap::new(),
        vindexes: BTreeMap::new(),
        require_explicit_routing: source.require_explicit_routing,
        foreign_key_mode: source.foreign_key_mode,
        error: None,
    };
    if let Err(e) = fill_keyspace(&mut schema, source, registry) {
        schema.error = Some(e);
    }
    schema
}

fn fill_keyspace(
    schema: &mut KeyspaceSchema,
    source: &model::Keyspace,
    registry: &Registry,
) -> Result<(), BuildError> {
    for (vname, v) in &source.vindexes {
        let vindex = registry.create(&v.vindex_type, vname, &v.params)?;
        schema.vindexes.insert(vname.clone(), vindex);
    }
    for (tname, t) in &source.tables {
        let table = build_table(schema, source, tname, t)?;
        schema.tables.insert(tname.clone(), Arc::new(table));
    }
    Ok(())
}

fn build_table(
    schema: &KeyspaceSchema,
    source: &model::Keyspace,
    tname: &str,
    t: &model::Table,
) -> Result<Table, BuildError> {
    let keyspace = schema.keyspace.clone();
    let mut table = Table::implicit(tname, keyspace.clone());
    table.column_list_authoritative = t.column_list_authoritative;
    table.primary_key = t.primary_key.clone();
    table.table_type = match t.table_type.as_str() {
        "" => TableType::Normal,
        "reference" => {
            if !t.source.is_empty() {
                table.source = Some(parse_source(&t.source, tname)?);
            }
            TableType::Reference
        }
        "sequence" => {
            if keyspace.sharded && t.pinned.is_empty() {
                return Err(BuildError::ShardedSequence(tname.to_string()));
            }
            TableType::Sequence
        }
        other => return Err(BuildError::UnknownTableType(other.to_string())),
    };
    if !t.pinned.is_empty() {
        table.pinned = Some(hex::decode(&t.pinned).map_err(BuildError::BadPin)?);
    }
    if keyspace.sharded
        && table.table_type != TableType::Reference
        && t.pinned.is_empty()
        && t.column_vindexes.is_empty()
    {
        return Err(BuildError::MissingPrimaryVindex(tname.to_string()));
    }

    let mut seen = HashSet::new();
    for col in &t.columns {
        if !seen.insert(col.name.to_lowercase()) {
            return Err(BuildError::DuplicateColumn {
                column: col.name.clone(),
                table: tname.to_string(),
            });
        }
        table.columns.push(Column {
            name: col.name.clone(),
            column_type: col.column_type.0,
            collation_name: col.collation_name.clone(),
        });
    }

    for (i, cv) in t.column_vindexes.iter().enumerate() {
        let mut built = build_column_vindex(schema, source, tname, i, cv)?;
        if let [column] = built.columns.as_slice() {
            built.kind = table
                .columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(column))
                .map_or(ColumnKind::Unknown, |c| ColumnKind::of_type(c.column_type));
        }
        let vindex = built.vindex.clone();
        let columns = built.columns.clone();
        table.column_vindexes.push(built);
        if !vindex.is_multi_column() {
            continue;
        }
        if i != 0 {
            return Err(BuildError::MultiColumnNotPrimary {
                vindex: cv.name.clone(),
                table: tname.to_string(),
            });
        }
        if !vindex.is_partial() {
            continue;
        }
        let mut cost = vindex.cost();
        for len in (1..columns.len()).rev() {
            cost += 1;
            let mut prefix = table.column_vindexes[0].clone();
            prefix.columns = columns[..len].to_vec();
            prefix.cost = cost;
            prefix.partial = true;
            table.column_vindexes.push(prefix);
        }
    }
    let mut ordered: Vec<usize> = (0..table.column_vindexes.len()).collect();
    ordered.sort_by_key(|&i| table.column_vindexes[i].cost);
    table.ordered = ordered;
    Ok(table)
}

fn build_column_vindex(
    schema: &KeyspaceSchema,
    source: &model::Keyspace,
    tname: &str,
    position: usize,
    cv: &model::ColumnVindex,
) -> Result<ColumnVindex, BuildError> {
    let names = || (cv.name.clone(), tname.to_string());
    let (Some(def), Some(vindex)) = (source.vindexes.get(&cv.name), schema.vindexes.get(&cv.name))
    else {
        let (vindex, table) = names();
        return Err(BuildError::VindexNotFound { vindex, table });
    };
    let columns = match (cv.column.is_empty(), cv.columns.is_empty()) {
        (false, false) => {
            let (vindex, table) = names();
            return Err(BuildError::ColumnAndColumns { vindex, table });
        }
        (false, true) => vec![cv.column.clone()],
        (true, false) => cv.columns.clone(),
        (true, true) => {
            let (vindex, table) = names();
            return Err(BuildError::NoColumns { vindex, table });
        }
    };
    let owned = vindex.lookup().is_some() && def.owner == tname;
    if position == 0 {
        if !vindex.is_unique() {
            let (vindex, table) = names();
            return Err(BuildError::PrimaryNotUnique { vindex, table });
        }
        if owned {
            let (vindex, table) = names();
            return Err(BuildError::PrimaryOwned { vindex, table });
        }
    }
    Ok(ColumnVindex {
        columns,
        name: cv.name.clone(),
        vindex_type: def.vindex_type.clone(),
        owned,
        cost: vindex.cost(),
        partial: false,
        vindex: vindex.clone(),
        kind: ColumnKind::Unknown,
    })
}

/// Splits `t` or `ks.t` (Vitess `extractTableParts`).
pub(super) fn split_table_name(
    name: &str,
    allow_unqualified: bool,
) -> Result<QualifiedName, String> {
    let parts: Vec<&str> = name.split('.').collect();
    match parts.as_slice() {
        [table] if allow_unqualified => Ok(QualifiedName {
            keyspace: String::new(),
            table: table.to_string(),
        }),
        [keyspace, table] => Ok(QualifiedName {
            keyspace: keyspace.to_string(),
            table: table.to_string(),
        }),
        _ => {
            let forms = if allow_unqualified {
                "unqualified form <table_name> or the "
            } else {
                ""
            };
            Err(format!(
                "invalid table name: {name}, it must be of the {forms}qualified form <keyspace_name>.<table_name> (dots are not allowed in either name)"
            ))
        }
    }
}

fn parse_source(source: &str, tname: &str) -> Result<QualifiedName, BuildError> {
    split_table_name(source, true).map_err(|reason| BuildError::InvalidSource {
        written: source.to_string(),
        table: tname.to_string(),
        reason,
    })
}

/// Resolves every `auto_increment.sequence` (Vitess `resolveAutoIncrement`):
/// a table whose sequence cannot be found is dropped and its keyspace
/// records the error.
pub(super) fn resolve_auto_increments(vschema: &mut VSchema, source: &SrvVSchema) {
    for (ksname, ks) in &source.keyspaces {
        for (tname, t) in &ks.tables {
            let Some(ai) = &t.auto_increment else {
                continue;
            };
            if !vschema
                .keyspaces
                .get(ksname)
                .is_some_and(|k| k.tables.contains_key(tname))
            {
                continue;
            }
            let resolved = split_table_name(&ai.sequence, true).and_then(|q| {
                let ks = (!q.keyspace.is_empty()).then_some(q.keyspace.as_str());
                vschema
                    .find_table_direct(ks, &q.table)
                    .map_err(|e| e.to_string())
            });
            let Some(schema) = vschema.keyspaces.get_mut(ksname) else {
                continue;
            };
            match resolved {
                Ok(seq) => {
                    if let Some(table) = schema.tables.get_mut(tname) {
                        Arc::make_mut(table).auto_increment = Some(AutoIncrement {
                            column: ai.column.clone(),
                            sequence: QualifiedName {
                                keyspace: seq.keyspace.name.clone(),
                                table: seq.name.clone(),
                            },
                        });
                    }
                }
                Err(reason) => {
                    schema.tables.remove(tname);
                    vschema.global_tables.remove(tname);
                    schema.error = Some(BuildError::UnresolvedSequence {
                        sequence: ai.sequence.clone(),
                        reason,
                    });
                }
            }
        }
    }
}
