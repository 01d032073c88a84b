//! CLI errors: a message and a hint, printed on stderr; the exit code is always 1.

use std::fmt::Display;

#[derive(Debug)]
pub enum CliError {
    /// Diagnostics were already printed (e.g. by validation).
    Reported,
    Message {
        message: String,
        hint: Option<String>,
    },
}

impl CliError {
    pub fn new(message: impl Display) -> Self {
        CliError::Message {
            message: message.to_string(),
            hint: None,
        }
    }

    pub fn with_hint(message: impl Display, hint: impl Display) -> Self {
        CliError::Message {
            message: message.to_string(),
            hint: Some(hint.to_string()),
        }
    }

    pub fn print(&self) {
        if let CliError::Message { message, hint } = self {
            eprintln!("{} {message}", console::style("error:").red().bold());
            if let Some(hint) = hint {
                eprintln!("  {} {hint}", console::style("hint:").cyan());
            }
        }
    }
}

impl From<landfall_engine::state_store::StateError> for CliError {
    fn from(e: landfall_engine::state_store::StateError) -> Self {
        let hint = e.hint();
        CliError::Message {
            message: e.to_string(),
            hint,
        }
    }
}

pub type CliResult<T> = Result<T, CliError>;
