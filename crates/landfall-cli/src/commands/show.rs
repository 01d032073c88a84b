//! `landfall show PLANFILE`: a plan saved with `landfall plan --out`, rendered for a
//! person (as `plan` prints it), as JSON (as `plan --json` prints it) or as Markdown for
//! a pull-request comment. Reads the file only: no backend, no state, no configuration.

use crate::cli::ShowArgs;
use crate::error::{CliError, CliResult};
use crate::render;
use crate::stdout;

use super::SUCCESS;

pub fn show(args: &ShowArgs) -> CliResult<u8> {
    // The same checks as `apply FILE`: a plan format this Landfall reads, and a digest
    // that matches (a reviewer must see what would be applied).
    let plan = super::plan::read_plan(&args.plan_file)?;
    let text = if args.json {
        render::plan_json(&plan).map_err(CliError::new)?
    } else if args.markdown {
        render::plan_markdown(&plan)
    } else {
        render::plan_human(&plan, console::colors_enabled())
    };
    stdout::print(&text)?;
    Ok(SUCCESS)
}
