//! The collations of a route's text columns that MariaDB's result metadata does not carry.
//!
//! MariaDB reports an expression's text (`MIN(col)`, `col COLLATE x`, a derived table's
//! column) with its result character set's default collation. A tablet whose database mixes
//! collations therefore marks such fields [`UNKNOWN_COLLATION`], and vtgate would refuse to
//! order, group or de-duplicate them. Where the route's own statement says which collation
//! MySQL gives a select item, the route fills it in, as Vitess's planner types expressions:
//!
//! - a column of a table: its collation in the VSchema (declared, or tracked from
//!   `information_schema.COLUMNS`);
//! - a column of a derived table: the collation of the inner select item;
//! - `MIN(e)` / `MAX(e)`: the collation of `e`;
//! - `e COLLATE name`: `name`;
//! - `CONCAT(...)` of text columns of one collation (and string literals), or of
//!   `utf8mb4_bin` and `utf8mb4_general_ci` ones: that collation, the `_bin` one.
//!
//! Only collations of the UTF-8 character sets (those the tablet's results are encoded in)
//! and `binary` are filled in ([`collation_id`]); anything else stays unknown, and refused.

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectName, ObjectNamePart, Query,
    Select, SelectItem, SetExpr, Statement, TableFactor, Value,
};
use vschema::{KeyspaceSchema, VSchema};

use crate::cell::{collation_id, united_collation};

/// The collation of each select item of `query` (a route's statement in `keyspace`), as far
/// as the statement tells it; None where it does not, and nothing past a `*`.
pub(super) fn derive(query: &str, vschema: &VSchema, keyspace: &str) -> Vec<Option<u32>> {
    let (Ok(Statement::Query(q)), Some(ks)) =
        (sql::parse::parse(query), vschema.keyspace(keyspace))
    else {
        return Vec::new();
    };
    of_query(&q, ks)
}

fn of_query(q: &Query, ks: &KeyspaceSchema) -> Vec<Option<u32>> {
    if q.with.is_some() {
        return Vec::new();
    }
    of_body(&q.body, ks)
}

fn of_body(body: &SetExpr, ks: &KeyspaceSchema) -> Vec<Option<u32>> {
    match body {
        SetExpr::Select(s) => of_select(s, ks),
        SetExpr::Query(q) => of_query(q, ks),
        // The branches of a UNION agree, or the column's collation is not told here.
        SetExpr::SetOperation { left, right, .. } => {
            let (l, r) = (of_body(left, ks), of_body(right, ks));
            l.iter()
                .zip(&r)
                .map(|(a, b)| if a == b { *a } else { None })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Where the columns a select item names come from.
enum Source<'a> {
    /// A table of the keyspace whose columns the VSchema lists.
    Table(&'a vschema::Table),
    /// A derived table: its column names and their collations.
    Derived(Vec<(String, Option<u32>)>),
    /// Anything else: its columns are not known.
    Unknown,
}

/// What a source says of a column name.
enum Lookup {
    /// The source has the column, of this collation (None: not one filled in here).
    Has(Option<u32>),
    /// The source has no such column.
    Lacks,
    /// The source's columns are not known.
    CannotTell,
}

impl Source<'_> {
    fn column(&self, name: &str) -> Lookup {
        let found = match self {
            Source::Table(t) => t
                .columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(name))
                .map(|c| collation_id(&c.collation_name)),
            Source::Derived(columns) => columns
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, c)| *c),
            Source::Unknown => return Lookup::CannotTell,
        };
        found.map_or(Lookup::Lacks, Lookup::Has)
    }
}

struct Scope<'a> {
    /// Each FROM item's alias (or table name) and source.
    sources: Vec<(String, Source<'a>)>,
}

impl Scope<'_> {
    fn of_expr(&self, e: &Expr) -> Option<u32> {
        match e {
            Expr::Identifier(column) => {
                // The one source that has the column; unknown if any source cannot tell.
                let mut found = None;
                for (_, source) in &self.sources {
                    match source.column(&column.value) {
                        Lookup::Has(c) if found.is_none() => found = Some(c),
                        Lookup::Has(_) | Lookup::CannotTell => return None,
                        Lookup::Lacks => {}
                    }
                }
                found.flatten()
            }
            Expr::CompoundIdentifier(parts) => {
                let [.., table, column] = parts.as_slice() else {
                    return None;
                };
                let (_, source) = self
                    .sources
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(&table.value))?;
                match source.column(&column.value) {
                    Lookup::Has(c) => c,
                    Lookup::Lacks | Lookup::CannotTell => None,
                }
            }
            Expr::Nested(inner) => self.of_expr(inner),
            Expr::Collate { collation, .. } => collation_id(&last_part(collation)?),
            Expr::Function(f) => {
                let name = last_part(&f.name)?.to_ascii_lowercase();
                let FunctionArguments::List(list) = &f.args else {
                    return None;
                };
                let args: Vec<&Expr> = list
                    .args
                    .iter()
                    .map(|a| match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                        _ => None,
                    })
                    .collect::<Option<_>>()?;
                match (name.as_str(), args.as_slice()) {
                    ("min" | "max", [arg]) => self.of_expr(arg),
                    ("concat", args) if !args.is_empty() => self.of_concat(args),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

impl Scope<'_> {
    /// `CONCAT(args)`: the collation of its text arguments when they have one (string
    /// literals and numbers give way to a column), `utf8mb4_bin` for that with `utf8mb4_general_ci`
    /// (MySQL's rule for a `_bin` and a `_ci` collation of one character set); None for
    /// any other argument, which may be a number, or text of another character set.
    fn of_concat(&self, args: &[&Expr]) -> Option<u32> {
        let mut found: Vec<u32> = Vec::new();
        for arg in args {
            if matches!(arg, Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_) | Value::Number(..)))
            {
                continue;
            }
            found.push(self.of_expr(arg)?);
        }
        united_collation(&found)
    }
}

fn of_select(s: &Select, ks: &KeyspaceSchema) -> Vec<Option<u32>> {
    let mut sources = Vec::new();
    for t in &s.from {
        for factor in std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)) {
            sources.push(source(factor, ks));
        }
    }
    let scope = Scope { sources };
    let mut out = Vec::new();
    for item in &s.projection {
        match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                out.push(scope.of_expr(e))
            }
            // The positions after a `*` (or anything else) are not known here.
            _ => break,
        }
    }
    out
}

/// A FROM item's name (its alias, else the table's name) and its columns.
fn source<'a>(factor: &TableFactor, ks: &'a KeyspaceSchema) -> (String, Source<'a>) {
    match factor {
        TableFactor::Table { name, alias, .. } => {
            let table = last_part(name).unwrap_or_default();
            let source = match ks.tables.get(&table) {
                Some(t) if !t.columns.is_empty() => Source::Table(t.as_ref()),
                _ => Source::Unknown,
            };
            (
                alias.as_ref().map_or(table, |a| a.name.value.clone()),
                source,
            )
        }
        TableFactor::Derived {
            subquery,
            alias: Some(alias),
            lateral: false,
            ..
        } => {
            let collations = of_query(subquery, ks);
            let names = if alias.columns.is_empty() {
                output_names(subquery)
            } else {
                Some(alias.columns.iter().map(|c| c.name.value.clone()).collect())
            };
            let source = match names {
                Some(names) if names.len() == collations.len() => {
                    Source::Derived(names.into_iter().zip(collations).collect())
                }
                _ => Source::Unknown,
            };
            (alias.name.value.clone(), source)
        }
        _ => (String::new(), Source::Unknown),
    }
}

/// The names a query's select items give its columns: the alias, or the column's name.
/// None when an item has neither (its name is its text) or is a `*`.
fn output_names(q: &Query) -> Option<Vec<String>> {
    let mut body = q.body.as_ref();
    while let SetExpr::Query(inner) = body {
        body = inner.body.as_ref();
    }
    let select = match body {
        SetExpr::Select(s) => s,
        SetExpr::SetOperation { left, .. } => {
            // A UNION's columns are named by its first branch.
            let mut first = left.as_ref();
            loop {
                match first {
                    SetExpr::SetOperation { left, .. } => first = left,
                    SetExpr::Select(s) => break s,
                    _ => return None,
                }
            }
        }
        _ => return None,
    };
    select
        .projection
        .iter()
        .map(|item| match item {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
            SelectItem::UnnamedExpr(Expr::Identifier(i)) => Some(i.value.clone()),
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => {
                parts.last().map(|i| i.value.clone())
            }
            _ => None,
        })
        .collect()
}

fn last_part(name: &ObjectName) -> Option<String> {
    match name.0.last()? {
        ObjectNamePart::Identifier(i) => Some(i.value.clone()),
        ObjectNamePart::Function(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vschema() -> VSchema {
        let json = r#"{"keyspaces": {"ks": {"sharded": true,
            "vindexes": {"h": {"type": "hash"}},
            "tables": {
                "t": {"column_vindexes": [{"column": "id", "name": "h"}],
                      "columns": [{"name": "id", "type": "INT64"},
                                  {"name": "tag", "type": "VARCHAR", "collation_name": "utf8mb4_bin"},
                                  {"name": "label", "type": "VARCHAR", "collation_name": "utf8mb4_unicode_ci"},
                                  {"name": "lb", "type": "VARCHAR", "collation_name": "latin1_bin"}]},
                "u": {"column_vindexes": [{"column": "id", "name": "h"}]}}}}}"#;
        let model = vschema::model::SrvVSchema::from_json(json).unwrap();
        VSchema::build(&model)
    }

    fn derived(sql: &str) -> Vec<Option<u32>> {
        derive(sql, &vschema(), "ks")
    }

    #[test]
    fn columns_and_min_max_take_the_column_collation() {
        assert_eq!(
            derived("select tag, min(tag), max(t.label), id, lb from t where id > 3"),
            [Some(46), Some(46), Some(224), None, None]
        );
        // An alias of the table names it; a column another table may have is not known.
        assert_eq!(
            derived("select x.tag from t as x join u on u.id = x.id"),
            [Some(46)]
        );
        assert_eq!(derived("select tag from t join u on u.id = t.id"), [None]);
    }

    #[test]
    fn concat_takes_its_columns_collation() {
        assert_eq!(
            derived(
                "select concat('-', tag), concat(tag, label), concat('a'), concat(tag, id) from t"
            ),
            [Some(46), None, Some(45), None]
        );
    }

    #[test]
    fn collate_names_the_collation() {
        assert_eq!(
            derived("select note collate utf8mb4_bin as x, count(distinct lb collate latin1_bin) from u"),
            [Some(46), None]
        );
    }

    #[test]
    fn derived_tables_pass_their_columns_collations_out() {
        assert_eq!(
            derived(
                "select x, count(*) from (select tag as x from t where id > 9) as d group by x"
            ),
            [Some(46), None]
        );
        assert_eq!(
            derived("select d.b from (select tag, label from t) as d (a, b)"),
            [Some(224)]
        );
        assert_eq!(
            derived("select a from (select tag as a from t union all select label from t) as d"),
            [None]
        );
    }

    #[test]
    fn nothing_past_a_star() {
        assert_eq!(derived("select tag, *, tag from t"), [Some(46)]);
        assert!(derived("with w as (select tag from t) select tag from w").is_empty());
    }
}
