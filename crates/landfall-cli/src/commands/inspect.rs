//! Commands that only read files: `validate`, `graph`, `schema`.

use std::fmt::Write;

use petgraph::graph::DiGraph;

use crate::cli::{DiagnosticsFormat, GlobalArgs, GraphArgs, GraphFormat, ValidateArgs};
use crate::context;
use crate::error::{CliError, CliResult};
use crate::stdout;

use super::SUCCESS;

pub fn validate(global: &GlobalArgs, args: &ValidateArgs) -> CliResult<u8> {
    let format = args.format;
    let (ws, warnings) = context::load_reporting(global, format)?;
    let d = &ws.desired;
    let endpoints: usize = d.networks.values().map(|n| n.endpoints.len()).sum();
    let mut summary = format!(
        "{}, {}, {}, {}, {} ({}), {}",
        count(d.ous.len(), "OU"),
        count(d.accounts.len(), "account"),
        count(d.policies.len(), "SCP"),
        count(d.attachments.len(), "attachment"),
        count(d.networks.len(), "network"),
        count(endpoints, "VPC endpoint"),
        count(d.kms_keys.len(), "KMS key"),
    );
    if !d.controls.is_empty() {
        summary.push_str(&format!(
            ", {}",
            count(d.controls.len(), "Control Tower control")
        ));
    }
    if !d.portfolios.is_empty() {
        let shares: usize = d.portfolios.values().map(|p| p.shares.len()).sum();
        summary.push_str(&format!(
            ", {} ({})",
            count(d.portfolios.len(), "portfolio"),
            count(shares, "share")
        ));
    }
    if !d.permission_sets.is_empty() || !d.assignments.is_empty() {
        summary.push_str(&format!(
            ", {} ({}, {})",
            count(d.permission_sets.len(), "permission set"),
            count(d.groups.len(), "group"),
            count(d.assignments.len(), "account assignment")
        ));
    }
    if !d.org_policies.is_empty() {
        let of = |t: landfall_core::OrgPolicyType| {
            d.org_policies.iter().filter(|p| p.policy_type == t).count()
        };
        summary.push_str(&format!(
            ", {}, {}, {} ({})",
            count(of(landfall_core::OrgPolicyType::Rcp), "RCP"),
            policies(of(landfall_core::OrgPolicyType::Tag), "tag"),
            policies(of(landfall_core::OrgPolicyType::AiOptOut), "AI opt-out"),
            count(d.org_policy_attachments.len(), "attachment")
        ));
    }
    if !d.trails.is_empty() {
        summary.push_str(&format!(
            ", {}",
            count(d.trails.len(), "organization trail")
        ));
    }
    if !d.delegated_admins.is_empty() {
        summary.push_str(&format!(
            ", {}",
            count(d.delegated_admins.len(), "delegated service")
        ));
    }
    if d.uses_account_factory() {
        summary.push_str("; accounts through the Control Tower Account Factory");
    }
    let scps = landfall_core::permissions::Hierarchy::from_desired(&ws.desired);
    let documents = super::guard::offline_documents(&ws, &super::guard::expectation_arns(&ws));
    super::guard::check_expectations(&ws, &scps, &documents)?;
    // Offline: whether the desired SCPs would lock the access role out needs no live
    // data (plan compares with what is live, to tell new lockouts from old ones).
    super::guard::check_lockout_offline(&ws, &scps, args.allow_lockout)?;
    if format != DiagnosticsFormat::Human {
        context::print_diagnostics(&warnings, format)?;
    }
    eprintln!("{} is valid: {summary}.", global.config.display());
    Ok(SUCCESS)
}

/// `1 network`, `2 networks`.
/// `1 tag policy`, `2 tag policies`.
fn policies(n: usize, what: &str) -> String {
    let s = if n == 1 { "policy" } else { "policies" };
    format!("{n} {what} {s}")
}

fn count(n: usize, noun: &str) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{n} {noun}{s}")
}

/// A DOT string literal: the text in quotes, its quotes and backslashes escaped.
fn dot_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn graph(global: &GlobalArgs, args: &GraphArgs) -> CliResult<u8> {
    let ws = context::load(global)?;
    // The edges an apply on an empty organization orders by: the same planner.
    let plan =
        landfall_core::diff::greenfield_plan(&ws.desired).map_err(super::plan::plan_error)?;
    let mut g: DiGraph<String, ()> = DiGraph::new();
    let nodes: Vec<_> = plan
        .changes
        .iter()
        .map(|c| g.add_node(c.address.to_string()))
        .collect();
    for (i, c) in plan.changes.iter().enumerate() {
        for &d in &c.depends_on {
            if let (Some(&from), Some(&to)) = (nodes.get(d), nodes.get(i)) {
                g.add_edge(from, to, ());
            }
        }
    }
    let text = match args.format {
        GraphFormat::Dot => {
            let mut out = String::from("digraph {\n");
            for idx in g.node_indices() {
                let _ = writeln!(
                    out,
                    "    {} [ label = {} shape = box ]",
                    idx.index(),
                    dot_string(&g[idx])
                );
            }
            for e in g.raw_edges() {
                let _ = writeln!(out, "    {} -> {}", e.source().index(), e.target().index());
            }
            out.push_str("}\n");
            out
        }
        GraphFormat::Json => {
            let nodes: Vec<serde_json::Value> = plan
                .changes
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    serde_json::json!({
                        "id": i,
                        "address": c.address.to_string(),
                        "action": c.action,
                    })
                })
                .collect();
            let edges: Vec<serde_json::Value> = g
                .raw_edges()
                .iter()
                .map(
                    |e| serde_json::json!({ "from": e.source().index(), "to": e.target().index() }),
                )
                .collect();
            let doc = serde_json::json!({ "nodes": nodes, "edges": edges });
            let mut s = serde_json::to_string_pretty(&doc).map_err(CliError::new)?;
            s.push('\n');
            s
        }
        GraphFormat::Mermaid => {
            let mut out = String::from("graph LR\n");
            for idx in g.node_indices() {
                let _ = writeln!(
                    out,
                    "  n{}[\"{}\"]",
                    idx.index(),
                    g[idx].replace('"', "#quot;")
                );
            }
            for e in g.raw_edges() {
                let _ = writeln!(out, "  n{} --> n{}", e.source().index(), e.target().index());
            }
            out
        }
    };
    stdout::print(&text)?;
    Ok(SUCCESS)
}

pub fn schema() -> CliResult<u8> {
    let schema = landfall_config::json_schema();
    stdout::println(&serde_json::to_string_pretty(&schema).map_err(CliError::new)?)?;
    Ok(SUCCESS)
}
