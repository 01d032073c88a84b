//! The `landfall` binary: parses arguments, dispatches to a command, maps the outcome to
//! the stable exit codes (0 success, 1 error, 2 changes pending / drift found). The
//! only crate that knows the terminal.

mod cli;
mod commands;
mod context;
mod error;
mod progress;
mod render;
mod session;
mod stdout;

use std::process::ExitCode;

use clap::Parser;

use cli::{BenchCommand, Cli, Command};
use error::CliResult;

fn init_logging(verbose: u8) {
    // The SDK's credential chain logs every provider it tries; that is noise unless asked.
    let default = match verbose {
        0 => "warn,aws_config=error",
        1 => "info,aws_config=error",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("LANDFALL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(console::colors_enabled_stderr())
        .with_target(false)
        .without_time()
        .try_init();
}

async fn run(cli: Cli) -> CliResult<u8> {
    let g = &cli.global;
    match &cli.command {
        Command::Validate(args) => commands::inspect::validate(g, args),
        Command::Plan(args) => commands::plan::plan(g, args).await,
        Command::Apply(args) => commands::plan::apply(g, args).await,
        Command::Show(args) => commands::show::show(args),
        Command::Drift(args) => commands::drift::drift(g, args).await,
        Command::Graph(args) => commands::inspect::graph(g, args),
        Command::Explain(args) => commands::guard::explain(g, args).await,
        Command::Import(args) => commands::import::import(g, args).await,
        Command::State(cmd) => commands::state::state(g, cmd).await,
        Command::ForceUnlock { lock_id } => commands::state::force_unlock(g, lock_id).await,
        Command::Schema => commands::inspect::schema(),
        Command::Sim(cmd) => commands::sim::sim(g, cmd).await,
        Command::Bench(BenchCommand::Plan {
            accounts,
            runs,
            keep,
        }) => commands::bench::plan(accounts, *runs, keep.as_ref()).await,
        Command::Project(cmd) => commands::project::project(g, cmd),
        Command::Bench(BenchCommand::Explain {
            accounts,
            requests,
            runs,
        }) => commands::bench::explain(*accounts, *requests, *runs),
        Command::Bench(BenchCommand::Drift { accounts, runs }) => {
            commands::bench::drift(accounts, *runs).await
        }
        Command::Bench(BenchCommand::Apply(args)) => commands::bench_model::apply(
            commands::bench_model::ModelBench::from_args(args, &["example", "100", "1000"])?,
        ),
        Command::Bench(BenchCommand::Refresh(args)) => commands::bench_model::refresh(
            commands::bench_model::ModelBench::from_args(args, &["1000"])?,
        ),
    }
}

fn main() -> ExitCode {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        console::set_colors_enabled(false);
        console::set_colors_enabled_stderr(false);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and --version go to stdout and succeed. A usage error (unknown flag or
        // subcommand, conflicting flags) is exit 1 like every other error: clap's own
        // exit 2 would read as "changes pending" or "drift found" to a script or cron job.
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => commands::exit(code),
        Err(e) => {
            e.print();
            ExitCode::from(1)
        }
    }
}
