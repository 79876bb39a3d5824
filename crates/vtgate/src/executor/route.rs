//! Routing: decides where a statement runs. This is the step a planner replaces for sharded
//! keyspaces; for now every statement resolves to one keyspace and its shard(s) of an
//! unsharded keyspace (or the shard the session's target names).
//!
//! The keyspace comes from, in order: the table routing rules (`t`, `ks.t`, `t@replica`:
//! when a rule names a table of the statement, every table goes where the rules or its
//! qualifier say), keyspace qualifiers in the statement (`ks.t`), the session's target, and
//! the VSchema tables the statement names (a table unique across keyspaces resolves with
//! no database selected). A statement rerouted by the rules is sent with its keyspace
//! qualifiers dropped, so it names the target tablet's own database.

use std::collections::BTreeSet;

use proto::topodata::TabletType;
use sql::classify::StatementKind;
use sqlparser::ast::{visit_relations, ObjectName, ObjectNamePart};

use crate::error::VtError;
use crate::rewrite::qualifiers;
use crate::session::Session;
use crate::topology::{KeyspaceInfo, Topology};

/// The MySQL schemas every tablet has; names qualified with them are not keyspaces.
pub const SYSTEM_SCHEMAS: &[&str] = &["information_schema", "mysql", "sys", "performance_schema"];

/// Where a statement runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Keyspace.
    pub keyspace: String,
    /// Shards to send to (one for everything but DDL on a multi-shard keyspace).
    pub shards: Vec<String>,
    /// Tablet type.
    pub tablet_type: TabletType,
}

/// Routes a statement of kind `kind`. `known_shards` lists shards seen from tablets, used
/// when the keyspace has no SrvKeyspace.
pub fn route(
    topo: &Topology,
    session: &Session,
    kind: &StatementKind,
    sql: &str,
    known_shards: &dyn Fn(&str) -> Vec<String>,
) -> Result<Route, VtError> {
    let keyspace = resolve_keyspace(topo, session, kind, sql)?;
    let is_ddl = matches!(kind, StatementKind::Ddl);
    let tablet_type = if is_ddl {
        TabletType::Primary
    } else {
        session.tablet_type()
    };
    if kind.is_dml() && tablet_type != TabletType::Primary {
        return Err(VtError::ReplicaWrite(dml_name(kind)));
    }
    let shards = match (session.shard(), session.keyspace()) {
        (Some(shard), Some(ks)) if ks == keyspace.name => vec![shard.to_string()],
        _ => {
            let mut shards = keyspace.shards_for(tablet_type).to_vec();
            if shards.is_empty() {
                shards = known_shards(&keyspace.name);
            }
            let system_only =
                mentions_system_schema(sql) && table_names(sql).is_some_and(|t| t.is_empty());
            // SHOW and EXPLAIN / DESCRIBE read a table's definition, the same on every shard:
            // one shard answers them, as Vitess sends them to AnyShard.
            let any_shard = matches!(kind, StatementKind::Show(_) | StatementKind::Explain);
            if keyspace.sharded && (system_only || any_shard) {
                shards.truncate(1);
            } else if keyspace.sharded && !is_ddl {
                return Err(VtError::Unsupported(format!(
                    "query on sharded keyspace '{}' without a shard in the target",
                    keyspace.name
                )));
            }
            if !keyspace.sharded && !is_ddl && shards.len() > 1 {
                // Sending to the first shard would silently miss the rows of the others.
                return Err(VtError::Other(format!(
                    "unsharded keyspace {} has {} shards ({}); it must have exactly one",
                    keyspace.name,
                    shards.len(),
                    shards.join(", ")
                )));
            }
            shards
        }
    };
    if shards.is_empty() {
        return Err(VtError::Other(format!(
            "keyspace {} has no shards serving {}",
            keyspace.name, tablet_type
        )));
    }
    Ok(Route {
        keyspace: keyspace.name.clone(),
        shards,
        tablet_type,
    })
}

/// Whether a statement goes through the planner: a SELECT or DML for no particular shard
/// whose tables live in a sharded keyspace, or in several keyspaces. `information_schema`
/// and the other system schemas stay on the pass-through path.
pub fn needs_planner(topo: &Topology, session: &Session, kind: &StatementKind, sql: &str) -> bool {
    if session.shard().is_some()
        || !matches!(
            kind,
            StatementKind::Select
                | StatementKind::Insert
                | StatementKind::Replace
                | StatementKind::Update
                | StatementKind::Delete
        )
        || mentions_system_schema(sql)
    {
        return false;
    }
    match resolve_keyspace(topo, session, kind, sql) {
        Ok(ks) if ks.sharded => true,
        Ok(_) => unqualified_in_sharded(topo, session, sql),
        Err(VtError::Unsupported(_)) => true,
        Err(_) => false,
    }
}

/// Whether an unqualified table of the statement lives in a sharded keyspace: the session's
/// keyspace when one is selected, else the keyspace whose VSchema has the table (a statement
/// can qualify some tables with an unsharded keyspace and leave sharded ones unqualified).
fn unqualified_in_sharded(topo: &Topology, session: &Session, sql: &str) -> bool {
    // With an unsharded keyspace selected, unqualified tables are that keyspace's: the answer is
    // no whatever the statement names, so the per-query parse is skipped (the point-select path).
    if let Some(ks) = session.keyspace() {
        if !topo.keyspace(ks).is_some_and(|k| k.sharded) {
            return false;
        }
    }
    let Ok(stmt) = sql::parse::parse(sql) else {
        return false;
    };
    let mut unqualified = Vec::new();
    let _ = visit_relations(&stmt, |name: &ObjectName| {
        if let [ObjectNamePart::Identifier(t)] = name.0.as_slice() {
            if !t.value.eq_ignore_ascii_case("dual") {
                unqualified.push(t.value.clone());
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    if unqualified.is_empty() {
        return false;
    }
    match session.keyspace() {
        Some(ks) => topo.keyspace(ks).is_some_and(|k| k.sharded),
        None => unqualified
            .iter()
            .any(|t| topo.find_table(t).is_ok_and(|k| k.sharded)),
    }
}

/// Whether the statement names a table of a system schema (`information_schema.tables`).
/// Only a statement with a system schema name followed by `.` among its tokens can, so the
/// others (nearly all) are not parsed here.
fn mentions_system_schema(sql: &str) -> bool {
    if !has_system_qualifier(sql) {
        return false;
    }
    let Ok(stmt) = sql::parse::parse(sql) else {
        return false;
    };
    let mut found = false;
    let _ = visit_relations(&stmt, |name: &ObjectName| {
        if let [ObjectNamePart::Identifier(schema), _] = name.0.as_slice() {
            found |= SYSTEM_SCHEMAS.contains(&schema.value.to_ascii_lowercase().as_str());
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    found
}

/// Whether a word naming a system schema is followed by `.` somewhere in `sql`.
fn has_system_qualifier(sql: &str) -> bool {
    if !sql.contains('.') {
        return false;
    }
    let tokens = crate::rewrite::tokens(sql);
    tokens.windows(2).any(|pair| {
        let (word, dot) = (&pair[0], &pair[1]);
        word.kind == crate::rewrite::Kind::Word
            && dot.kind == crate::rewrite::Kind::Punct
            && &sql[dot.start..dot.end] == "."
            && SYSTEM_SCHEMAS.iter().any(|schema| {
                sql[word.start..word.end]
                    .trim_matches('`')
                    .eq_ignore_ascii_case(schema)
            })
    })
}

fn dml_name(kind: &StatementKind) -> &'static str {
    match kind {
        StatementKind::Insert => "insert",
        StatementKind::Replace => "replace",
        StatementKind::Update => "update",
        _ => "delete",
    }
}

fn resolve_keyspace<'t>(
    topo: &'t Topology,
    session: &Session,
    kind: &StatementKind,
    sql: &str,
) -> Result<&'t KeyspaceInfo, VtError> {
    if let Some(ks) = routed_keyspace(topo, session, kind, sql)? {
        return topo
            .keyspace(&ks)
            .ok_or_else(|| VtError::UnknownDatabase(ks.clone()));
    }
    let named: BTreeSet<String> = qualifiers(sql, &|q| topo.keyspace(q).is_some());
    if named.len() > 1 {
        return Err(cross_keyspace(&named));
    }
    if let Some(ks) = named.iter().next() {
        return topo
            .keyspace(ks)
            .ok_or_else(|| VtError::UnknownDatabase(ks.clone()));
    }
    if let Some(ks) = session.keyspace() {
        if !SYSTEM_SCHEMAS.contains(&ks) {
            return topo
                .keyspace(ks)
                .ok_or_else(|| VtError::UnknownDatabase(ks.to_string()));
        }
    }
    if matches!(kind, StatementKind::Ddl) {
        return Err(VtError::NoDatabaseSelected);
    }
    let tables_allowed_empty = !matches!(
        kind,
        StatementKind::Insert
            | StatementKind::Replace
            | StatementKind::Update
            | StatementKind::Delete
    );
    let tables = match table_names(sql) {
        Some(t) => t,
        None if tables_allowed_empty => Vec::new(),
        None => return Err(VtError::NoDatabaseSelected),
    };
    let mut found: BTreeSet<String> = BTreeSet::new();
    for table in &tables {
        let ks = match topo.find_table(table) {
            Ok(ks) => ks.name.clone(),
            // A vindex selected as a table (a vindex function) belongs to its keyspace.
            Err(VtError::UnknownTable(t)) => {
                vindex_keyspace(topo, table).ok_or(VtError::UnknownTable(t))?
            }
            Err(e) => return Err(e),
        };
        found.insert(ks);
    }
    match found.len() {
        0 if tables_allowed_empty => topo.any_keyspace().ok_or(VtError::NoDatabaseSelected),
        0 => Err(VtError::NoDatabaseSelected),
        1 => topo
            .keyspace(found.iter().next().map_or("", String::as_str))
            .ok_or(VtError::NoDatabaseSelected),
        _ => Err(cross_keyspace(&found)),
    }
}

/// The keyspace of the vindex `name`, when its name is unique across keyspaces.
fn vindex_keyspace(topo: &Topology, name: &str) -> Option<String> {
    topo.vschema().find_vindex(None, name).ok()??;
    topo.vschema()
        .keyspaces
        .iter()
        .find(|(_, k)| k.vindexes.contains_key(name))
        .map(|(ks, _)| ks.clone())
}

/// The keyspace a statement goes to when a routing rule names one of its tables, None when
/// no rule applies (nor with a shard in the target, nor for DDL). A rule that renames a
/// table sends the statement to the planner (`Unsupported`), which rewrites the name.
fn routed_keyspace(
    topo: &Topology,
    session: &Session,
    kind: &StatementKind,
    sql: &str,
) -> Result<Option<String>, VtError> {
    if !topo.has_routing_rules() || session.shard().is_some() || matches!(kind, StatementKind::Ddl)
    {
        return Ok(None);
    }
    let Some(relations) = relations(sql) else {
        return Ok(None);
    };
    let tablet_type = session.tablet_type();
    let session_ks = session
        .keyspace()
        .filter(|k| !SYSTEM_SCHEMAS.contains(&k.to_ascii_lowercase().as_str()));
    let mut routed = false;
    let mut found: BTreeSet<String> = BTreeSet::new();
    for (qualifier, table) in &relations {
        let qualifier = qualifier.as_deref().filter(|q| topo.keyspace(q).is_some());
        let scope = qualifier.or(session_ks);
        match topo.routed_table(scope, table, tablet_type) {
            Some(target) => {
                let target = target?;
                if target.name != *table {
                    return Err(VtError::Unsupported(format!(
                        "routing rule renames {table} to {}",
                        target.name
                    )));
                }
                routed = true;
                found.insert(target.keyspace.name.clone());
            }
            None => {
                let ks = match scope {
                    Some(ks) => ks.to_string(),
                    None => topo.find_table(table)?.name.clone(),
                };
                found.insert(ks);
            }
        }
    }
    if !routed {
        return Ok(None);
    }
    match found.len() {
        1 => Ok(found.into_iter().next()),
        _ => Err(cross_keyspace(&found)),
    }
}

fn cross_keyspace(names: &BTreeSet<String>) -> VtError {
    let list: Vec<&str> = names.iter().map(String::as_str).collect();
    VtError::Unsupported(format!("cross-keyspace query: {}", list.join(", ")))
}

/// The unqualified table names a statement refers to (names qualified with a system
/// schema are skipped), or None when it does not parse.
pub fn table_names(sql: &str) -> Option<Vec<String>> {
    Some(relations(sql)?.into_iter().map(|(_, t)| t).collect())
}

/// The tables a statement refers to, with their qualifiers (names qualified with a system
/// schema and `dual` are skipped), or None when it does not parse.
fn relations(sql: &str) -> Option<Vec<(Option<String>, String)>> {
    let stmt = sql::parse::parse(sql).ok()?;
    let mut names = Vec::new();
    let _ = visit_relations(&stmt, |name: &ObjectName| {
        let parts: Vec<String> = name
            .0
            .iter()
            .filter_map(|p| match p {
                ObjectNamePart::Identifier(i) => Some(i.value.clone()),
                _ => None,
            })
            .collect();
        match parts.as_slice() {
            [table] if table.eq_ignore_ascii_case("dual") => {}
            [table] => names.push((None, table.clone())),
            [schema, _] if SYSTEM_SCHEMAS.contains(&schema.to_ascii_lowercase().as_str()) => {}
            [schema, table] => names.push((Some(schema.clone()), table.clone())),
            _ => {}
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::tests::sample;
    use sql::classify::classify;
    use sql::target::Target;

    fn run(session: &Session, sql: &str) -> Result<Route, VtError> {
        let topo = sample();
        route(&topo, session, &classify(sql), sql, &|_| Vec::new())
    }

    fn session(target: &str) -> Session {
        let mut s = Session::new(TabletType::Primary);
        if !target.is_empty() {
            s.set_target(target, Target::parse(target).unwrap());
        }
        s
    }

    #[test]
    fn system_schema_tables_are_found_without_false_alarms() {
        for yes in [
            "select * from information_schema.tables",
            "select * from `INFORMATION_SCHEMA` . `tables` where 1",
            "select u.id from user u join mysql.user m on m.user = u.name",
            "select 1 from dual where exists (select 1 from performance_schema.threads)",
        ] {
            assert!(mentions_system_schema(yes), "{yes}");
        }
        for no in [
            "select * from user where name = 'information_schema.tables'",
            "select information_schema from t",
            "select * from sbtest1 where id = 5",
            "select mysql.id from t as mysql",
            "select * from t /* mysql.user */",
        ] {
            assert!(!mentions_system_schema(no), "{no}");
        }
    }

    #[test]
    fn unique_tables_resolve_without_a_database() {
        let s = session("");
        let r = run(&s, "insert into customer(email) values('a@b.c')").unwrap();
        assert_eq!(
            r,
            Route {
                keyspace: "commerce".into(),
                shards: vec!["0".into()],
                tablet_type: TabletType::Primary
            }
        );
        assert_eq!(
            run(&s, "select * from customer2").unwrap().keyspace,
            "customer"
        );
        assert_eq!(run(&s, "select 1").unwrap().keyspace, "commerce");
        assert_eq!(run(&s, "select 1 from DUAL").unwrap().keyspace, "commerce");
        assert_eq!(
            run(&s, "select * from nope").unwrap_err(),
            VtError::UnknownTable("nope".into())
        );
        assert_eq!(
            run(&s, "create table t (a int)").unwrap_err(),
            VtError::NoDatabaseSelected
        );
        assert!(matches!(
            run(&s, "select * from product join customer2").unwrap_err(),
            VtError::Unsupported(_)
        ));
    }

    #[test]
    fn session_target_and_qualifiers() {
        let s = session("customer@replica");
        let r = run(&s, "select * from whatever").unwrap();
        assert_eq!(
            (r.keyspace.as_str(), r.tablet_type),
            ("customer", TabletType::Replica)
        );
        let r = run(&s, "select * from commerce.product").unwrap();
        assert_eq!(r.keyspace, "commerce");
        assert_eq!(
            run(&s, "delete from t").unwrap_err(),
            VtError::ReplicaWrite("delete")
        );
        let r = run(&s, "create table t (a int)").unwrap();
        assert_eq!(r.tablet_type, TabletType::Primary);
        let s = session("commerce/-80");
        assert_eq!(run(&s, "select 1").unwrap().shards, vec!["-80".to_string()]);
        let s = session("gone");
        assert_eq!(
            run(&s, "select 1").unwrap_err(),
            VtError::UnknownDatabase("gone".into())
        );
    }

    #[test]
    fn sharded_keyspaces_go_to_the_planner() {
        use proto::vschema::{Keyspace, SrvVSchema, Table};
        let mut vs = SrvVSchema::default();
        let ks = |sharded: bool, tables: &[&str]| Keyspace {
            sharded,
            tables: tables
                .iter()
                .map(|t| (t.to_string(), Table::default()))
                .collect(),
            ..Default::default()
        };
        vs.keyspaces.insert("main".into(), ks(false, &["product"]));
        vs.keyspaces.insert("users".into(), ks(true, &["user"]));
        let topo = Topology::from_srv(&vs, &Default::default());
        let planned =
            |target: &str, sql: &str| needs_planner(&topo, &session(target), &classify(sql), sql);
        assert!(planned("", "select * from user"));
        assert!(planned("users", "delete from user where id = 1"));
        assert!(planned("", "select * from product join users.user"));
        assert!(planned("users", "select * from user join main.product"));
        assert!(planned(
            "",
            "select * from user u join main.product p on u.a = p.b"
        ));
        assert!(!planned("users", "select * from main.product"));
        assert!(!planned("", "select * from product"));
        assert!(!planned("users/-80", "select * from user"));
        assert!(!planned("users", "select * from information_schema.tables"));
        assert!(!planned("users", "create table t (a int)"));
        let topo_route = route(
            &topo,
            &session("users"),
            &classify("select * from information_schema.tables"),
            "select * from information_schema.tables",
            &|_| vec!["-80".into(), "80-".into()],
        )
        .unwrap();
        assert_eq!(topo_route.shards, vec!["-80".to_string()]);
    }

    /// `commerce` and `customer` both list `customer`; MoveTables rules with reads switched
    /// for replica, and `commerce.customer` switched for rdonly only.
    fn moving() -> Topology {
        Topology::from_srv(&moving_vschema(), &Default::default())
    }

    fn moving_vschema() -> proto::vschema::SrvVSchema {
        use proto::vschema::{Keyspace, RoutingRule, RoutingRules, SrvVSchema, Table};
        let mut vs = SrvVSchema::default();
        let ks = |tables: &[&str]| Keyspace {
            tables: tables
                .iter()
                .map(|t| (t.to_string(), Table::default()))
                .collect(),
            ..Default::default()
        };
        vs.keyspaces
            .insert("commerce".into(), ks(&["customer", "product"]));
        vs.keyspaces.insert("customer".into(), ks(&["customer"]));
        let rule = |from: &str, to: &str| RoutingRule {
            from_table: from.into(),
            to_tables: vec![to.into()],
        };
        vs.routing_rules = Some(RoutingRules {
            rules: vec![
                rule("customer", "commerce.customer"),
                rule("commerce.customer", "commerce.customer"),
                rule("customer.customer", "commerce.customer"),
                rule("customer@replica", "customer.customer"),
                rule("commerce.customer@replica", "customer.customer"),
                rule("customer.customer@replica", "customer.customer"),
                rule("commerce.customer@rdonly", "customer.customer"),
            ],
        });
        vs
    }

    #[test]
    fn routing_rules_pick_the_keyspace_per_tablet_type() {
        let topo = moving();
        let ks = |target: &str, sql: &str| {
            route(&topo, &session(target), &classify(sql), sql, &|_| {
                vec!["0".into()]
            })
            .map(|r| r.keyspace)
        };
        let unqualified = "select * from customer where customer_id = 1";
        assert_eq!(ks("", unqualified).unwrap(), "commerce");
        assert_eq!(ks("@replica", unqualified).unwrap(), "customer");
        assert_eq!(ks("@rdonly", unqualified).unwrap(), "commerce");
        assert_eq!(ks("commerce@rdonly", unqualified).unwrap(), "customer");
        let qualified = "select * from customer.customer";
        assert_eq!(ks("", qualified).unwrap(), "commerce");
        assert_eq!(ks("@replica", qualified).unwrap(), "customer");
        assert_eq!(
            ks("", "insert into customer.customer(email) values ('x')").unwrap(),
            "commerce"
        );
        // A table no rule names stays where its qualifier or the session puts it.
        assert_eq!(ks("", "select * from product").unwrap(), "commerce");
        // Tables the rules send to different keyspaces make a cross-keyspace statement.
        assert!(matches!(
            ks("@replica", "select * from customer join commerce.product").unwrap_err(),
            VtError::Unsupported(_)
        ));
        // A shard in the target bypasses the rules.
        assert_eq!(ks("customer/0", unqualified).unwrap(), "customer");
    }

    #[test]
    fn rerouted_statements_follow_a_flip_and_disabled_tables_fail() {
        use proto::vschema::RoutingRule;
        let mut vs = moving_vschema();
        let rules = vs.routing_rules.as_mut().unwrap();
        rules.rules.retain(|r| r.from_table != "customer");
        rules.rules.push(RoutingRule {
            from_table: "customer".into(),
            to_tables: vec!["customer.customer".into()],
        });
        rules.rules.push(RoutingRule {
            from_table: "product".into(),
            to_tables: vec![],
        });
        let topo = Topology::from_srv(&vs, &Default::default());
        let sql = "update customer set email = 'a' where customer_id = 1";
        let r = route(&topo, &session(""), &classify(sql), sql, &|_| {
            vec!["0".into()]
        });
        assert_eq!(r.unwrap().keyspace, "customer");
        let err = run_on(&topo, "select * from product").unwrap_err();
        assert_eq!(err.to_string(), "table product has been disabled");
    }

    fn run_on(topo: &Topology, sql: &str) -> Result<Route, VtError> {
        route(topo, &session(""), &classify(sql), sql, &|_| {
            vec!["0".into()]
        })
    }

    #[test]
    fn system_schema_tables_are_not_keyspace_tables() {
        assert_eq!(
            table_names("select * from information_schema.tables t join product p").unwrap(),
            vec!["product".to_string()]
        );
    }
}
