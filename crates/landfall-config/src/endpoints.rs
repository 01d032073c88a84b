//! The VPC endpoint catalog: the services Landfall knows (short name, gateway or
//! interface, full service name, regions without it) and the presets a network can
//! list. Both are data, not code: `data/endpoint-services.toml` and
//! `data/endpoint-presets.toml`, embedded at build time and read on first use. A bad
//! embedded file is caught by this module's tests; at run time it becomes an error
//! diagnostic, never a panic.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use landfall_core::model::EndpointKind;
use serde::Deserialize;

const SERVICES_TOML: &str = include_str!("../data/endpoint-services.toml");
const PRESETS_TOML: &str = include_str!("../data/endpoint-presets.toml");

/// One endpoint service.
#[derive(Debug)]
pub(crate) struct Service {
    pub kind: EndpointKind,
    /// Full service name with `${region}` in it.
    pub service_name: String,
    pub unavailable_in: Vec<String>,
}

impl Service {
    /// The full service name in a region, e.g. `com.amazonaws.us-east-1.sts`.
    pub fn service_name_in(&self, region: &str) -> String {
        self.service_name.replace("${region}", region)
    }
}

#[derive(Debug)]
pub(crate) struct Preset {
    pub services: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct Catalog {
    /// The regions `unavailable_in` is kept for.
    pub regions: Vec<String>,
    pub services: BTreeMap<String, Service>,
    pub presets: BTreeMap<String, Preset>,
}

impl Catalog {
    /// True when the data says the service has no endpoint in the region (only known
    /// for the catalog's `regions`).
    pub fn unavailable(&self, service: &str, region: &str) -> bool {
        self.regions.iter().any(|r| r == region)
            && self
                .services
                .get(service)
                .is_some_and(|s| s.unavailable_in.iter().any(|r| r == region))
    }

    pub fn preset_names(&self) -> Vec<&str> {
        self.presets.keys().map(String::as_str).collect()
    }
}

static CATALOG: LazyLock<Result<Catalog, String>> =
    LazyLock::new(|| parse(SERVICES_TOML, PRESETS_TOML));

/// The embedded catalog, or why it could not be read.
pub(crate) fn catalog() -> Result<&'static Catalog, &'static str> {
    CATALOG.as_ref().map_err(String::as_str)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServicesFile {
    regions: Vec<String>,
    service: BTreeMap<String, ServiceEntry>,
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum KindEntry {
    Gateway,
    #[default]
    Interface,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceEntry {
    #[serde(default)]
    kind: KindEntry,
    #[expect(dead_code, reason = "Documentation for readers of the file")]
    description: Option<String>,
    service_name: Option<String>,
    #[serde(default)]
    unavailable_in: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetEntry {
    #[expect(dead_code, reason = "Documentation for readers of the file")]
    description: Option<String>,
    services: Vec<String>,
}

/// Reads and cross-checks the two files.
fn parse(services_text: &str, presets_text: &str) -> Result<Catalog, String> {
    let services_file: ServicesFile = toml::from_str(services_text)
        .map_err(|e| format!("endpoint-services.toml: {}", e.message()))?;
    let presets_file: BTreeMap<String, PresetEntry> = toml::from_str(presets_text)
        .map_err(|e| format!("endpoint-presets.toml: {}", e.message()))?;
    let regions = services_file.regions;
    let mut services = BTreeMap::new();
    for (name, entry) in services_file.service {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.".contains(c))
        {
            return Err(format!("endpoint-services.toml: bad service name `{name}`"));
        }
        if let Some(r) = entry.unavailable_in.iter().find(|r| !regions.contains(r)) {
            return Err(format!(
                "endpoint-services.toml: `{name}`: `{r}` in `unavailable_in` is not in `regions`"
            ));
        }
        let service_name = entry
            .service_name
            .unwrap_or_else(|| format!("com.amazonaws.${{region}}.{name}"));
        if !service_name.contains("${region}") {
            return Err(format!(
                "endpoint-services.toml: `{name}`: `service_name` has no `${{region}}`"
            ));
        }
        let kind = match entry.kind {
            KindEntry::Gateway => EndpointKind::Gateway,
            KindEntry::Interface => EndpointKind::Interface,
        };
        services.insert(
            name,
            Service {
                kind,
                service_name,
                unavailable_in: entry.unavailable_in,
            },
        );
    }
    let mut presets = BTreeMap::new();
    for (name, entry) in presets_file {
        if services.contains_key(&name) {
            return Err(format!(
                "endpoint-presets.toml: `{name}` is also a service name"
            ));
        }
        if entry.services.is_empty() {
            return Err(format!("endpoint-presets.toml: `{name}` has no services"));
        }
        if let Some(s) = entry.services.iter().find(|s| !services.contains_key(*s)) {
            return Err(format!(
                "endpoint-presets.toml: `{name}` names `{s}`, which is not in endpoint-services.toml"
            ));
        }
        presets.insert(
            name,
            Preset {
                services: entry.services,
            },
        );
    }
    Ok(Catalog {
        regions,
        services,
        presets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedded() -> &'static Catalog {
        match catalog() {
            Ok(c) => c,
            Err(e) => panic!("the embedded endpoint catalog is invalid: {e}"),
        }
    }

    #[test]
    fn the_embedded_files_are_valid() {
        let c = embedded();
        assert!(c.services.len() >= 40, "{} services", c.services.len());
        assert_eq!(c.regions.len(), 16);
        let interface = c
            .services
            .values()
            .filter(|s| s.kind == EndpointKind::Interface)
            .count();
        // The corpus reaches the interface endpoint quota (50) with real services.
        assert!(interface > 50, "{interface} interface services");
    }

    #[test]
    fn s3_and_dynamodb_are_gateways() {
        let c = embedded();
        let gateways: Vec<&str> = c
            .services
            .iter()
            .filter(|(_, s)| s.kind == EndpointKind::Gateway)
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(gateways, vec!["dynamodb", "s3"]);
    }

    #[test]
    fn the_sagemaker_preset_is_the_whitepapers_set() {
        let c = embedded();
        let preset = &c.presets["sagemaker"];
        assert_eq!(preset.services.len(), 14);
        assert_eq!(preset.services[0], "s3");
        for s in [
            "sagemaker.api",
            "ecr.dkr",
            "codeartifact.repositories",
            "sts",
        ] {
            assert!(preset.services.iter().any(|p| p == s), "{s}");
        }
        assert!(c.presets.contains_key("core"));
    }

    #[test]
    fn service_names_follow_the_region() {
        let c = embedded();
        assert_eq!(
            c.services["sagemaker.api"].service_name_in("eu-west-1"),
            "com.amazonaws.eu-west-1.sagemaker.api"
        );
        assert_eq!(
            c.services["sagemaker.notebook"].service_name_in("us-east-1"),
            "aws.sagemaker.us-east-1.notebook"
        );
    }

    #[test]
    fn availability_is_only_known_for_listed_regions() {
        let c = embedded();
        assert!(c.unavailable("codeartifact.api", "sa-east-1"));
        assert!(!c.unavailable("codeartifact.api", "us-east-1"));
        assert!(!c.unavailable("sts", "sa-east-1"));
        assert!(!c.unavailable("codeartifact.api", "af-south-1"));
    }

    #[test]
    fn bad_files_are_errors_not_panics() {
        let ok_services = "regions = [\"us-east-1\"]\n[service.sts]\n";
        assert!(parse(ok_services, "[x]\nservices = [\"sts\"]\n").is_ok());
        assert!(parse("not toml", "").is_err());
        assert!(parse(ok_services, "[x]\nservices = [\"nope\"]\n").is_err());
        assert!(parse(ok_services, "[sts]\nservices = [\"sts\"]\n").is_err());
        assert!(parse(ok_services, "[x]\nservices = []\n").is_err());
        assert!(
            parse(
                "regions = []\n[service.sts]\nunavailable_in = [\"us-east-1\"]\n",
                ""
            )
            .is_err()
        );
        assert!(parse("regions = []\n[service.sts]\nkind = \"other\"\n", "").is_err());
        assert!(parse("regions = []\n[service.\"A b\"]\n", "").is_err());
    }
}
