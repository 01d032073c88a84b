//! What scripts and cron jobs depend on besides the output: usage errors exit 1 (never
//! 2, which means "changes pending" or "drift found"), the state belongs to the
//! configuration rather than to the working directory, and `drift` without a state is
//! an error.

use crate::support::{Lz, stderr};

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    let lz = Lz::example();
    for args in [
        &["plan", "--no-such-flag"][..],
        &["no-such-command"],
        &["drift", "--json", "--markdown"],
        &[],
    ] {
        let out = lz.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "landfall {args:?}: {}",
            stderr(&out)
        );
        assert!(!stderr(&out).is_empty(), "landfall {args:?} said nothing");
    }
    for args in [&["--help"][..], &["drift", "--help"], &["--version"]] {
        let out = lz.run(args);
        assert_eq!(out.status.code(), Some(0), "landfall {args:?}");
        assert!(!out.stdout.is_empty(), "landfall {args:?} printed nothing");
    }
}

#[test]
fn the_state_is_found_relative_to_the_configuration_not_the_working_directory() {
    let lz = Lz::example();
    lz.apply_ok();
    let elsewhere = tempfile::tempdir().unwrap();
    let config = lz.path("landfall.toml");
    let config = config.to_str().unwrap();
    for args in [
        &["plan", "-c", config, "--detailed-exitcode"][..],
        &["drift", "-c", config],
    ] {
        let out = lz
            .cmd()
            .current_dir(elsewhere.path())
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "landfall {args:?} from another directory: {}",
            stderr(&out)
        );
    }
    // A directory given to -c is its own base too.
    let out = lz
        .cmd()
        .current_dir(elsewhere.path())
        .args(["plan", "--detailed-exitcode", "-c"])
        .arg(lz.dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        std::fs::read_dir(elsewhere.path())
            .unwrap()
            .next()
            .is_none(),
        "nothing is written where the command ran"
    );
}

#[test]
fn drift_without_a_state_is_an_error_naming_the_path() {
    let lz = Lz::example();
    let out = lz.run(&["drift"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("no state at"), "{err}");
    assert!(err.contains("ml-platform.state.json"), "{err}");
    assert!(out.stdout.is_empty(), "no report on stdout");
}

/// `graph` in each format: DOT labels are the addresses (not Debug-quoted strings),
/// JSON lists nodes with their actions and edges between them; `validate` counts
/// with singular and plural nouns.
#[test]
fn graph_formats_and_validate_counts_read_right() {
    let lz = Lz::example();
    let out = lz.run(&["graph"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let dot = String::from_utf8(out.stdout).unwrap();
    assert!(dot.starts_with("digraph {"), "{dot}");
    assert!(dot.contains("label = \"ou.Workloads\""), "{dot}");
    assert!(
        !dot.contains("\\\""),
        "no escaped quotes inside labels: {dot}"
    );

    let out = lz.run(&["graph", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let graph: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let nodes = graph["nodes"].as_array().unwrap();
    let edges = graph["edges"].as_array().unwrap();
    assert!(nodes.len() > 100 && !edges.is_empty());
    let workloads = nodes
        .iter()
        .find(|n| n["address"] == "ou.Workloads")
        .unwrap();
    assert_eq!(workloads["action"], "create");
    let id = workloads["id"].as_u64().unwrap();
    assert!(
        edges.iter().any(|e| e["from"].as_u64() == Some(id)),
        "something waits for ou.Workloads"
    );

    let out = lz.run(&["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(" OUs, ") && err.contains(" accounts, "),
        "{err}"
    );
    assert!(
        !err.contains("1 portfolios") && err.contains("1 portfolio ("),
        "{err}"
    );
}

/// Every subcommand and every flag `--help` shows is in `docs/commands.md`, so the
/// reference cannot fall behind the binary.
#[test]
fn docs_commands_lists_every_subcommand_and_flag() {
    let docs =
        std::fs::read_to_string(crate::support::repo_root().join("docs/commands.md")).unwrap();
    let lz = Lz::example();
    let help = |path: &[&str]| {
        let mut args: Vec<&str> = path.to_vec();
        args.push("--help");
        let out = lz.run(&args);
        assert_eq!(out.status.code(), Some(0), "{path:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    // Subcommands: the names listed under "Commands:" (help itself aside).
    let subcommands = |text: &str| -> Vec<String> {
        text.lines()
            .skip_while(|l| !l.starts_with("Commands:"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
            .filter_map(|l| l.split_whitespace().next())
            .filter(|c| *c != "help")
            .map(str::to_string)
            .collect()
    };
    let mut missing = Vec::new();
    let mut paths: Vec<Vec<String>> = vec![vec![]];
    let mut i = 0;
    while i < paths.len() {
        let path = paths[i].clone();
        i += 1;
        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
        let text = help(&refs);
        for sub in subcommands(&text) {
            let mut next = path.clone();
            next.push(sub);
            paths.push(next);
        }
        // A subcommand is documented as `landfall a b …`, or (the sim's out-of-band
        // changes) by its own name in its parent's section.
        let named = path.last().is_some_and(|last| {
            docs.contains(&format!("`{last} ")) || docs.contains(&format!("`{last}`"))
        });
        if !path.is_empty() && !docs.contains(&path.join(" ")) && !named {
            missing.push(format!("subcommand `{}`", path.join(" ")));
        }
        for word in text.split(|c: char| c.is_whitespace() || c == ',' || c == '[') {
            let flag = word.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
            if flag.starts_with("--")
                && flag.len() > 2
                && !["--help", "--version"].contains(&flag)
                && !docs.contains(flag)
            {
                missing.push(format!("flag `{flag}`"));
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "not in docs/commands.md: {missing:#?}");
}
