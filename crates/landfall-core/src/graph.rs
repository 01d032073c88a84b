//! Ordering: changes and their dependency edges form a petgraph DAG; the plan lists
//! them in a deterministic topological order (creates before moves before deletes,
//! then by address). A cycle is an error that names every resource on it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::address::Address;
use crate::plan::{Action, Change};

#[derive(Debug, thiserror::Error)]
#[error("dependency cycle: {}", format_cycle(.addresses))]
pub struct CycleError {
    pub addresses: Vec<Address>,
}

fn format_cycle(addresses: &[Address]) -> String {
    let mut parts: Vec<String> = addresses.iter().map(ToString::to_string).collect();
    if let Some(first) = parts.first().cloned() {
        parts.push(first);
    }
    parts.join(" -> ")
}

/// Execution phase used to break ties so plans read naturally.
fn phase(action: Action) -> u8 {
    match action {
        Action::Adopt => 0,
        Action::Create | Action::Replace | Action::Update => 1,
        Action::Move => 2,
        Action::Close | Action::Delete | Action::Forget => 3,
    }
}

/// Orders `changes` so every edge `(before, after)` is respected, and rewrites each
/// change's `depends_on` as indexes into the returned list.
pub fn order(changes: Vec<Change>, edges: &[(usize, usize)]) -> Result<Vec<Change>, CycleError> {
    let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(changes.len(), edges.len());
    let nodes: Vec<NodeIndex> = changes.iter().map(|_| graph.add_node(())).collect();
    for &(a, b) in edges {
        if let (Some(&na), Some(&nb)) = (nodes.get(a), nodes.get(b)) {
            graph.update_edge(na, nb, ());
        }
    }
    if let Some(cycle) = tarjan_scc(&graph)
        .into_iter()
        .find(|scc| scc.len() > 1 || scc.iter().any(|&n| graph.contains_edge(n, n)))
    {
        let mut addresses: Vec<Address> = cycle
            .iter()
            .filter_map(|n| changes.get(n.index()).map(|c| c.address.clone()))
            .collect();
        addresses.sort();
        return Err(CycleError { addresses });
    }

    // Kahn's algorithm with a min-heap on (phase, address, index): deterministic.
    let key = |i: usize| {
        let c = &changes[i];
        Reverse((phase(c.action), c.address.clone(), i))
    };
    let mut indegree: Vec<usize> = nodes
        .iter()
        .map(|&n| graph.neighbors_directed(n, petgraph::Incoming).count())
        .collect();
    let mut ready: BinaryHeap<_> = (0..changes.len())
        .filter(|&i| indegree[i] == 0)
        .map(key)
        .collect();
    let mut order = Vec::with_capacity(changes.len());
    while let Some(Reverse((_, _, i))) = ready.pop() {
        order.push(i);
        for next in graph.neighbors_directed(nodes[i], petgraph::Outgoing) {
            let j = next.index();
            indegree[j] -= 1;
            if indegree[j] == 0 {
                ready.push(key(j));
            }
        }
    }
    let mut position = vec![0usize; changes.len()];
    for (pos, &i) in order.iter().enumerate() {
        position[i] = pos;
    }
    let mut slots: Vec<Option<Change>> = changes.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(slots.len());
    for &i in &order {
        if let Some(mut change) = slots[i].take() {
            let mut deps: Vec<usize> = graph
                .neighbors_directed(nodes[i], petgraph::Incoming)
                .map(|n| position[n.index()])
                .collect();
            deps.sort_unstable();
            change.depends_on = deps;
            out.push(change);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Record;

    fn change(address: &str, action: Action) -> Change {
        Change {
            address: address.parse().unwrap(),
            action,
            reason: String::new(),
            diffs: vec![],
            id: None,
            ops: vec![],
            record: Record::Remove,
            member: None,
            project: None,
            depends_on: vec![],
        }
    }

    #[test]
    fn respects_edges_and_rewrites_dependencies() {
        let changes = vec![
            change("account.a", Action::Create),
            change("ou.B", Action::Create),
            change("ou.A", Action::Create),
        ];
        // account.a needs ou.B
        let out = order(changes, &[(1, 0)]).unwrap();
        let names: Vec<String> = out.iter().map(|c| c.address.to_string()).collect();
        assert_eq!(names, ["ou.A", "ou.B", "account.a"]);
        assert_eq!(out[2].depends_on, vec![1]);
    }

    #[test]
    fn a_cycle_names_its_members() {
        let changes = vec![
            change("ou.A", Action::Create),
            change("ou.B", Action::Create),
            change("ou.C", Action::Create),
        ];
        let err = order(changes, &[(0, 1), (1, 0), (1, 2)]).unwrap_err();
        assert_eq!(err.to_string(), "dependency cycle: ou.A -> ou.B -> ou.A");
    }
}
