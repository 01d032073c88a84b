//! `[state]`: where the state lives — a local file (the default) or an S3 object —
//! checked: the keys each backend takes, a bucket name S3 accepts, a key that is not a
//! prefix.

use std::path::PathBuf;

use landfall_core::model::S3State;
use serde_spanned::Spanned;

use crate::diagnostics::Diagnostic;
use crate::raw::RawState;
use crate::sources::SourceId;
use crate::validator::Validator;

/// A `[state]` table, validated.
pub(super) enum StateSetting {
    /// A local file (`path`, when given).
    Local(Option<PathBuf>),
    S3(S3State),
}

impl Validator<'_> {
    pub(super) fn state(
        &mut self,
        src: SourceId,
        raw: &RawState,
        lz_state_path: bool,
    ) -> StateSetting {
        let text = |v: &Option<Spanned<String>>| v.as_ref().map(|v| v.get_ref().clone());
        let backend = raw
            .backend
            .as_ref()
            .map(|b| b.get_ref().as_str())
            .unwrap_or("local");
        match backend {
            "local" => {
                for (key, value) in [
                    ("bucket", &raw.bucket),
                    ("key", &raw.key),
                    ("region", &raw.region),
                    ("kms_key_id", &raw.kms_key_id),
                    ("profile", &raw.profile),
                    ("role_arn", &raw.role_arn),
                ] {
                    if let Some(v) = value {
                        let loc = self.loc(src, v);
                        self.push(
                            Diagnostic::error("LF214", format!("`{key}` is a setting of S3 state"))
                                .at(&loc, "the state is local")
                                .help("set `backend = \"s3\"` to keep the state in S3, or remove the key"),
                        );
                    }
                }
                if let Some(path) = &raw.path {
                    let loc = self.loc(src, path);
                    if path.get_ref().trim().is_empty() {
                        self.push(
                            Diagnostic::error("LF214", "`path` is empty")
                                .at(&loc, "empty path")
                                .help("remove `path` to use `state/<name>.state.json`"),
                        );
                    } else if lz_state_path {
                        self.push(
                            Diagnostic::error("LF214", "the state file is set twice")
                                .at(&loc, "here, and as `state_path` in [landing_zone]")
                                .help(
                                    "keep one: `[state] path` (`state_path` is its older spelling)",
                                ),
                        );
                    }
                }
                StateSetting::Local(text(&raw.path).map(PathBuf::from))
            }
            "s3" => {
                if let Some(path) = &raw.path {
                    let loc = self.loc(src, path);
                    self.push(
                        Diagnostic::error("LF214", "`path` is a setting of local state")
                            .at(&loc, "the state is in S3")
                            .help("name the object with `bucket` and `key`"),
                    );
                }
                let bucket = self.required_state_key(src, raw, &raw.bucket, "bucket");
                if let (Some(name), Some(v)) = (&bucket, &raw.bucket)
                    && let Some(problem) = crate::rules::bucket_problem(name)
                {
                    let loc = self.loc(src, v);
                    self.push(
                        Diagnostic::error(
                            "LF214",
                            format!("`{name}` is not a valid S3 bucket name"),
                        )
                        .at(&loc, problem)
                        .help(
                            "S3 bucket names are 3-63 lowercase letters, digits, dots and hyphens",
                        ),
                    );
                }
                let key = self.required_state_key(src, raw, &raw.key, "key");
                if let (Some(k), Some(v)) = (&key, &raw.key)
                    && (k.ends_with('/') || k.starts_with('/'))
                {
                    let loc = self.loc(src, v);
                    self.push(
                        Diagnostic::error(
                            "LF214",
                            format!("state key `{k}` starts or ends with `/`"),
                        )
                        .at(&loc, "the key names one object")
                        .help("e.g. `key = \"landing-zones/ml-platform.state.json\"`"),
                    );
                }
                if let Some(v) = &raw.region {
                    self.region(src, v);
                }
                StateSetting::S3(S3State {
                    bucket: bucket.unwrap_or_default(),
                    key: key.unwrap_or_default(),
                    region: text(&raw.region),
                    kms_key_id: text(&raw.kms_key_id),
                    profile: text(&raw.profile),
                    role_arn: text(&raw.role_arn),
                })
            }
            other => {
                if let Some(v) = &raw.backend {
                    let loc = self.loc(src, v);
                    self.push(
                        Diagnostic::error("LF102", format!("unknown state backend `{other}`"))
                            .at(&loc, "expected `local` or `s3`")
                            .help("`backend = \"s3\"` keeps the state in an S3 bucket; `local` (the default) in a file"),
                    );
                }
                StateSetting::Local(None)
            }
        }
    }

    fn required_state_key(
        &mut self,
        src: SourceId,
        raw: &RawState,
        value: &Option<Spanned<String>>,
        key: &str,
    ) -> Option<String> {
        match value {
            Some(v) if !v.get_ref().trim().is_empty() => Some(v.get_ref().clone()),
            Some(v) => {
                let loc = self.loc(src, v);
                self.push(
                    Diagnostic::error("LF214", format!("`{key}` is empty"))
                        .at(&loc, "empty")
                        .help("S3 state needs a `bucket` and a `key`"),
                );
                None
            }
            None => {
                let at = raw.backend.as_ref().map(|b| self.loc(src, b));
                let mut d = Diagnostic::error("LF103", format!("S3 state needs `{key}`"));
                if let Some(loc) = at {
                    d = d.at(&loc, "backend = \"s3\" here");
                }
                self.push(d.help(
                    "e.g. bucket = \"acme-landfall-state\", key = \"ml-platform.state.json\"",
                ));
                None
            }
        }
    }
}
