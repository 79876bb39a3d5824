//! [`PlanDescription`]: the JSON tree `VEXPLAIN PLAN` prints, with Vitess's
//! field names (`OperatorType`, `Variant`, `Keyspace`, `Query`, ...).

use std::collections::BTreeMap;

use serde::Serialize;

/// A keyspace as plan descriptions show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyspaceDesc {
    /// Keyspace name.
    #[serde(rename = "Name")]
    pub name: String,
    /// Whether it is sharded.
    #[serde(rename = "Sharded")]
    pub sharded: bool,
}

/// One node of a plan description.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlanDescription {
    /// The primitive (`Route`, `Limit`, `Aggregate`, ...).
    #[serde(rename = "OperatorType")]
    pub operator_type: String,
    /// Its variant (`Scatter`, `EqualUnique`, `Ordered`, ...).
    #[serde(rename = "Variant", skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The keyspace a route goes to.
    #[serde(rename = "Keyspace", skip_serializing_if = "Option::is_none")]
    pub keyspace: Option<KeyspaceDesc>,
    /// Other properties (`Query`, `FieldQuery`, `Vindex`, `Values`, `Count`, ...).
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
    /// Child primitives.
    #[serde(rename = "Inputs", skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<PlanDescription>,
}

impl PlanDescription {
    /// A node of the given operator type.
    pub fn new(operator_type: &str) -> Self {
        PlanDescription {
            operator_type: operator_type.to_string(),
            ..Default::default()
        }
    }

    /// Sets the variant.
    pub fn variant(mut self, variant: &str) -> Self {
        self.variant = Some(variant.to_string());
        self
    }

    /// Adds a property.
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.other.insert(key.to_string(), value.into());
        self
    }

    /// Adds `JoinVars`: each bind variable and the input column it takes, as Vitess shows them.
    pub fn join_vars(self, vars: &[(String, usize)]) -> Self {
        let vars: serde_json::Map<String, serde_json::Value> = vars
            .iter()
            .map(|(n, c)| (n.clone(), serde_json::Value::from(*c)))
            .collect();
        self.with("JoinVars", serde_json::Value::Object(vars))
    }

    /// Adds a child.
    pub fn input(mut self, child: PlanDescription) -> Self {
        self.inputs.push(child);
        self
    }

    /// The description as a JSON value (object keys sorted).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The description as JSON text, `OperatorType`, `Variant` and
    /// `Keyspace` first, as Vitess prints it (`pretty` indents it).
    pub fn to_json_string(&self, pretty: bool) -> String {
        let text = if pretty {
            serde_json::to_string_pretty(self)
        } else {
            serde_json::to_string(self)
        };
        text.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_with_vitess_names() {
        let d = PlanDescription::new("Limit").with("Count", "10").input(
            PlanDescription {
                keyspace: Some(KeyspaceDesc {
                    name: "user".into(),
                    sharded: true,
                }),
                ..PlanDescription::new("Route").variant("Scatter")
            }
            .with("Query", "select 1 from `user`"),
        );
        assert_eq!(
            d.to_json_string(false),
            r#"{"OperatorType":"Limit","Count":"10","Inputs":[{"OperatorType":"Route","Variant":"Scatter","Keyspace":{"Name":"user","Sharded":true},"Query":"select 1 from `user`"}]}"#
        );
    }
}
