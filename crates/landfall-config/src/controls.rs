//! The Control Tower control catalogue: the controls Landfall knows by short
//! identifier (behavior, guidance, parameters, API identifier) and the guardrail
//! presets. Data, not code: `data/controls.toml`, embedded at build time and read on
//! first use. A bad embedded file is caught by this module's tests; at run time it
//! becomes an error diagnostic, never a panic.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

const CONTROLS_TOML: &str = include_str!("../data/controls.toml");

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Behavior {
    Preventive,
    Detective,
    Proactive,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Guidance {
    Mandatory,
    StronglyRecommended,
    Elective,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ParamType {
    String,
    StringList,
    Boolean,
}

impl ParamType {
    pub fn describe(self) -> &'static str {
        match self {
            ParamType::String => "a string",
            ParamType::StringList => "a list of strings",
            ParamType::Boolean => "a boolean",
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Param {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ParamType,
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Control {
    pub name: String,
    // Read by this crate's tests only; otherwise documentation for readers of the file.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "documentation in the data file")
    )]
    pub behavior: Behavior,
    pub guidance: Guidance,
    #[serde(default)]
    pub parameters: Vec<Param>,
    /// The API identifier when it is not the regional legacy form; `{region}` and
    /// `{partition}` are replaced.
    pub api_identifier: Option<String>,
    /// No identifier is known offline: declarations must give `arn`.
    #[serde(default)]
    pub needs_arn: bool,
    /// Not changeable through the Control Tower API.
    #[serde(default)]
    pub console_only: bool,
}

impl Control {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// The control identifier sent to the API for a landing zone whose home region is
    /// `region`, when it can be known offline.
    pub fn arn(&self, id: &str, region: &str) -> Option<String> {
        if self.needs_arn {
            return None;
        }
        let partition = partition_of(region);
        Some(match &self.api_identifier {
            Some(template) => template
                .replace("{region}", region)
                .replace("{partition}", partition),
            None => format!("arn:{partition}:controltower:{region}::control/{id}"),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Preset {
    #[expect(dead_code, reason = "Documentation for readers of the file")]
    pub description: String,
    pub controls: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Catalog {
    pub control: BTreeMap<String, Control>,
    pub preset: BTreeMap<String, Preset>,
}

impl Catalog {
    pub fn control_ids(&self) -> impl Iterator<Item = &str> {
        self.control.keys().map(String::as_str)
    }

    pub fn preset_names(&self) -> Vec<&str> {
        self.preset.keys().map(String::as_str).collect()
    }
}

/// The ARN partition of a region: `aws-us-gov` for GovCloud, `aws-cn` for China.
pub(crate) fn partition_of(region: &str) -> &'static str {
    if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("cn-") {
        "aws-cn"
    } else {
        "aws"
    }
}

/// A control ARN as Control Tower accepts it:
/// `arn:PARTITION:controltower:REGION::control/ID` (regional) or
/// `arn:PARTITION:controlcatalog:::control/ID` (global).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ControlArn<'a> {
    /// `Some(region)` for a controltower ARN, `None` for a controlcatalog one.
    pub region: Option<&'a str>,
    pub id: &'a str,
}

/// Parses a control ARN; the reason it is not one otherwise.
pub(crate) fn parse_control_arn(arn: &str) -> Result<ControlArn<'_>, String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
        return Err("a control ARN has six `:`-separated parts".into());
    };
    if *prefix != "arn" || !partition.starts_with("aws") {
        return Err("a control ARN starts with `arn:aws:`".into());
    }
    if !account.is_empty() {
        return Err("a control ARN has no account id (`::control/`)".into());
    }
    let Some(id) = resource.strip_prefix("control/") else {
        return Err("the resource of a control ARN is `control/ID`".into());
    };
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err("a control identifier is letters, digits, `_` and `-`".into());
    }
    match *service {
        "controltower" => {
            if region.is_empty() {
                return Err("a controltower control ARN names its region".into());
            }
            Ok(ControlArn {
                region: Some(region),
                id,
            })
        }
        "controlcatalog" => {
            if !region.is_empty() {
                return Err("a controlcatalog control ARN has no region".into());
            }
            Ok(ControlArn { region: None, id })
        }
        _ => Err("the service of a control ARN is `controltower` or `controlcatalog`".into()),
    }
}

static CATALOG: LazyLock<Result<Catalog, String>> = LazyLock::new(|| parse(CONTROLS_TOML));

/// The embedded catalogue, or why it could not be read.
pub(crate) fn catalog() -> Result<&'static Catalog, &'static str> {
    CATALOG.as_ref().map_err(String::as_str)
}

/// Reads and cross-checks the catalogue.
fn parse(text: &str) -> Result<Catalog, String> {
    let catalog: Catalog =
        toml::from_str(text).map_err(|e| format!("controls.toml: {}", e.message()))?;
    for (id, control) in &catalog.control {
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        {
            return Err(format!("controls.toml: bad control id `{id}`"));
        }
        if control.needs_arn && control.api_identifier.is_some() {
            return Err(format!(
                "controls.toml: `{id}` has both `needs_arn` and `api_identifier`"
            ));
        }
        if control.api_identifier.is_none()
            && !control.needs_arn
            && !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
        {
            return Err(format!(
                "controls.toml: `{id}` cannot be a regional identifier; give `api_identifier` or `needs_arn`"
            ));
        }
    }
    for (name, preset) in &catalog.preset {
        for member in &preset.controls {
            let Some(control) = catalog.control.get(member) else {
                return Err(format!(
                    "controls.toml: preset `{name}` names unknown control `{member}`"
                ));
            };
            if control.guidance == Guidance::Mandatory {
                continue;
            }
            if control.needs_arn
                || control.console_only
                || control.parameters.iter().any(|p| p.required)
            {
                return Err(format!(
                    "controls.toml: preset `{name}` member `{member}` cannot be enabled without settings"
                ));
            }
        }
    }
    Ok(catalog)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalogue_reads() {
        let c = catalog().unwrap();
        assert!(c.control.len() >= 40);
        let root = &c.control["AWS-GR_RESTRICT_ROOT_USER"];
        assert_eq!(root.guidance, Guidance::StronglyRecommended);
        assert_eq!(root.behavior, Behavior::Preventive);
        assert_eq!(
            root.arn("AWS-GR_RESTRICT_ROOT_USER", "us-east-1")
                .as_deref(),
            Some("arn:aws:controltower:us-east-1::control/AWS-GR_RESTRICT_ROOT_USER")
        );
        let deny = &c.control["CT.MULTISERVICE.PV.1"];
        assert!(deny.param("AllowedRegions").unwrap().required);
        assert_eq!(deny.arn("CT.MULTISERVICE.PV.1", "us-east-1"), None);
        assert_eq!(
            c.control["AWS-GR_CONFIG_ENABLED"].guidance,
            Guidance::Mandatory
        );
        assert!(c.preset.contains_key("ml-baseline"));
    }

    #[test]
    fn partitions_follow_the_region() {
        let c = catalog().unwrap();
        let ctl = &c.control["AWS-GR_RESTRICTED_SSH"];
        assert_eq!(
            ctl.arn("AWS-GR_RESTRICTED_SSH", "us-gov-west-1").as_deref(),
            Some("arn:aws-us-gov:controltower:us-gov-west-1::control/AWS-GR_RESTRICTED_SSH")
        );
    }

    #[test]
    fn control_arns_parse() {
        assert_eq!(
            parse_control_arn("arn:aws:controltower:eu-west-1::control/AWS-GR_X"),
            Ok(ControlArn {
                region: Some("eu-west-1"),
                id: "AWS-GR_X"
            })
        );
        assert_eq!(
            parse_control_arn("arn:aws:controlcatalog:::control/k4izcjxhukijhajp6ks5mjxk"),
            Ok(ControlArn {
                region: None,
                id: "k4izcjxhukijhajp6ks5mjxk"
            })
        );
        assert!(parse_control_arn("arn:aws:controltower:::control/X").is_err());
        assert!(parse_control_arn("arn:aws:iam::123:role/x").is_err());
        assert!(parse_control_arn("arn:aws:controlcatalog:::control/a.b").is_err());
    }

    #[test]
    fn bad_catalogues_are_refused() {
        let unknown_member = "[control.A]\nname='a'\nbehavior='detective'\nguidance='elective'\n\
                              [preset.p]\ndescription='d'\ncontrols=['B']\n";
        assert!(
            parse(unknown_member)
                .unwrap_err()
                .contains("unknown control")
        );
        let dotted = "[control.\"A.B\"]\nname='a'\nbehavior='detective'\nguidance='elective'\n\
                      [preset.p]\ndescription='d'\ncontrols=[]\n";
        assert!(parse(dotted).unwrap_err().contains("regional identifier"));
    }
}
