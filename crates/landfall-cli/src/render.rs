//! Human and Markdown renderings of plans and drift reports, and the plan's JSON (serde's).
//! Deterministic: same plan, same bytes. Colors only when the stream is a terminal and
//! NO_COLOR is unset.

use std::fmt::Write;

use console::Style;
use landfall_core::Address;
use landfall_core::attrs::AttrDiff;
use landfall_core::drift::{DriftClass, DriftReport};
use landfall_core::plan::{Action, Change, MemberRef, Plan, Ref};
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

/// How a policy is named when one side of a diff is AWS's default endpoint policy.
fn label(is_default: bool) -> &'static str {
    if is_default {
        "(default policy)"
    } else {
        "(a custom policy)"
    }
}

fn render_diff(out: &mut String, d: &AttrDiff, color: bool) {
    // A default endpoint policy is 13 lines that say "full access": name it.
    let (before_default, after_default) = (
        is_default_endpoint_policy(&d.before),
        is_default_endpoint_policy(&d.after),
    );
    if before_default || after_default {
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
    if let Some(note) = partial_note(&plan.targets) {
        let _ = writeln!(
            out,
            "{} {note}",
            Style::new()
                .yellow()
                .force_styling(color)
                .apply_to("warning:")
        );
    }
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
        let _ = writeln!(out, "\n{}", no_changes(plan));
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
    if !plan.tag_policy_changes.is_empty() {
        let _ = writeln!(
            out,
            "\nEffective tag policy changes in {} account(s):",
            plan.tag_policy_changes.len()
        );
        for c in &plan.tag_policy_changes {
            let _ = writeln!(out, "  account.{}:", c.account);
            for line in tag_policy_diff(c) {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    if !plan.moved.is_empty() {
        let _ = writeln!(
            out,
            "\nMoved in the state ([[moved]]; nothing changes in AWS by it):\n"
        );
        for m in &plan.moved {
            let _ = writeln!(out, "  {} -> {}", m.from, m.to);
        }
    }
    let _ = writeln!(out, "\nChanges, in the order they run:\n");
    let width = plan.changes.len().to_string().len();
    for (i, c) in plan.changes.iter().enumerate() {
        let style = action_style(c.action).force_styling(color);
        // An `[[import]]` shows the id it names (a key ARN next to the key id).
        let import = plan.imports.iter().find(|i| i.to == c.address);
        let id = match (c.id.as_deref(), import) {
            (Some(id), Some(i)) if i.id == id => format!(" (import {id})"),
            (Some(id), Some(i)) => format!(" ({id}, import {})", i.id),
            (Some(id), None) => format!(" ({id})"),
            (None, _) => String::new(),
        };
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

/// What an empty plan says: a partial one (`--target`) only speaks for its targets.
pub fn no_changes(plan: &Plan) -> &'static str {
    if plan.targets.is_empty() {
        "No changes. The live organization matches the desired state."
    } else {
        "No changes for the targeted addresses."
    }
}

/// `--target A --target B`, as the plan's targets were given.
pub fn target_flags(targets: &[Address]) -> String {
    targets
        .iter()
        .map(|t| format!("--target {t}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a partial plan (made with `--target`) says of itself; `None` for a whole plan.
pub fn partial_note(targets: &[Address]) -> Option<String> {
    if targets.is_empty() {
        return None;
    }
    Some(format!(
        "this plan is partial ({}): it holds only the changes of the targeted addresses and those they depend on, not everything the configuration asks for; run a full `landfall plan` after applying it",
        target_flags(targets)
    ))
}

/// The plan as `landfall plan --json` prints it: pretty JSON and a newline, without a
/// saved plan's digest (it signs the file `plan --out` wrote, not the plan).
pub fn plan_json(plan: &Plan) -> Result<String, serde_json::Error> {
    let mut text = if plan.digest.is_some() {
        let mut unsigned = plan.clone();
        unsigned.digest = None;
        serde_json::to_string_pretty(&unsigned)?
    } else {
        serde_json::to_string_pretty(plan)?
    };
    text.push('\n');
    Ok(text)
}

/// `text` as inline Markdown code, with a delimiter longer than any run of backticks
/// inside it.
fn md_code(text: &str) -> String {
    let ticks = "`".repeat(longest_backtick_run(text) + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// A fenced Markdown block of `lines`, its fence longer than any backtick run inside.
fn md_fence(out: &mut String, info: &str, lines: &[String]) {
    let longest = lines
        .iter()
        .map(|l| longest_backtick_run(l))
        .max()
        .unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    let _ = writeln!(out, "{fence}{info}");
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "{fence}\n");
}

/// Text inside HTML (`<summary>`): `&`, `<` and `>` escaped.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text inside a Markdown table cell.
fn md_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// One attribute difference as the lines of a ```diff block: `-` the value before, `+`
/// the value after; a policy document as a folded line diff under an `@@ attribute @@`
/// header per hunk; AWS's default endpoint policy by name.
fn markdown_diff(d: &AttrDiff) -> Vec<String> {
    let mut lines = Vec::new();
    let indented = |lines: &mut Vec<String>, sign: &str, text: &str| {
        for line in text.lines() {
            lines.push(format!("{sign}     {line}"));
        }
    };
    let (before_default, after_default) = (
        is_default_endpoint_policy(&d.before),
        is_default_endpoint_policy(&d.after),
    );
    if before_default || after_default {
        if d.before.is_some() {
            lines.push(format!("- {} = {}", d.attribute, label(before_default)));
            if !before_default && let Some(text) = pretty_json(&d.before) {
                indented(&mut lines, "-", &text);
            }
        }
        if d.after.is_some() {
            lines.push(format!("+ {} = {}", d.attribute, label(after_default)));
            if !after_default && let Some(text) = pretty_json(&d.after) {
                indented(&mut lines, "+", &text);
            }
        }
        return lines;
    }
    match (
        pretty_json(&d.before),
        pretty_json(&d.after),
        &d.before,
        &d.after,
    ) {
        (_, Some(text), None, Some(_)) => {
            lines.push(format!("+ {} =", d.attribute));
            indented(&mut lines, "+", &text);
        }
        (Some(text), _, Some(_), None) => {
            lines.push(format!("- {} =", d.attribute));
            indented(&mut lines, "-", &text);
        }
        (Some(b), Some(a), _, _) => {
            let diff = similar::TextDiff::from_lines(&b, &a);
            for group in diff.grouped_ops(CONTEXT_LINES) {
                lines.push(format!("@@ {} @@", d.attribute));
                for op in &group {
                    for change in diff.iter_changes(op) {
                        let sign = match change.tag() {
                            similar::ChangeTag::Delete => "-",
                            similar::ChangeTag::Insert => "+",
                            similar::ChangeTag::Equal => " ",
                        };
                        lines.push(format!(
                            "{sign}   {}",
                            change.value().trim_end_matches('\n')
                        ));
                    }
                }
            }
        }
        _ => {
            if d.before.is_some() {
                lines.push(format!("- {} = {}", d.attribute, show(&d.before)));
            }
            if d.after.is_some() {
                lines.push(format!("+ {} = {}", d.attribute, show(&d.after)));
            }
        }
    }
    lines
}

fn md_ref(r: &Ref) -> String {
    match r {
        Ref::Id(id) => md_code(id),
        Ref::Address(a) => format!("created by {}", md_code(&a.to_string())),
    }
}

fn markdown_change(out: &mut String, number: usize, c: &Change) {
    let _ = writeln!(
        out,
        "<details>\n<summary>{number}. <code>{} {}</code> <code>{}</code></summary>\n",
        html(c.action.symbol()),
        c.action.verb(),
        html(&c.address.to_string())
    );
    let _ = writeln!(out, "- Address: {}", md_code(&c.address.to_string()));
    let _ = writeln!(out, "- Action: {}", c.action.verb());
    let _ = writeln!(out, "- Reason: {}", c.reason);
    if let Some(id) = &c.id {
        let _ = writeln!(out, "- Id: {}", md_code(id));
    }
    if let Some(MemberRef { account, region }) = &c.member {
        let _ = writeln!(
            out,
            "- Runs in: account {} in {}",
            md_ref(account),
            md_code(region)
        );
    }
    if let Some(project) = &c.project {
        let _ = writeln!(out, "- Project: {}", md_code(project));
    }
    if !c.depends_on.is_empty() {
        let deps: Vec<String> = c.depends_on.iter().map(|d| (d + 1).to_string()).collect();
        let _ = writeln!(out, "- After: {}", deps.join(", "));
    }
    let _ = writeln!(out);
    if !c.diffs.is_empty() {
        let lines: Vec<String> = c.diffs.iter().flat_map(markdown_diff).collect();
        md_fence(out, "diff", &lines);
    }
    if !c.ops.is_empty() {
        let _ = writeln!(out, "Operations:\n");
        let lines: Vec<String> = c
            .ops
            .iter()
            .map(|op| serde_json::to_string(op).unwrap_or_else(|e| format!("({e})")))
            .collect();
        md_fence(out, "json", &lines);
    }
    let _ = writeln!(out, "</details>\n");
}

/// The plan for a pull-request comment (`landfall show PLANFILE --markdown`): a title
/// with the landing zone and world, a summary table, each change folded in a
/// `<details>` block (reason, attribute diffs as a `diff` block, operations), the
/// permission changes as a table, and the warnings.
pub fn plan_markdown(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Landfall plan: {} on the {}\n",
        md_code(&plan.landing_zone),
        plan.world
    );
    if let Some(note) = partial_note(&plan.targets) {
        let _ = writeln!(out, "> [!WARNING]\n> {}\n", capitalize(&note));
    }
    if plan.is_empty() {
        let _ = writeln!(out, "{}\n", no_changes(plan));
    } else {
        let s = &plan.summary;
        let _ = writeln!(out, "| action | changes |\n|---|---:|");
        for (action, n) in [
            (Action::Create, s.create),
            (Action::Adopt, s.adopt),
            (Action::Update, s.update),
            (Action::Replace, s.replace),
            (Action::Move, s.moves),
            (Action::Delete, s.delete),
            (Action::Close, s.close),
            (Action::Forget, s.forget),
        ] {
            if n > 0 {
                let _ = writeln!(
                    out,
                    "| {} {} | {n} |",
                    md_code(action.symbol()),
                    action.verb()
                );
            }
        }
        let _ = writeln!(out, "| **total** | **{}** |\n", plan.changes.len());
        let _ = writeln!(out, "## Changes, in the order they run\n");
        for (i, c) in plan.changes.iter().enumerate() {
            markdown_change(&mut out, i + 1, c);
        }
    }
    if !plan.tag_policy_changes.is_empty() {
        let _ = writeln!(out, "## Effective tag policy changes\n");
        for c in &plan.tag_policy_changes {
            let _ = writeln!(out, "- {}", md_code(&format!("account.{}", c.account)));
            for line in tag_policy_diff(c) {
                let _ = writeln!(out, "  - {}", md_code(&line));
            }
        }
        let _ = writeln!(out);
    }
    if !plan.permission_changes.is_empty() {
        let _ = writeln!(out, "## Permission changes\n");
        let _ = writeln!(
            out,
            "Effective SCP permissions change in {} account(s); a sample of the requests whose decision flips:\n",
            plan.permission_changes.len()
        );
        let _ = writeln!(
            out,
            "| account | action | region | before → after | deciding policy |\n|---|---|---|---|---|"
        );
        for p in &plan.permission_changes {
            for f in &p.flips {
                let with: String = f
                    .context
                    .iter()
                    .map(|(k, v)| format!(" with {}", md_code(&format!("{k}={v}"))))
                    .collect();
                let deciding = match &f.deciding {
                    Some(landfall_core::plan::Deciding {
                        policy: Some(policy),
                        sid,
                        level,
                    }) => {
                        let sid = sid
                            .as_deref()
                            .map(|s| format!(" (Sid {})", md_code(s)))
                            .unwrap_or_default();
                        format!("{}{sid} at {}", md_code(policy), md_code(level))
                    }
                    Some(d) => format!("no Allow at {}", md_code(&d.level)),
                    None => "—".into(),
                };
                let _ = writeln!(
                    out,
                    "| {} | {}{} | {} | {} → {} | {} |",
                    md_cell(&md_code(&format!("account.{}", p.account))),
                    md_cell(&md_code(&f.action)),
                    md_cell(&with),
                    md_cell(&f.region),
                    md_cell(&f.before),
                    md_cell(&f.after),
                    md_cell(&deciding)
                );
            }
        }
        let _ = writeln!(out);
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "## Warnings\n");
        for w in &plan.warnings {
            let _ = writeln!(out, "- {w}");
        }
        let _ = writeln!(out);
    }
    // One newline at the end, whatever the last section was.
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// What changes in one account's effective tag policy, per policy key and setting:
/// `project: tag_value [a, b] -> [a, b, c]`, `cost-center: added (tag_key cost-center, ...)`.
pub fn tag_policy_diff(
    change: &landfall_core::tag_policies::EffectiveTagPolicyChange,
) -> Vec<String> {
    use serde_json::Value;
    let empty = serde_json::Map::new();
    let tags = |v: &Value| {
        v.get("tags")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_else(|| empty.clone())
    };
    let (before, after) = (tags(&change.before), tags(&change.after));
    let show = |v: &Value| match v {
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| i.as_str().unwrap_or_default().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let settings = |v: &Value| -> Vec<String> {
        v.as_object()
            .map(|o| o.iter().map(|(k, v)| format!("{k} {}", show(v))).collect())
            .unwrap_or_default()
    };
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        match (before.get(key), after.get(key)) {
            (None, Some(a)) => out.push(format!("{key}: added ({})", settings(a).join("; "))),
            (Some(_), None) => out.push(format!("{key}: removed")),
            (Some(b), Some(a)) if a != b => {
                let (bo, ao) = (
                    b.as_object().cloned().unwrap_or_default(),
                    a.as_object().cloned().unwrap_or_default(),
                );
                let mut names: Vec<&String> = bo.keys().chain(ao.keys()).collect();
                names.sort();
                names.dedup();
                for name in names {
                    match (bo.get(name), ao.get(name)) {
                        (Some(x), Some(y)) if x != y => {
                            out.push(format!("{key}: {name} {} -> {}", show(x), show(y)))
                        }
                        (None, Some(y)) => out.push(format!("{key}: {name} {} (new)", show(y))),
                        (Some(x), None) => out.push(format!("{key}: {name} {} (dropped)", show(x))),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    out
}
