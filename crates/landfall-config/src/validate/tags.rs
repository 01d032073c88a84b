//! Tags of OUs, accounts, SCPs and member resources: count, key and value length,
//! allowed characters, the reserved `aws:` prefix.

use landfall_core::model::Tags;

use crate::diagnostics::Diagnostic;
use crate::raw::RawTags;
use crate::rules;
use crate::sources::SourceId;
use crate::validator::Validator;

impl Validator<'_> {
    pub(crate) fn tags(&mut self, src: SourceId, raw: Option<&RawTags>, owner: &str) -> Tags {
        let Some(raw) = raw else {
            return Tags::new();
        };
        if raw.len() > rules::MAX_TAGS
            && let Some((key, _)) = raw.iter().nth(rules::MAX_TAGS)
        {
            let loc = self.loc(src, key);
            self.push(
                Diagnostic::error(
                    "LF500",
                    format!(
                        "`{owner}` has {} tags; AWS allows {}",
                        raw.len(),
                        rules::MAX_TAGS
                    ),
                )
                .at(&loc, format!("tag number {}", rules::MAX_TAGS + 1))
                .help("remove some tags"),
            );
        }
        let mut out = Tags::new();
        for (key, value) in raw {
            let k = key.get_ref();
            let key_loc = self.loc(src, key);
            let len = k.chars().count();
            if len == 0 || len > rules::MAX_TAG_KEY {
                self.push(
                    Diagnostic::error(
                        "LF501",
                        format!("tag key of `{owner}` is {len} characters long"),
                    )
                    .at(
                        &key_loc,
                        format!("must be 1 to {} characters", rules::MAX_TAG_KEY),
                    ),
                );
            } else if !rules::tag_chars_ok(k) {
                self.push(
                    Diagnostic::error(
                        "LF501",
                        format!("tag key `{k}` of `{owner}` has characters AWS does not allow"),
                    )
                    .at(&key_loc, "invalid characters")
                    .help("tag keys and values use letters, digits, spaces and `_ . : / = + - @`"),
                );
            }
            if k.to_lowercase().starts_with("aws:") {
                self.push(
                    Diagnostic::error(
                        "LF503",
                        format!("tag key `{k}` of `{owner}` uses the reserved `aws:` prefix"),
                    )
                    .at(&key_loc, "reserved for AWS")
                    .help("choose another prefix, e.g. your organization's name"),
                );
            }
            let v = value.get_ref();
            let value_loc = self.loc(src, value);
            let vlen = v.chars().count();
            if vlen > rules::MAX_TAG_VALUE {
                self.push(
                    Diagnostic::error(
                        "LF502",
                        format!("tag `{k}` of `{owner}` has a {vlen}-character value"),
                    )
                    .at(
                        &value_loc,
                        format!("at most {} characters", rules::MAX_TAG_VALUE),
                    ),
                );
            } else if !rules::tag_chars_ok(v) {
                self.push(
                    Diagnostic::error(
                        "LF502",
                        format!("tag `{k}` of `{owner}` has characters AWS does not allow"),
                    )
                    .at(&value_loc, "invalid characters")
                    .help("tag keys and values use letters, digits, spaces and `_ . : / = + - @`"),
                );
            }
            out.insert(k.clone(), v.clone());
        }
        out
    }
}
