//! Conversions between the JSON model and the `proto::vschema` messages, and
//! the binary protobuf form Vitess stores in the topology
//! (`/vitess/global/keyspaces/<ks>/VSchema`, `/vitess/<cell>/SrvVSchema`).

use prost::Message;
use proto::vschema as pb;

use super::pbjson::PbEnum;
use super::{
    AutoIncrement, Column, ColumnType, ColumnVindex, ForeignKeyMode, Keyspace, KeyspaceRoutingRule,
    KeyspaceRoutingRules, MirrorRule, MirrorRules, MultiTenantSpec, RoutingRule, RoutingRules,
    ShardRoutingRule, ShardRoutingRules, SrvVSchema, Table, Vindex,
};

/// Binary protobuf could not be decoded.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode {what} protobuf: {source}")]
pub struct DecodeError {
    what: &'static str,
    source: prost::DecodeError,
}

impl Keyspace {
    /// Encodes as the binary `vschema.Keyspace` Vitess stores in topo.
    pub fn encode_proto(&self) -> Vec<u8> {
        pb::Keyspace::from(self.clone()).encode_to_vec()
    }

    /// Decodes binary `vschema.Keyspace`.
    pub fn decode_proto(bytes: &[u8]) -> Result<Self, DecodeError> {
        pb::Keyspace::decode(bytes)
            .map(Keyspace::from)
            .map_err(|source| DecodeError {
                what: "vschema.Keyspace",
                source,
            })
    }
}

impl SrvVSchema {
    /// Encodes as the binary `vschema.SrvVSchema` Vitess stores in topo.
    pub fn encode_proto(&self) -> Vec<u8> {
        pb::SrvVSchema::from(self.clone()).encode_to_vec()
    }

    /// Decodes binary `vschema.SrvVSchema`.
    pub fn decode_proto(bytes: &[u8]) -> Result<Self, DecodeError> {
        pb::SrvVSchema::decode(bytes)
            .map(SrvVSchema::from)
            .map_err(|source| DecodeError {
                what: "vschema.SrvVSchema",
                source,
            })
    }
}

impl RoutingRules {
    /// Encodes as the binary `vschema.RoutingRules` (`/vitess/global/RoutingRules`).
    pub fn encode_proto(&self) -> Vec<u8> {
        pb::RoutingRules::from(self.clone()).encode_to_vec()
    }

    /// Decodes binary `vschema.RoutingRules`.
    pub fn decode_proto(bytes: &[u8]) -> Result<Self, DecodeError> {
        pb::RoutingRules::decode(bytes)
            .map(RoutingRules::from)
            .map_err(|source| DecodeError {
                what: "vschema.RoutingRules",
                source,
            })
    }
}

impl From<Keyspace> for pb::Keyspace {
    fn from(k: Keyspace) -> Self {
        pb::Keyspace {
            sharded: k.sharded,
            vindexes: k.vindexes.into_iter().map(|(n, v)| (n, v.into())).collect(),
            tables: k.tables.into_iter().map(|(n, t)| (n, t.into())).collect(),
            require_explicit_routing: k.require_explicit_routing,
            foreign_key_mode: k.foreign_key_mode.number(),
            multi_tenant_spec: k.multi_tenant_spec.map(|m| pb::MultiTenantSpec {
                tenant_id_column_name: m.tenant_id_column_name,
                tenant_id_column_type: m.tenant_id_column_type.0,
            }),
        }
    }
}

impl From<pb::Keyspace> for Keyspace {
    fn from(k: pb::Keyspace) -> Self {
        Keyspace {
            sharded: k.sharded,
            vindexes: k.vindexes.into_iter().map(|(n, v)| (n, v.into())).collect(),
            tables: k.tables.into_iter().map(|(n, t)| (n, t.into())).collect(),
            require_explicit_routing: k.require_explicit_routing,
            foreign_key_mode: ForeignKeyMode::from_number(k.foreign_key_mode),
            multi_tenant_spec: k.multi_tenant_spec.map(|m| MultiTenantSpec {
                tenant_id_column_name: m.tenant_id_column_name,
                tenant_id_column_type: ColumnType(m.tenant_id_column_type),
            }),
        }
    }
}

impl From<Vindex> for pb::Vindex {
    fn from(v: Vindex) -> Self {
        pb::Vindex {
            r#type: v.vindex_type,
            params: v.params.into_iter().collect(),
            owner: v.owner,
        }
    }
}

impl From<pb::Vindex> for Vindex {
    fn from(v: pb::Vindex) -> Self {
        Vindex {
            vindex_type: v.r#type,
            params: v.params.into_iter().collect(),
            owner: v.owner,
        }
    }
}

impl From<Table> for pb::Table {
    fn from(t: Table) -> Self {
        pb::Table {
            r#type: t.table_type,
            column_vindexes: t
                .column_vindexes
                .into_iter()
                .map(|c| pb::ColumnVindex {
                    column: c.column,
                    name: c.name,
                    columns: c.columns,
                })
                .collect(),
            auto_increment: t.auto_increment.map(|a| pb::AutoIncrement {
                column: a.column,
                sequence: a.sequence,
            }),
            columns: t.columns.into_iter().map(pb::Column::from).collect(),
            pinned: t.pinned,
            column_list_authoritative: t.column_list_authoritative,
            source: t.source,
        }
    }
}

impl From<pb::Table> for Table {
    fn from(t: pb::Table) -> Self {
        Table {
            table_type: t.r#type,
            column_vindexes: t
                .column_vindexes
                .into_iter()
                .map(|c| ColumnVindex {
                    column: c.column,
                    name: c.name,
                    columns: c.columns,
                })
                .collect(),
            auto_increment: t.auto_increment.map(|a| AutoIncrement {
                column: a.column,
                sequence: a.sequence,
            }),
            columns: t.columns.into_iter().map(Column::from).collect(),
            pinned: t.pinned,
            column_list_authoritative: t.column_list_authoritative,
            source: t.source,
            primary_key: Vec::new(),
        }
    }
}

impl From<Column> for pb::Column {
    fn from(c: Column) -> Self {
        pb::Column {
            name: c.name,
            r#type: c.column_type.0,
            invisible: c.invisible,
            default: c.default,
            collation_name: c.collation_name,
            size: c.size,
            scale: c.scale,
            nullable: c.nullable,
            values: c.values,
        }
    }
}

impl From<pb::Column> for Column {
    fn from(c: pb::Column) -> Self {
        Column {
            name: c.name,
            column_type: ColumnType(c.r#type),
            invisible: c.invisible,
            default: c.default,
            collation_name: c.collation_name,
            size: c.size,
            scale: c.scale,
            nullable: c.nullable,
            values: c.values,
        }
    }
}

impl From<RoutingRules> for pb::RoutingRules {
    fn from(r: RoutingRules) -> Self {
        pb::RoutingRules {
            rules: r
                .rules
                .into_iter()
                .map(|r| pb::RoutingRule {
                    from_table: r.from_table,
                    to_tables: r.to_tables,
                })
                .collect(),
        }
    }
}

impl From<pb::RoutingRules> for RoutingRules {
    fn from(r: pb::RoutingRules) -> Self {
        RoutingRules {
            rules: r
                .rules
                .into_iter()
                .map(|r| RoutingRule {
                    from_table: r.from_table,
                    to_tables: r.to_tables,
                })
                .collect(),
        }
    }
}

impl From<SrvVSchema> for pb::SrvVSchema {
    fn from(s: SrvVSchema) -> Self {
        pb::SrvVSchema {
            keyspaces: s
                .keyspaces
                .into_iter()
                .map(|(n, k)| (n, k.into()))
                .collect(),
            routing_rules: s.routing_rules.map(Into::into),
            shard_routing_rules: s.shard_routing_rules.map(|r| pb::ShardRoutingRules {
                rules: r
                    .rules
                    .into_iter()
                    .map(|r| pb::ShardRoutingRule {
                        from_keyspace: r.from_keyspace,
                        to_keyspace: r.to_keyspace,
                        shard: r.shard,
                    })
                    .collect(),
            }),
            keyspace_routing_rules: s.keyspace_routing_rules.map(|r| pb::KeyspaceRoutingRules {
                rules: r
                    .rules
                    .into_iter()
                    .map(|r| pb::KeyspaceRoutingRule {
                        from_keyspace: r.from_keyspace,
                        to_keyspace: r.to_keyspace,
                    })
                    .collect(),
            }),
            mirror_rules: s.mirror_rules.map(|r| pb::MirrorRules {
                rules: r
                    .rules
                    .into_iter()
                    .map(|r| pb::MirrorRule {
                        from_table: r.from_table,
                        to_table: r.to_table,
                        percent: r.percent,
                    })
                    .collect(),
            }),
        }
    }
}

impl From<pb::SrvVSchema> for SrvVSchema {
    fn from(s: pb::SrvVSchema) -> Self {
        SrvVSchema {
            keyspaces: s
                .keyspaces
                .into_iter()
                .map(|(n, k)| (n, k.into()))
                .collect(),
            routing_rules: s.routing_rules.map(Into::into),
            shard_routing_rules: s.shard_routing_rules.map(|r| ShardRoutingRules {
                rules: r
                    .rules
                    .into_iter()
                    .map(|r| ShardRoutingRule {
                        from_keyspace: r.from_keyspace,
                        to_keyspace: r.to_keyspace,
                        shard: r.shard,
                    })
                    .collect(),
            }),
            keyspace_routing_rules: s.keyspace_routing_rules.map(|r| KeyspaceRoutingRules {
                rules: r
                    .rules
                    .into_iter()
                    .map(|r| KeyspaceRoutingRule {
                        from_keyspace: r.from_keyspace,
                        to_keyspace: r.to_keyspace,
                    })
                    .collect(),
            }),
            mirror_rules: s.mirror_rules.map(|r| MirrorRules {
                rules: r
                    .rules
                    .into_iter()
                    .map(|r| MirrorRule {
                        from_table: r.from_table,
                        to_table: r.to_table,
                        percent: r.percent,
                    })
                    .collect(),
            }),
        }
    }
}
