//! The VSchema as Vitess writes it: serde types for the protojson form of
//! `vschema.Keyspace`, `vschema.SrvVSchema` and the routing rules.
//!
//! Parsing follows Vitess's `json2.UnmarshalPB` (protojson with
//! `DiscardUnknown`): keys may be `snake_case` or `lowerCamelCase`, `null`
//! means the default, enums are names or numbers, and unknown fields are
//! ignored. Output uses the `snake_case` names and omits default values.
//! [`proto_conv`] converts to and from the protobuf messages stored in topo.

mod pbjson;
pub mod proto_conv;

use std::collections::BTreeMap;

use pbjson::{enum_value, float, int32, is_default, null_default, serialize_enum, PbEnum};
use serde::{Deserialize, Serialize};

/// Why VSchema JSON could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(#[from] serde_json::Error);

/// The VSchema of one keyspace (`vschema.Keyspace`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Keyspace {
    /// Whether the keyspace is split across shards.
    #[serde(deserialize_with = "null_default", skip_serializing_if = "is_default")]
    pub sharded: bool,
    /// Vindex definitions by name.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub vindexes: BTreeMap<String, Vindex>,
    /// Table definitions by name.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub tables: BTreeMap<String, Table>,
    /// Keep the keyspace's tables out of unqualified (global) name resolution.
    #[serde(
        alias = "requireExplicitRouting",
        deserialize_with = "null_default",
        skip_serializing_if = "is_default"
    )]
    pub require_explicit_routing: bool,
    /// How vtgate treats foreign keys.
    #[serde(
        alias = "foreignKeyMode",
        deserialize_with = "enum_value",
        serialize_with = "serialize_enum",
        skip_serializing_if = "is_default"
    )]
    pub foreign_key_mode: ForeignKeyMode,
    /// Multi-tenant settings.
    #[serde(
        alias = "multiTenantSpec",
        deserialize_with = "null_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub multi_tenant_spec: Option<MultiTenantSpec>,
}

impl Keyspace {
    /// Parses a keyspace VSchema (the file given to `ApplyVSchema`).
    pub fn from_json(text: &str) -> Result<Self, ParseError> {
        Ok(serde_json::from_str(text)?)
    }

    /// The keyspace VSchema as indented JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// `vschema.Keyspace.ForeignKeyMode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ForeignKeyMode {
    /// Not set (0).
    #[default]
    Unspecified,
    /// Foreign keys are refused (1).
    Disallow,
    /// Foreign keys are passed through unchanged (2).
    Unmanaged,
    /// vtgate manages foreign key actions (3).
    Managed,
}

impl PbEnum for ForeignKeyMode {
    const NAME: &'static str = "vschema.Keyspace.ForeignKeyMode";
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "unspecified" => Some(Self::Unspecified),
            "disallow" => Some(Self::Disallow),
            "unmanaged" => Some(Self::Unmanaged),
            "managed" => Some(Self::Managed),
            _ => None,
        }
    }
    fn from_number(n: i32) -> Self {
        match n {
            1 => Self::Disallow,
            2 => Self::Unmanaged,
            3 => Self::Managed,
            _ => Self::Unspecified,
        }
    }
    fn name(&self) -> Option<&'static str> {
        Some(match self {
            Self::Unspecified => "unspecified",
            Self::Disallow => "disallow",
            Self::Unmanaged => "unmanaged",
            Self::Managed => "managed",
        })
    }
    fn number(&self) -> i32 {
        match self {
            Self::Unspecified => 0,
            Self::Disallow => 1,
            Self::Unmanaged => 2,
            Self::Managed => 3,
        }
    }
}

/// A `query.Type` value (column types), kept as its number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ColumnType(pub i32);

impl PbEnum for ColumnType {
    const NAME: &'static str = "query.Type";
    fn from_name(name: &str) -> Option<Self> {
        proto::query::Type::from_str_name(name).map(|t| ColumnType(t as i32))
    }
    fn from_number(n: i32) -> Self {
        ColumnType(n)
    }
    fn name(&self) -> Option<&'static str> {
        proto::query::Type::try_from(self.0)
            .ok()
            .map(|t| t.as_str_name())
    }
    fn number(&self) -> i32 {
        self.0
    }
}

/// `vschema.MultiTenantSpec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MultiTenantSpec {
    /// Name of the tenant id column.
    #[serde(
        alias = "tenantIdColumnName",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub tenant_id_column_name: String,
    /// Type of the tenant id column.
    #[serde(
        alias = "tenantIdColumnType",
        deserialize_with = "enum_value",
        serialize_with = "serialize_enum",
        skip_serializing_if = "is_default"
    )]
    pub tenant_id_column_type: ColumnType,
}

/// One vindex definition (`vschema.Vindex`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Vindex {
    /// Vindex type name (`hash`, `xxhash`, `lookup_unique`, ...).
    #[serde(rename = "type", deserialize_with = "null_default")]
    pub vindex_type: String,
    /// Type-specific parameters.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub params: BTreeMap<String, String>,
    /// Table whose DML maintains this (lookup) vindex.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub owner: String,
}

/// One table of a keyspace (`vschema.Table`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Table {
    /// `""` (ordinary), `"sequence"` or `"reference"`.
    #[serde(
        rename = "type",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub table_type: String,
    /// Column vindexes; the first one is the primary vindex.
    #[serde(
        alias = "columnVindexes",
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub column_vindexes: Vec<ColumnVindex>,
    /// Column filled from a sequence.
    #[serde(
        alias = "autoIncrement",
        deserialize_with = "null_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub auto_increment: Option<AutoIncrement>,
    /// Declared columns.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub columns: Vec<Column>,
    /// Hex keyspace id pinning the table of a sharded keyspace to one shard.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub pinned: String,
    /// Whether `columns` lists every column.
    #[serde(
        alias = "columnListAuthoritative",
        deserialize_with = "null_default",
        skip_serializing_if = "is_default"
    )]
    pub column_list_authoritative: bool,
    /// Source `ks.table` of a reference table.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub source: String,
    /// The table's primary key columns, as schema tracking reads them. Not part of Vitess's
    /// VSchema JSON nor of its proto: vtgate fills it in memory only.
    #[serde(skip)]
    pub primary_key: Vec<String>,
}

/// A vindex bound to columns (`vschema.ColumnVindex`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ColumnVindex {
    /// Single column (exclusive with `columns`).
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub column: String,
    /// Vindex name.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// Several columns, for multi-column vindexes.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub columns: Vec<String>,
}

/// `vschema.AutoIncrement`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoIncrement {
    /// The column filled in.
    #[serde(deserialize_with = "null_default")]
    pub column: String,
    /// The sequence table, `seq` or `ks.seq`.
    #[serde(deserialize_with = "null_default")]
    pub sequence: String,
}

/// `vschema.Column`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Column {
    /// Column name.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// Column type.
    #[serde(
        rename = "type",
        deserialize_with = "enum_value",
        serialize_with = "serialize_enum",
        skip_serializing_if = "is_default"
    )]
    pub column_type: ColumnType,
    /// Invisible column.
    #[serde(deserialize_with = "null_default", skip_serializing_if = "is_default")]
    pub invisible: bool,
    /// Default value expression.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub default: String,
    /// Collation name.
    #[serde(
        alias = "collationName",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub collation_name: String,
    /// Length.
    #[serde(deserialize_with = "int32", skip_serializing_if = "is_default")]
    pub size: i32,
    /// Decimal scale.
    #[serde(deserialize_with = "int32", skip_serializing_if = "is_default")]
    pub scale: i32,
    /// Nullability, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nullable: Option<bool>,
    /// ENUM/SET values.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub values: Vec<String>,
}

/// `vschema.RoutingRules`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoutingRules {
    /// The rules, in order.
    #[serde(deserialize_with = "null_default")]
    pub rules: Vec<RoutingRule>,
}

impl RoutingRules {
    /// Parses routing rules JSON (`ApplyRoutingRules --rules`).
    pub fn from_json(text: &str) -> Result<Self, ParseError> {
        Ok(serde_json::from_str(text)?)
    }
}

/// `vschema.RoutingRule`: `from_table` (`t`, `ks.t`, `t@replica`) to one qualified table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoutingRule {
    /// The name being redirected.
    #[serde(alias = "fromTable", deserialize_with = "null_default")]
    pub from_table: String,
    /// Targets; exactly one qualified name, or none to disable the table.
    #[serde(alias = "toTables", deserialize_with = "null_default")]
    pub to_tables: Vec<String>,
}

/// `vschema.ShardRoutingRules`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShardRoutingRules {
    /// The rules.
    #[serde(deserialize_with = "null_default")]
    pub rules: Vec<ShardRoutingRule>,
}

/// `vschema.ShardRoutingRule`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShardRoutingRule {
    /// Keyspace queried.
    #[serde(alias = "fromKeyspace", deserialize_with = "null_default")]
    pub from_keyspace: String,
    /// Keyspace served from.
    #[serde(alias = "toKeyspace", deserialize_with = "null_default")]
    pub to_keyspace: String,
    /// The shard.
    #[serde(deserialize_with = "null_default")]
    pub shard: String,
}

/// `vschema.KeyspaceRoutingRules`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyspaceRoutingRules {
    /// The rules.
    #[serde(deserialize_with = "null_default")]
    pub rules: Vec<KeyspaceRoutingRule>,
}

/// `vschema.KeyspaceRoutingRule`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyspaceRoutingRule {
    /// Keyspace queried.
    #[serde(alias = "fromKeyspace", deserialize_with = "null_default")]
    pub from_keyspace: String,
    /// Keyspace served from.
    #[serde(alias = "toKeyspace", deserialize_with = "null_default")]
    pub to_keyspace: String,
}

/// `vschema.MirrorRules`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MirrorRules {
    /// The rules.
    #[serde(deserialize_with = "null_default")]
    pub rules: Vec<MirrorRule>,
}

/// `vschema.MirrorRule`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MirrorRule {
    /// Table whose traffic is mirrored.
    #[serde(alias = "fromTable", deserialize_with = "null_default")]
    pub from_table: String,
    /// Mirror target.
    #[serde(alias = "toTable", deserialize_with = "null_default")]
    pub to_table: String,
    /// Share of the traffic, in percent.
    #[serde(deserialize_with = "float")]
    pub percent: f32,
}

/// The serving VSchema of a cell (`vschema.SrvVSchema`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SrvVSchema {
    /// Keyspace VSchemas by keyspace name.
    #[serde(deserialize_with = "null_default")]
    pub keyspaces: BTreeMap<String, Keyspace>,
    /// Table routing rules.
    #[serde(
        alias = "routingRules",
        deserialize_with = "null_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub routing_rules: Option<RoutingRules>,
    /// Shard routing rules.
    #[serde(
        alias = "shardRoutingRules",
        deserialize_with = "null_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub shard_routing_rules: Option<ShardRoutingRules>,
    /// Keyspace routing rules.
    #[serde(
        alias = "keyspaceRoutingRules",
        deserialize_with = "null_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub keyspace_routing_rules: Option<KeyspaceRoutingRules>,
    /// Mirror rules.
    #[serde(
        alias = "mirrorRules",
        deserialize_with = "null_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub mirror_rules: Option<MirrorRules>,
}

impl SrvVSchema {
    /// Parses a SrvVSchema (for example the planner tests' `vschemas/*.json`).
    pub fn from_json(text: &str) -> Result<Self, ParseError> {
        Ok(serde_json::from_str(text)?)
    }
}

#[cfg(test)]
mod tests;
