//! Human renderings of plans and drift reports (JSON is serde's). Deterministic:
//! same plan, same bytes. Colors only when the stream is a terminal and NO_COLOR is unset.

use std::fmt::Write;

use console::Style;
use landfall_core::attrs::AttrDiff;
use landfall_core::drift::{DriftClass, DriftReport};
use landfall_core::plan::{Action, Plan};
use serde_json::Value;

fn action_style(action: Action) -> Style {
    match action {
        Action::Create => Style::new().green(),
        Action::Adopt => Style::new().cyan(),
        Action::Update | Action::Move => Style::new().yellow(),
        Action::Replace | Action::Delete | Action::Close => Style::new().red(),
        Action::Forget => Style::new().dim(),
    }
}

fn show(v: &Option<Value>) -> String {
    match v {
        None => "(none)".into(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(other) => other.to_string(),
    }
}

/// Pretty-prints a JSON string attribute (policy documents) for a line diff.
fn pretty_json(v: &Option<Value>) -> Option<String> {
    let text = v.as_ref()?.as_str()?;
    let parsed: Value = serde_json::from_str(text).ok()?;
    if !parsed.is_object() {
        return None;
    }
    serde_json::to_string_pretty(&parsed).ok()
}

/// Lines of context around each change in a policy diff.
const CONTEXT_LINES: usize = 3;

/// AWS's default endpoint policy (full access), in the canonical form attributes use.
fn is_default_endpoint_policy(v: &Option<Value>) -> bool {
    let default =
        landfall_core::model::canonical_json(landfall_core::member::DEFAULT_ENDPOINT_POLICY);
    v.as_ref().and_then(Value::as_str) == Some(default.as_str())
}

fn render_diff(out: &mut String, d: &AttrDiff, color: bool) {
    // A default endpoint policy is 13 lines that say "full access": name it.
    let (before_default, after_default) = (
        is_default_endpoint_policy(&d.before),
        is_default_endpoint_policy(&d.after),
    );
    if before_default || after_default {
        let label = |is_default: bool| {
            if is_default {
                "(default policy)"
            } else {
                "(a custom policy)"
            }
        };
        let line = match (&d.before, &d.after) {
            (None, _) => format!("      + {} = {}", d.attribute, label(after_default)),
            (_, None) => format!("      - {} = {}", d.attribute, label(before_default)),
            _ => format!(
                "      ~ {}: {} -> {}",
                d.attribute,
                label(before_default),
                label(after_default)
            ),
        };
        let _ = writeln!(out, "{line}");
        // The custom side still shows in full, so the change can be reviewed.
        let custom = if before_default { &d.after } else { &d.before };
        if !(before_default && after_default)
            && let Some(text) = pretty_json(custom)
        {
            for text_line in text.lines() {
                let _ = writeln!(out, "          {text_line}");
            }
        }
        return;
    }
    let (b, a) = (pretty_json(&d.before), pretty_json(&d.after));
    match (&b, &a, &d.before, &d.after) {
        // A document created or removed: shown once, under the same symbol as any
        // other attribute, not as a diff against nothing.
        (_, Some(text), None, Some(_)) | (Some(text), _, Some(_), None) => {
            let sign = if d.before.is_none() { "+" } else { "-" };
            let _ = writeln!(out, "      {sign} {} =", d.attribute);
            for line in text.lines() {
                let _ = writeln!(out, "          {line}");
            }
            return;
        }
        (Some(b), Some(a), _, _) => {
            // A change: the changed lines with a few lines of context, hunks apart.
            let _ = writeln!(out, "      ~ {}:", d.attribute);
            let diff = similar::TextDiff::from_lines(b, a);
            for (i, group) in diff.grouped_ops(CONTEXT_LINES).iter().enumerate() {
                if i > 0 {
                    let _ = writeln!(out, "          ...");
                }
                for op in group {
                    for change in diff.iter_changes(op) {
                        let (sign, style) = match change.tag() {
                            similar::ChangeTag::Delete => ("-", Style::new().red()),
                            similar::ChangeTag::Insert => ("+", Style::new().green()),
                            similar::ChangeTag::Equal => (" ", Style::new()),
                        };
                        let line =
                            format!("        {sign} {}", change.value().trim_end_matches('\n'));
                        let _ = writeln!(out, "{}", style.force_styling(color).apply_to(line));
                    }
                }
            }
            return;
        }
        _ => {}
    }
    let line = match (&d.before, &d.after) {
        (None, Some(_)) => format!("      + {} = {}", d.attribute, show(&d.after)),
        (Some(_), None) => format!("      - {} = {}", d.attribute, show(&d.before)),
        _ => format!(
            "      ~ {}: {} -> {}",
            d.attribute,
            show(&d.before),
            show(&d.after)
        ),
    };
    let _ = writeln!(out, "{line}");
}

pub fn plan_human(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Landfall plan for landing zone `{}` on the {}",
        plan.landing_zone, plan.world
    );
    for w in &plan.warnings {
        let _ = writeln!(
            out,
            "{} {w}",
            Style::new()
                .yellow()
                .force_styling(color)
                .apply_to("warning:")
        );
    }
    if plan.is_empty() {
        let _ = writeln!(
            out,
            "\nNo changes. The live organization matches the desired state."
        );
        return out;
    }
    if !plan.permission_changes.is_empty() {
        let _ = writeln!(
            out,
            "\nEffective permissions change in {} account(s) (a sample of the requests that flip):",
            plan.permission_changes.len()
        );
        for p in &plan.permission_changes {
            let _ = writeln!(out, "  account.{}:", p.account);
            for f in p.flips.iter().take(5) {
                let word = |d: &str| if d == "allow" { "allowed" } else { "denied" };
                let by = match &f.deciding {
                    Some(landfall_core::plan::Deciding {
                        policy: Some(policy),
                        sid,
                        level,
                    }) => {
                        let sid = sid
                            .as_deref()
                            .map(|s| format!(" Sid {s}"))
                            .unwrap_or_default();
                        format!(" (by {policy}{sid} at {level})")
                    }
                    Some(d) => format!(" (no Allow at {})", d.level),
                    None => String::new(),
                };
                let with: String = f
                    .context
                    .iter()
                    .map(|(k, v)| format!(" with {k}={v}"))
                    .collect();
                let _ = writeln!(
                    out,
                    "    {} in {}{with}: {} -> {}{by}",
                    f.action,
                    f.region,
                    word(&f.before),
                    word(&f.after)
                );
            }
            if p.flips.len() > 5 {
                let _ = writeln!(out, "    ... and {} more", p.flips.len() - 5);
            }
        }
    }
    let _ = writeln!(out, "\nChanges, in the order they run:\n");
    let width = plan.changes.len().to_string().len();
    for (i, c) in plan.changes.iter().enumerate() {
        let style = action_style(c.action).force_styling(color);
        let id =
            c.id.as_deref()
                .map(|id| format!(" ({id})"))
                .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:>width$}. {} {}{id}",
            i + 1,
            style.apply_to(format!("{:<3} {:<7}", c.action.symbol(), c.action.verb())),
            Style::new()
                .bold()
                .force_styling(color)
                .apply_to(&c.address),
        );
        let _ = writeln!(out, "      # {}", c.reason);
        if let Some(project) = &c.project {
            let _ = writeln!(out, "      # from project {project}");
        }
        if !c.depends_on.is_empty() {
            let deps: Vec<String> = c.depends_on.iter().map(|d| (d + 1).to_string()).collect();
            let _ = writeln!(out, "      # after {}", deps.join(", "));
        }
        for d in &c.diffs {
            render_diff(&mut out, d, color);
        }
    }
    let s = &plan.summary;
    let mut parts = vec![
        format!("{} to create", s.create),
        format!("{} to update", s.update),
        format!("{} to move", s.moves),
        format!("{} to delete", s.delete),
    ];
    for (n, what) in [
        (s.adopt, "to adopt"),
        (s.replace, "to replace"),
        (s.close, "to close"),
        (s.forget, "to forget"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    let _ = writeln!(out, "\nPlan: {}.", parts.join(", "));
    out
}

fn class_label(class: DriftClass) -> &'static str {
    match class {
        DriftClass::Changed => "changed outside Landfall",
        DriftClass::Missing => "missing (deleted or detached outside Landfall)",
        DriftClass::Moved => "moved outside Landfall",
        DriftClass::Unmanaged => "unmanaged (exists in the managed scope, not declared)",
        DriftClass::Pending => "pending (the desired state changed; not applied yet)",
    }
}

pub fn drift_human(report: &DriftReport, color: bool) -> String {
    let mut out = String::new();
    if !report.has_drift() {
        let _ = writeln!(
            out,
            "No drift: the {} matches the last apply and the desired state.",
            report.world
        );
        return out;
    }
    let mut current = None;
    for f in &report.findings {
        if current != Some(f.class) {
            current = Some(f.class);
            let _ = writeln!(
                out,
                "\n{}",
                Style::new()
                    .bold()
                    .force_styling(color)
                    .apply_to(format!("{}:", class_label(f.class)))
            );
        }
        let id =
            f.id.as_deref()
                .map(|i| format!(" ({i})"))
                .unwrap_or_default();
        let ct = f
            .control_tower_drift_type
            .as_deref()
            .map(|t| format!(" [{t}]"))
            .unwrap_or_default();
        let _ = writeln!(out, "  {}{id}{ct}: {}", f.address, f.message);
        for d in &f.diffs {
            render_diff(&mut out, d, color);
        }
    }
    let counts: Vec<String> = report
        .summary
        .iter()
        .map(|(c, n)| format!("{n} {}", c.name()))
        .collect();
    let _ = writeln!(out, "\nDrift: {}.", counts.join(", "));
    if !report.next_commands.is_empty() {
        let _ = writeln!(out, "Next, either:");
        let width = report
            .next_commands
            .iter()
            .map(|n| n.command.len())
            .max()
            .unwrap_or(0);
        for n in &report.next_commands {
            let _ = writeln!(out, "  {:width$}   # {}", n.command, n.does);
        }
    }
    out
}

pub fn drift_markdown(report: &DriftReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Drift report: `{}`\n", report.landing_zone);
    let _ = writeln!(out, "World: {}\n", report.world);
    if !report.has_drift() {
        let _ = writeln!(out, "No drift found.");
        return out;
    }
    let _ = writeln!(out, "| class | address | id | Control Tower type | what |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    let esc = |s: &str| s.replace('|', "\\|");
    for f in &report.findings {
        let mut what = f.message.clone();
        for d in &f.diffs {
            if pretty_json(&d.before).is_some() {
                what.push_str(&format!("; `{}` differs", d.attribute));
            } else {
                what.push_str(&format!(
                    "; `{}`: {} → {}",
                    d.attribute,
                    show(&d.before),
                    show(&d.after)
                ));
            }
        }
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} |",
            f.class.name(),
            f.address,
            f.id.as_deref().map(esc).unwrap_or_default(),
            f.control_tower_drift_type.as_deref().unwrap_or(""),
            esc(&what)
        );
    }
    if !report.next_commands.is_empty() {
        let _ = writeln!(out, "\n## Next steps\n");
        for (i, n) in report.next_commands.iter().enumerate() {
            let or = if i == 0 { "" } else { "Or " };
            let does = if i == 0 {
                capitalize(&n.does)
            } else {
                n.does.clone()
            };
            let _ = writeln!(out, "- {or}{does}: `{}`", n.command);
        }
    }
    out
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
