//! [`Distinct`]: removes duplicate rows in vtgate (Vitess
//! `engine/distinct.go`), comparing every column by its type and
//! collation (so `'a'` and `'A '` are one row under a `_ci` collation, as
//! in MySQL). Rows are sorted to find duplicates; the input may hold at
//! most `--max-memory-rows` rows.

use async_trait::async_trait;
use proto::query::QueryResult;
use sql::literal::BindVars;

use crate::description::PlanDescription;
use crate::error::{EngineError, Result};
use crate::merge_sort::{split, OrderByParam, RowComparator};
use crate::primitive::Primitive;
use crate::vcursor::VCursor;

/// Keeps one row of each group of equal rows.
#[derive(Debug)]
pub struct Distinct {
    /// The input.
    pub input: Box<dyn Primitive>,
}

#[async_trait]
impl Primitive for Distinct {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let mut r = self.input.execute(vc, vars).await?;
        let limit = vc.max_memory_rows();
        if r.rows.len() > limit {
            return Err(EngineError::RowLimit(limit));
        }
        let params: Vec<OrderByParam> = (0..r.fields.len())
            .map(|col| OrderByParam { col, desc: false })
            .collect();
        let cmp = RowComparator::new(&params, &r.fields)?;
        let rows = std::mem::take(&mut r.rows);
        let mut keyed = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            keyed.push((i, split(row)?));
        }
        cmp.sort(&mut keyed)?;
        let mut keep: Vec<usize> = Vec::new();
        for k in 0..keyed.len() {
            let dup = k > 0 && cmp.compare_cells(&keyed[k - 1].1, &keyed[k].1)?.is_eq();
            if !dup {
                keep.push(keyed[k].0);
            }
        }
        let mut slots: Vec<Option<proto::query::Row>> = rows.into_iter().map(Some).collect();
        r.rows = keep.into_iter().filter_map(|i| slots[i].take()).collect();
        Ok(r)
    }

    fn description(&self) -> PlanDescription {
        PlanDescription::new("Distinct").input(self.input.description())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::description::KeyspaceDesc;
    use crate::route::{Opcode, Route};
    use crate::testing::{field, result, rows_of, FakeVCursor};
    use proto::query::Type;

    #[tokio::test]
    async fn drops_duplicates_by_collation() {
        let f = [field("name", Type::Varchar), field("n", Type::Int64)];
        let vc = FakeVCursor::new("ks", &["-80", "80-"])
            .result(
                "ks",
                "-80",
                result(
                    &f,
                    &[
                        &[Some("a"), Some("1")],
                        &[None, None],
                        &[Some("b"), Some("1")],
                    ],
                ),
            )
            .result(
                "ks",
                "80-",
                result(
                    &f,
                    &[
                        &[Some("A "), Some("1")],
                        &[None, None],
                        &[Some("a"), Some("2")],
                    ],
                ),
            );
        let d = Distinct {
            input: Box::new(Route::new(
                Opcode::Scatter,
                KeyspaceDesc {
                    name: "ks".into(),
                    sharded: true,
                },
                "q".into(),
                "fq".into(),
            )),
        };
        let r = d.execute(&vc, &BindVars::default()).await.unwrap();
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            rows_of(&r),
            vec![
                vec![None, None],
                vec![s("a"), s("1")],
                vec![s("a"), s("2")],
                vec![s("b"), s("1")]
            ]
        );
        let mut small = vc;
        small.max_rows = 5;
        assert!(matches!(
            d.execute(&small, &BindVars::default()).await,
            Err(EngineError::RowLimit(5))
        ));
    }

    #[tokio::test]
    async fn non_ascii_general_ci_text_is_one_row_per_weight() {
        // `ß` = `s`, `é` = `E`, `Ä` = `a`, dotless `ı` = `I`; `Straße` and `strasse` differ.
        let f = [field("name", Type::Varchar)];
        let names = [
            "Straße", "strasse", "ß", "s", "é", "E", "a", "b", "Ä", "z", "gıft", "x",
        ];
        let rows: Vec<[Option<&str>; 1]> = (0..60)
            .map(|i| [Some(names[(i * 7) % names.len()])])
            .collect();
        let refs: Vec<&[Option<&str>]> = rows.iter().map(|r| &r[..]).collect();
        let vc = FakeVCursor::new("ks", &["0"]).result("ks", "0", result(&f, &refs));
        let d = Distinct {
            input: Box::new(Route::new(
                Opcode::Scatter,
                KeyspaceDesc {
                    name: "ks".into(),
                    sharded: true,
                },
                "q".into(),
                "fq".into(),
            )),
        };
        let r = d.execute(&vc, &BindVars::default()).await.unwrap();
        assert_eq!(r.rows.len(), 9, "{:?}", rows_of(&r));
    }
}
