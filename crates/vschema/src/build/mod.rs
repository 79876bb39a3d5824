//! The resolved VSchema vtgate plans with (Vitess `vindexes.BuildVSchema`).
//!
//! [`VSchema::build`] turns a [`SrvVSchema`] into keyspaces with their
//! tables and vindex instances, the set of table names usable without a
//! keyspace qualifier, and the routing rules. A keyspace whose VSchema is
//! invalid is kept with its [`KeyspaceSchema::error`] set, as Vitess does, so
//! one bad keyspace does not take the others down; [`validate_keyspace`]
//! is the check `ApplyVSchema` runs before storing a keyspace VSchema.
//!
//! Name lookups ([`VSchema::find_table`] and friends) live in [`resolve`].

mod error;
mod global;
mod resolve;
mod tables;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub use error::{BuildError, FindTableError};

use crate::model::{self, ForeignKeyMode, SrvVSchema};
use crate::vindexes::{Registry, Vindex};

/// A shared, immutable table definition.
pub type TableRef = Arc<Table>;

/// The kind of a table (`type` in the VSchema).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TableType {
    /// An ordinary table (`""`).
    #[default]
    Normal,
    /// A sequence backing table (`"sequence"`).
    Sequence,
    /// A reference table, copied to every shard (`"reference"`).
    Reference,
}

/// A keyspace name and whether it is sharded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyspaceInfo {
    /// Keyspace name.
    pub name: String,
    /// Whether it is sharded.
    pub sharded: bool,
}

/// A `keyspace.table` name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QualifiedName {
    /// Keyspace name; empty when the name was unqualified.
    pub keyspace: String,
    /// Table name.
    pub table: String,
}

impl std::fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.keyspace.is_empty() {
            f.write_str(&self.table)
        } else {
            write!(f, "{}.{}", self.keyspace, self.table)
        }
    }
}

/// A vindex bound to a table's columns.
#[derive(Debug, Clone)]
pub struct ColumnVindex {
    /// Columns as written (compare them case-insensitively).
    pub columns: Vec<String>,
    /// The vindex name in the keyspace.
    pub name: String,
    /// The vindex type.
    pub vindex_type: String,
    /// Whether this table's DML maintains the (lookup) vindex.
    pub owned: bool,
    /// The vindex instance.
    pub vindex: Arc<dyn Vindex>,
    /// Cost of using it: the vindex's cost, plus one per missing column for
    /// a partial (prefix) entry of a multi-column vindex.
    pub cost: u32,
    /// A prefix of a multi-column vindex's columns (maps to key ranges).
    pub partial: bool,
    /// How MySQL compares its column with a value, when the column's type is
    /// known (single-column vindexes only).
    pub kind: ColumnKind,
}

/// How MySQL compares a column with a literal, as far as routing by its value
/// cares: a number column reads text as a number (`'05' = 5`, `'abc' = 0`), a
/// text column reads a number's text the same way (`'05' = 5` again), so
/// neither may be routed by the literal's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColumnKind {
    /// The VSchema (or schema tracking) gives no type.
    #[default]
    Unknown,
    /// Integer (signed or unsigned): compared with a string as the exact number the
    /// string reads as.
    Integer,
    /// Decimal or floating point.
    Number,
    /// Character or byte string (not ENUM or SET, which compare numbers by
    /// position).
    Text,
}

impl ColumnKind {
    /// The kind of a column of `query.Type` `t`.
    pub fn of_type(t: i32) -> Self {
        use proto::query::Type;
        match Type::try_from(t) {
            Ok(
                Type::Int8
                | Type::Uint8
                | Type::Int16
                | Type::Uint16
                | Type::Int24
                | Type::Uint24
                | Type::Int32
                | Type::Uint32
                | Type::Int64
                | Type::Uint64,
            ) => ColumnKind::Integer,
            Ok(Type::Float32 | Type::Float64 | Type::Decimal) => ColumnKind::Number,
            Ok(
                Type::Char
                | Type::Varchar
                | Type::Text
                | Type::Binary
                | Type::Varbinary
                | Type::Blob,
            ) => ColumnKind::Text,
            _ => ColumnKind::Unknown,
        }
    }
}

/// An auto-increment column and its sequence table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoIncrement {
    /// The column filled in.
    pub column: String,
    /// The sequence table, resolved to its keyspace.
    pub sequence: QualifiedName,
}

/// A declared column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// `query.Type` number.
    pub column_type: i32,
    /// Its collation's name, for text columns whose VSchema entry has one (schema tracking
    /// gives every tracked text column its own); empty otherwise.
    pub collation_name: String,
}

/// A table of the resolved VSchema.
#[derive(Debug, Clone)]
pub struct Table {
    /// Table name.
    pub name: String,
    /// Its keyspace.
    pub keyspace: Arc<KeyspaceInfo>,
    /// Normal, sequence or reference.
    pub table_type: TableType,
    /// Column vindexes in VSchema order; the first is the primary vindex.
    pub column_vindexes: Vec<ColumnVindex>,
    /// Indexes into `column_vindexes`, cheapest first (stable by cost).
    /// A partial multi-column vindex appears once per column prefix, after
    /// the full entry.
    pub ordered: Vec<usize>,
    /// Auto-increment column, if any.
    pub auto_increment: Option<AutoIncrement>,
    /// Declared columns.
    pub columns: Vec<Column>,
    /// Keyspace id a table of a sharded keyspace is pinned to.
    pub pinned: Option<Vec<u8>>,
    /// Whether `columns` is the complete list.
    pub column_list_authoritative: bool,
    /// Primary key columns, when schema tracking has read them.
    pub primary_key: Vec<String>,
    /// Source of a reference table.
    pub source: Option<QualifiedName>,
    /// Reference tables in other keyspaces whose source is this table,
    /// keyspace name to table name.
    pub referenced_by: BTreeMap<String, String>,
}

impl Table {
    /// The columns the VSchema says the table has: its listed columns, then
    /// its vindex columns.
    pub fn declared_columns(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str()).chain(
            self.column_vindexes
                .iter()
                .flat_map(|cv| cv.columns.iter().map(String::as_str)),
        )
    }

    /// Whether [`Self::declared_columns`] has `name` (case-insensitively).
    pub fn declares_column(&self, name: &str) -> bool {
        self.declared_columns()
            .any(|c| c.eq_ignore_ascii_case(name))
    }

    /// A table of an unsharded keyspace that is not listed in its VSchema.
    fn implicit(name: &str, keyspace: Arc<KeyspaceInfo>) -> Self {
        Table {
            name: name.to_string(),
            keyspace,
            table_type: TableType::Normal,
            column_vindexes: Vec::new(),
            ordered: Vec::new(),
            auto_increment: None,
            columns: Vec::new(),
            pinned: None,
            column_list_authoritative: false,
            primary_key: Vec::new(),
            source: None,
            referenced_by: BTreeMap::new(),
        }
    }

    /// The primary vindex, for tables of sharded keyspaces.
    pub fn primary_vindex(&self) -> Option<&ColumnVindex> {
        self.column_vindexes.first()
    }

    /// Column vindexes in cost order.
    pub fn ordered_vindexes(&self) -> impl Iterator<Item = &ColumnVindex> {
        self.ordered.iter().map(|&i| &self.column_vindexes[i])
    }

    /// Column vindexes owned by this table (their lookup rows follow its DML).
    pub fn owned_vindexes(&self) -> impl Iterator<Item = &ColumnVindex> {
        self.column_vindexes.iter().filter(|c| c.owned)
    }
}

/// One keyspace of the resolved VSchema.
#[derive(Debug, Clone)]
pub struct KeyspaceSchema {
    /// Name and sharded flag.
    pub keyspace: Arc<KeyspaceInfo>,
    /// Tables by name.
    pub tables: BTreeMap<String, TableRef>,
    /// Vindex instances by name.
    pub vindexes: BTreeMap<String, Arc<dyn Vindex>>,
    /// Whether its tables need a keyspace qualifier.
    pub require_explicit_routing: bool,
    /// Foreign key handling.
    pub foreign_key_mode: ForeignKeyMode,
    /// Why its VSchema is invalid, if it is.
    pub error: Option<BuildError>,
}

impl KeyspaceSchema {
    /// Whether the keyspace is sharded.
    pub fn sharded(&self) -> bool {
        self.keyspace.sharded
    }

    /// Looks a table up; an unsharded keyspace also "has" unlisted tables
    /// when `construct_unsharded` is set.
    fn find(&self, table: &str, construct_unsharded: bool) -> Option<TableRef> {
        if let Some(t) = self.tables.get(table) {
            return Some(t.clone());
        }
        (construct_unsharded && !self.keyspace.sharded)
            .then(|| Arc::new(Table::implicit(table, self.keyspace.clone())))
    }
}

/// The outcome of one table routing rule.
#[derive(Debug, Clone)]
enum RoutingTarget {
    /// Route to this table.
    Table(TableRef),
    /// The rule has no target: the table is disabled.
    Disabled,
    /// The rule is invalid; using it fails with this message.
    Invalid(String),
}

/// The resolved VSchema.
#[derive(Debug, Clone, Default)]
pub struct VSchema {
    /// Keyspaces by name.
    pub keyspaces: BTreeMap<String, KeyspaceSchema>,
    /// Unqualified table names to their keyspace: `None` when ambiguous.
    global_tables: HashMap<String, Option<String>>,
    /// Unqualified vindex names: `None` when ambiguous.
    unique_vindexes: HashMap<String, Option<Arc<dyn Vindex>>>,
    routing_rules: HashMap<String, RoutingTarget>,
    /// `keyspace.shard` to the keyspace serving it.
    shard_routing_rules: HashMap<String, String>,
    /// Keyspace to the keyspace serving it.
    keyspace_routing_rules: HashMap<String, String>,
}

impl VSchema {
    /// Builds with the built-in vindex types.
    pub fn build(source: &SrvVSchema) -> Self {
        Self::build_with(source, &Registry::builtin())
    }

    /// Builds with the vindex types of `registry`.
    pub fn build_with(source: &SrvVSchema, registry: &Registry) -> Self {
        let mut vschema = VSchema::default();
        for (name, ks) in &source.keyspaces {
            let schema = tables::build_keyspace(name, ks, registry);
            if !ks.require_explicit_routing {
                for (vname, vindex) in &schema.vindexes {
                    vschema
                        .unique_vindexes
                        .entry(vname.clone())
                        .and_modify(|v| *v = None)
                        .or_insert_with(|| Some(vindex.clone()));
                }
            }
            vschema.keyspaces.insert(name.clone(), schema);
        }
        global::build_global_tables(&mut vschema);
        global::build_references(&mut vschema);
        tables::resolve_auto_increments(&mut vschema, source);
        resolve::build_routing_rules(&mut vschema, source);
        vschema
    }

    /// Errors of invalid keyspaces, by keyspace name.
    pub fn keyspace_errors(&self) -> impl Iterator<Item = (&str, &BuildError)> {
        self.keyspaces
            .iter()
            .filter_map(|(n, k)| k.error.as_ref().map(|e| (n.as_str(), e)))
    }

    /// The lexically first keyspace (Vitess `FirstKeyspace`), where
    /// unqualified `dual` goes.
    pub fn first_keyspace(&self) -> Option<&KeyspaceSchema> {
        self.keyspaces.values().next()
    }

    /// The keyspace, if known.
    pub fn keyspace(&self, name: &str) -> Option<&KeyspaceSchema> {
        self.keyspaces.get(name)
    }
}

/// Checks one keyspace VSchema on its own, as `ApplyVSchema` does before
/// saving it (sequence references to other keyspaces are not checked).
pub fn validate_keyspace(name: &str, keyspace: &model::Keyspace) -> Result<(), BuildError> {
    validate_keyspace_with(name, keyspace, &Registry::builtin())
}

/// [`validate_keyspace`] with the vindex types of `registry`.
pub fn validate_keyspace_with(
    name: &str,
    keyspace: &model::Keyspace,
    registry: &Registry,
) -> Result<(), BuildError> {
    match tables::build_keyspace(name, keyspace, registry).error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
