//! The summary `VDiff show` prints: every shard's stored reports summed up per table, in the
//! shape of vtctldclient's (text template and JSON field names).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::store::ShardRecord;
use super::TableReport;

/// One VDiff over all target shards.
#[derive(Debug)]
pub struct Summary {
    workflow: String,
    keyspace: String,
    uuid: String,
    state: String,
    rows_compared: u64,
    has_mismatch: bool,
    shards: Vec<String>,
    started_at: String,
    completed_at: String,
    /// table -> (state, sum over shards).
    tables: BTreeMap<String, (String, TableReport)>,
    /// table -> shard -> report.
    reports: BTreeMap<String, BTreeMap<String, TableReport>>,
    /// shard -> error.
    errors: BTreeMap<String, String>,
}

impl Summary {
    pub fn build(keyspace: &str, workflow: &str, uuid: &str, shards: &[ShardRecord]) -> Summary {
        let mut s = Summary {
            workflow: workflow.to_owned(),
            keyspace: keyspace.to_owned(),
            uuid: uuid.to_owned(),
            state: String::new(),
            rows_compared: 0,
            has_mismatch: false,
            shards: shards.iter().map(|r| r.shard.clone()).collect(),
            started_at: String::new(),
            completed_at: String::new(),
            tables: BTreeMap::new(),
            reports: BTreeMap::new(),
            errors: BTreeMap::new(),
        };
        s.shards.sort();
        let mut error = false;
        let mut all_completed = true;
        for shard in shards {
            // The earliest start and the latest completion over the shards.
            if s.started_at.is_empty() || shard.started_at < s.started_at {
                s.started_at = shard.started_at.clone();
            }
            if shard.completed_at > s.completed_at {
                s.completed_at = shard.completed_at.clone();
            }
            if !shard.last_error.is_empty() {
                s.errors
                    .insert(shard.shard.clone(), shard.last_error.clone());
            }
            error |= shard.state == "error";
            all_completed &= shard.state == "completed";
            for t in &shard.tables {
                s.rows_compared += t.report.rows_compared;
                s.has_mismatch |= t.report.has_mismatch();
                error |= t.state == "error";
                all_completed &= t.state == "completed";
                let (state, sum) = s.tables.entry(t.report.table.clone()).or_insert_with(|| {
                    (
                        t.state.clone(),
                        TableReport {
                            table: t.report.table.clone(),
                            ..Default::default()
                        },
                    )
                });
                if t.state != "completed" && state.as_str() != "error" {
                    *state = t.state.clone();
                }
                sum.add(&t.report);
                s.reports
                    .entry(t.report.table.clone())
                    .or_default()
                    .insert(shard.shard.clone(), t.report.clone());
            }
        }
        s.state = if error {
            "error"
        } else if all_completed {
            "completed"
        } else {
            "started"
        }
        .to_owned();
        if s.state != "completed" {
            s.completed_at.clear();
        }
        s
    }

    /// vtctldclient's JSON; per-table details only with a mismatch or `verbose`.
    pub fn to_json(&self, verbose: bool) -> Value {
        let mut out = Map::new();
        out.insert("Workflow".into(), json!(self.workflow));
        out.insert("Keyspace".into(), json!(self.keyspace));
        out.insert("State".into(), json!(self.state));
        out.insert("UUID".into(), json!(self.uuid));
        out.insert("RowsCompared".into(), json!(self.rows_compared));
        out.insert("HasMismatch".into(), json!(self.has_mismatch));
        out.insert("Shards".into(), json!(self.shards.join(",")));
        if !self.started_at.is_empty() {
            out.insert("StartedAt".into(), json!(self.started_at));
        }
        if !self.completed_at.is_empty() {
            out.insert("CompletedAt".into(), json!(self.completed_at));
        }
        if self.has_mismatch || verbose {
            let tables: Map<String, Value> = self
                .tables
                .iter()
                .map(|(name, (state, r))| {
                    (
                        name.clone(),
                        json!({
                            "TableName": name,
                            "State": state,
                            "RowsCompared": r.rows_compared,
                            "MatchingRows": r.matching,
                            "MismatchedRows": r.mismatched,
                            "ExtraRowsSource": r.extra_source,
                            "ExtraRowsTarget": r.extra_target,
                        }),
                    )
                })
                .collect();
            out.insert("TableSummary".into(), Value::Object(tables));
            let reports: Map<String, Value> = self
                .reports
                .iter()
                .map(|(table, shards)| {
                    let per_shard: Map<String, Value> = shards
                        .iter()
                        .map(|(shard, r)| (shard.clone(), r.to_json()))
                        .collect();
                    (table.clone(), Value::Object(per_shard))
                })
                .collect();
            out.insert("Reports".into(), Value::Object(reports));
        }
        if !self.errors.is_empty() {
            out.insert("Errors".into(), json!(self.errors));
        }
        Value::Object(out)
    }

    /// vtctldclient's text summary (its template with the empty lines removed).
    pub fn to_text(&self) -> String {
        let mut lines = vec![
            String::new(),
            format!(
                "VDiff Summary for {}.{} ({})",
                self.keyspace, self.workflow, self.uuid
            ),
            format!("State:        {}", self.state),
        ];
        for (shard, error) in &self.errors {
            lines.push(format!("              Error: (shard {shard}) {error}"));
        }
        lines.push(format!("RowsCompared: {}", self.rows_compared));
        lines.push(format!("HasMismatch:  {}", self.has_mismatch));
        lines.push(format!("StartedAt:    {}", self.started_at));
        if !self.completed_at.is_empty() {
            lines.push(format!("CompletedAt:  {}", self.completed_at));
        }
        if self.has_mismatch {
            for (name, (state, r)) in &self.tables {
                lines.push(" ".into());
                lines.push(format!("Table {name}:"));
                lines.push(format!("\tState:            {state}"));
                lines.push(format!("\tProcessedRows:    {}", r.rows_compared));
                lines.push(format!("\tMatchingRows:     {}", r.matching));
                for (label, n) in [
                    ("MismatchedRows:   ", r.mismatched),
                    ("ExtraRowsSource:  ", r.extra_source),
                    ("ExtraRowsTarget:  ", r.extra_target),
                ] {
                    if n > 0 {
                        lines.push(format!("\t{label}{n}"));
                    }
                }
            }
        }
        lines.push(" ".into());
        lines.push("Use \"--format=json\" for more detailed output.".into());
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::vdiff::store::TableRecord;

    fn shard(name: &str, matching: u64, mismatched: u64) -> ShardRecord {
        ShardRecord {
            shard: name.into(),
            state: "completed".into(),
            started_at: format!("2026-01-01 00:00:0{}", name.len()),
            completed_at: format!("2026-01-01 00:01:0{}", name.len()),
            tables: vec![TableRecord {
                state: "completed".into(),
                report: TableReport {
                    table: "customer".into(),
                    rows_compared: matching + mismatched,
                    matching,
                    mismatched,
                    ..Default::default()
                },
            }],
            ..Default::default()
        }
    }

    #[test]
    fn shards_add_up() {
        let s = Summary::build(
            "customer",
            "wf",
            "u",
            &[shard("-80", 3, 0), shard("80-", 2, 1)],
        );
        let j = s.to_json(false);
        assert_eq!(j["State"], "completed");
        assert_eq!(j["RowsCompared"], 6);
        assert_eq!(j["HasMismatch"], true);
        assert_eq!(j["Shards"], "-80,80-");
        assert_eq!(j["TableSummary"]["customer"]["MatchingRows"], 5);
        assert_eq!(j["Reports"]["customer"]["80-"]["MismatchedRows"], 1);
        assert!(s.to_text().contains("\tMismatchedRows:   1"));
    }

    #[test]
    fn details_only_with_a_mismatch_or_verbose() {
        let s = Summary::build("customer", "wf", "u", &[shard("0", 3, 0)]);
        assert!(s.to_json(false).get("TableSummary").is_none());
        assert_eq!(
            s.to_json(true)["TableSummary"]["customer"]["MatchingRows"],
            3
        );
        let text = s.to_text();
        assert!(text.starts_with("\nVDiff Summary for customer.wf (u)\nState:        completed\nRowsCompared: 3\nHasMismatch:  false\n"), "{text}");
        assert!(text.ends_with(" \nUse \"--format=json\" for more detailed output."));
    }
}
