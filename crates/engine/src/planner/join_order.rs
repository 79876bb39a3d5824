//! The order of a nested-loop join's tables (Vitess's greedy join
//! ordering in `planbuilder/operators`): when every table is inner-joined,
//! any order gives the same rows, so each order is planned and the one
//! whose routes cost least is kept, FROM order first among equals. A
//! later table's route may become cheap through its join condition (a
//! vindex column equal to a bind variable from the earlier tables), which
//! is why a selective or unsharded table is best read first.

use crate::description::PlanDescription;
use crate::error::Result;
use crate::primitive::Primitive;

/// The most tables whose orders are all tried (4! = 24 plans).
const MAX_REORDERED: usize = 4;

/// What one route costs, by its variant (Vitess's `Route.Cost`).
fn route_cost(variant: Option<&str>) -> u32 {
    match variant {
        Some("Unsharded" | "Reference" | "None") => 0,
        Some("EqualUnique") => 1,
        Some("Equal") => 5,
        Some("IN" | "MultiEqual") => 10,
        Some("Scatter") => 20,
        _ => 1,
    }
}

/// The summed cost of the routes of a plan.
fn cost(d: &PlanDescription) -> u32 {
    let own = if d.operator_type == "Route" {
        route_cost(d.variant.as_deref())
    } else {
        0
    };
    own + d.inputs.iter().map(cost).sum::<u32>()
}

/// The permutations of `0..n` in lexicographic order, identity first.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    fn extend(prefix: &mut Vec<usize>, n: usize, out: &mut Vec<Vec<usize>>) {
        if prefix.len() == n {
            out.push(prefix.clone());
            return;
        }
        for i in 0..n {
            if !prefix.contains(&i) {
                prefix.push(i);
                extend(prefix, n, out);
                prefix.pop();
            }
        }
    }
    let mut out = Vec::new();
    extend(&mut Vec::with_capacity(n), n, &mut out);
    out
}

/// Plans `tables` in FROM order with `plan`, and, when `reorderable`,
/// also in every other order, keeping the cheapest. An order that cannot
/// be planned is skipped; the FROM order's error is the one returned.
pub(super) fn plan_cheapest<T: Clone>(
    tables: &[T],
    reorderable: bool,
    plan: impl Fn(&[T]) -> Result<Box<dyn Primitive>>,
) -> Result<Box<dyn Primitive>> {
    let mut best = plan(tables)?;
    if !reorderable || tables.len() > MAX_REORDERED {
        return Ok(best);
    }
    let mut best_cost = cost(&best.description());
    for order in permutations(tables.len()).into_iter().skip(1) {
        let reordered: Vec<T> = order.iter().map(|&i| tables[i].clone()).collect();
        let Ok(candidate) = plan(&reordered) else {
            continue;
        };
        let c = cost(&candidate.description());
        if c < best_cost {
            best = candidate;
            best_cost = c;
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutations_start_with_the_identity() {
        let p = permutations(3);
        assert_eq!(p.len(), 6);
        assert_eq!(p[0], vec![0, 1, 2]);
        assert_eq!(p[5], vec![2, 1, 0]);
    }

    #[test]
    fn routes_cost_by_variant() {
        let mut join = PlanDescription::new("Join");
        let mut scatter = PlanDescription::new("Route");
        scatter.variant = Some("Scatter".into());
        let mut unique = PlanDescription::new("Route");
        unique.variant = Some("EqualUnique".into());
        join.inputs = vec![scatter, unique];
        assert_eq!(cost(&join), 21);
    }
}
