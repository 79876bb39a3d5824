//! [`VindexFunc`]: a vindex read as a table (Vitess `VindexFunc`, variant
//! `VindexMap`). `select id, keyspace_id, range_start, range_end,
//! hex_keyspace_id, shard from <vindex> where id = <value>` (or
//! `id in (...)`) maps each value through the vindex and returns one row per
//! keyspace id: the value, the keyspace id, the key range and name of the
//! shard holding it, and the keyspace id in hex. A key range (a prefix of a
//! multi-column vindex) gives a row with only the range; a value mapping
//! nowhere gives no row. Every column is VARBINARY.

use std::sync::Arc;

use async_trait::async_trait;
use proto::query::{Field, QueryResult, Row, Type};
use sql::literal::{BindValue, BindVars};
use vschema::hex;
use vschema::key_range::shard_for_keyspace_id;
use vschema::{Destination, KeyRange, Value, Vindex};

use crate::bind::{vindex_value, PlanValue};
use crate::description::PlanDescription;
use crate::error::{EngineError, Result};
use crate::lookup::Lookup;
use crate::primitive::Primitive;
use crate::vcursor::VCursor;

/// The columns of a vindex table, in Vitess's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VindexColumn {
    /// The value mapped.
    Id,
    /// The keyspace id (raw bytes).
    KeyspaceId,
    /// Start of the key range (of the shard holding the keyspace id).
    RangeStart,
    /// End of that key range.
    RangeEnd,
    /// The keyspace id in lowercase hex.
    HexKeyspaceId,
    /// The name of the shard holding the keyspace id.
    Shard,
}

impl VindexColumn {
    /// All columns, in the order `*` expands to.
    pub const ALL: [VindexColumn; 6] = [
        VindexColumn::Id,
        VindexColumn::KeyspaceId,
        VindexColumn::RangeStart,
        VindexColumn::RangeEnd,
        VindexColumn::HexKeyspaceId,
        VindexColumn::Shard,
    ];

    /// The column's name.
    pub fn name(self) -> &'static str {
        match self {
            VindexColumn::Id => "id",
            VindexColumn::KeyspaceId => "keyspace_id",
            VindexColumn::RangeStart => "range_start",
            VindexColumn::RangeEnd => "range_end",
            VindexColumn::HexKeyspaceId => "hex_keyspace_id",
            VindexColumn::Shard => "shard",
        }
    }

    /// The column named `name` (case-insensitive).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }
}

/// Maps values through a vindex and returns them as rows.
#[derive(Debug, Clone)]
pub struct VindexFunc {
    /// The keyspace the vindex belongs to (its shards name the rows' shards).
    pub keyspace: String,
    /// The vindex's name in the VSchema.
    pub vindex_name: String,
    /// The vindex.
    pub vindex: Arc<dyn Vindex>,
    /// The values (`id = v`: one; `id in (...)`: the list; a bind variable
    /// may hold a list).
    pub values: Vec<PlanValue>,
    /// Output columns: name as selected, and which vindex column.
    pub columns: Vec<(String, VindexColumn)>,
}

/// One mapped value: the keyspace id and the key range it lies in (the
/// shard's range, or the vindex's own range when it maps to a range).
struct Mapped<'a> {
    id: &'a [u8],
    keyspace_id: Option<&'a [u8]>,
    range: Option<KeyRange>,
    shard: Option<&'a str>,
}

impl VindexFunc {
    async fn destinations(
        &self,
        vc: &dyn VCursor,
        bound: &[BindValue],
        values: &[Value],
    ) -> Result<Vec<Destination>> {
        if !self.vindex.needs_vcursor() {
            return Ok(self.vindex.map(values)?);
        }
        match Lookup::of(&self.vindex_name, self.vindex.as_ref())? {
            Some(lookup) => lookup.map(vc, bound, false).await,
            None => Err(EngineError::unsupported(format!(
                "vindex function on vindex {}",
                self.vindex_name
            ))),
        }
    }

    fn row(&self, m: &Mapped) -> Row {
        let hex = m.keyspace_id.map(hex::encode);
        let cells: Vec<Option<&[u8]>> = self
            .columns
            .iter()
            .map(|(_, c)| match c {
                VindexColumn::Id => Some(m.id),
                VindexColumn::KeyspaceId => m.keyspace_id,
                VindexColumn::RangeStart => m.range.as_ref().map(|r| r.start.as_slice()),
                VindexColumn::RangeEnd => m.range.as_ref().map(|r| r.end.as_slice()),
                VindexColumn::HexKeyspaceId => hex.as_deref().map(str::as_bytes),
                VindexColumn::Shard => m.shard.map(str::as_bytes),
            })
            .collect();
        Row::from_values(cells)
    }

    fn fields(&self) -> Vec<Field> {
        self.columns
            .iter()
            .map(|(name, _)| Field {
                name: name.clone(),
                r#type: Type::Varbinary as i32,
                charset: proto::sqltypes::BINARY_COLLATION,
                ..Default::default()
            })
            .collect()
    }
}

#[async_trait]
impl Primitive for VindexFunc {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let mut bound: Vec<BindValue> = Vec::new();
        for pv in &self.values {
            match pv.resolve(vars)? {
                BindValue::Tuple(items) => bound.extend(items),
                v => bound.push(v),
            }
        }
        let values = bound.iter().map(vindex_value).collect::<Result<Vec<_>>>()?;
        let destinations = self.destinations(vc, &bound, &values).await?;
        let shards = vc.shards(&self.keyspace)?;
        let mut out = QueryResult {
            fields: self.fields(),
            ..Default::default()
        };
        for (value, dest) in values.iter().zip(&destinations) {
            let id = value.to_bytes();
            let kids: Vec<&[u8]> = match dest {
                Destination::None => continue,
                Destination::KeyRange(r) => {
                    out.rows.push(self.row(&Mapped {
                        id: &id,
                        keyspace_id: None,
                        range: Some(r.clone()),
                        shard: None,
                    }));
                    continue;
                }
                Destination::KeyspaceId(k) => vec![k.0.as_slice()],
                Destination::KeyspaceIds(ks) => ks.iter().map(|k| k.0.as_slice()).collect(),
            };
            for kid in kids {
                let shard = &shards[shard_for_keyspace_id(&shards, kid)?];
                out.rows.push(self.row(&Mapped {
                    id: &id,
                    keyspace_id: Some(kid),
                    range: Some(KeyRange::parse_shard_name(shard)?),
                    shard: Some(shard),
                }));
            }
        }
        Ok(out)
    }

    fn description(&self) -> PlanDescription {
        let columns: Vec<usize> = self.columns.iter().map(|(_, c)| c.index()).collect();
        let fields: serde_json::Map<String, serde_json::Value> = self
            .columns
            .iter()
            .map(|(_, c)| (c.name().to_string(), "VARBINARY".into()))
            .collect();
        let values: Vec<String> = self.values.iter().map(PlanValue::describe).collect();
        let value = match values.as_slice() {
            [one] => one.clone(),
            many => format!("({})", many.join(", ")),
        };
        PlanDescription::new("VindexFunc")
            .variant("VindexMap")
            .with("Columns", columns)
            .with("Fields", fields)
            .with("Value", value)
            .with("Vindex", self.vindex_name.clone())
    }
}

#[cfg(test)]
mod tests;
