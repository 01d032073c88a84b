//! `[network.NAME]`: a VPC in a member account and region, its private subnets and
//! its VPC endpoints (presets expanded through the endpoint catalog). Also the checks
//! every member-account resource shares: the account is declared and the region is
//! governed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ipnet::Ipv4Net;
use landfall_core::model::{EndpointKind, EndpointSpec, NetworkSpec, SubnetSpec};
use serde_spanned::Spanned;

use crate::diagnostics::Diagnostic;
use crate::endpoints::{self, Catalog};
use crate::parse::{Decl, toml_key};
use crate::policy_doc;
use crate::raw::{RawEndpoint, RawNetwork};
use crate::rules::{self, CidrProblem};
use crate::sources::{Loc, SourceId};
use crate::suggest::{did_you_mean, one_of};
use crate::validate::{PolicySource, Settings};
use crate::validator::{Merged, Validator};

/// An endpoint a network asks for, and where it asked.
struct Wanted {
    service: String,
    at: Loc,
    /// The preset it came from, when it did.
    preset: Option<String>,
}

/// Codes of the checks member-account resources share.
pub(crate) struct MemberCodes {
    pub unknown_account: &'static str,
    pub region_not_governed: &'static str,
}

impl Validator<'_> {
    pub(crate) fn networks(
        &mut self,
        decls: &Merged<'_, RawNetwork>,
        accounts: &BTreeSet<String>,
        settings: &Settings,
    ) -> BTreeMap<String, NetworkSpec> {
        let mut out = BTreeMap::new();
        let mut vpcs: Vec<(String, Ipv4Net, Loc)> = Vec::new();
        let codes = MemberCodes {
            unknown_account: "LF608",
            region_not_governed: "LF609",
        };
        for decl in &decls.first {
            let name = &decl.name;
            if let Some(problem) = rules::resource_name_problem(name) {
                self.push(
                    Diagnostic::error("LF600", format!("invalid network name `{name}`"))
                        .at(&decl.key, problem)
                        .help(
                            "network names are lowercase letters, digits and `-` (no dots: \
                             endpoints are addressed `endpoint.NAME.SERVICE`), e.g. \
                             [network.ml-fraud-dev-use1]",
                        ),
                );
            }
            let Some(raw) = &decl.body else { continue };
            let src = decl.key.source;
            let what = format!("network `{name}`");
            self.member_account(src, &raw.account, accounts, &what, &codes);
            let region_ok = self.member_region(src, &raw.region, settings, &what, &codes);
            let vpc = self.cidr_block(src, &raw.cidr, &format!("the VPC of {what}"));
            if let Some(vpc) = vpc {
                vpcs.push((name.clone(), vpc, self.loc(src, &raw.cidr)));
            }
            let subnets = self.subnets(src, raw, name, vpc, region_ok);
            let tags = self.tags(src, raw.tags.as_ref(), &format!("network.{name}"));
            let endpoints = self.endpoints(decl, raw, settings, region_ok);
            out.insert(
                name.clone(),
                NetworkSpec {
                    name: name.clone(),
                    account: raw.account.get_ref().clone(),
                    region: raw.region.get_ref().clone(),
                    cidr: vpc
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| raw.cidr.get_ref().clone()),
                    tags,
                    subnets,
                    endpoints,
                    origin: self.origin(&decl.key),
                    project: None,
                },
            );
        }
        self.overlapping_vpcs(&vpcs);
        out
    }

    /// The account of a member-account resource must be declared.
    pub(crate) fn member_account(
        &mut self,
        src: SourceId,
        account: &Spanned<String>,
        accounts: &BTreeSet<String>,
        what: &str,
        codes: &MemberCodes,
    ) {
        let name = account.get_ref();
        if accounts.contains(name) {
            return;
        }
        let loc = self.loc(src, account);
        let unprefixed = name
            .strip_prefix("account.")
            .or_else(|| name.strip_prefix("account:"))
            .filter(|a| accounts.contains(*a));
        let mut d = Diagnostic::error(
            codes.unknown_account,
            format!("{what} is in account `{name}`, which is not declared"),
        )
        .at(&loc, "no such account");
        d = match unprefixed {
            Some(a) => d.help(format!("write the account name alone: `account = \"{a}\"`")),
            None => d
                .maybe_help(did_you_mean(name, accounts.iter().map(String::as_str)))
                .help(format!("declare it with [account.{}]", toml_key(name))),
        };
        self.push(d);
    }

    /// The region of a member-account resource must be well-formed and governed; true
    /// when it is well-formed.
    pub(crate) fn member_region(
        &mut self,
        src: SourceId,
        region: &Spanned<String>,
        settings: &Settings,
        what: &str,
        codes: &MemberCodes,
    ) -> bool {
        if !self.region(src, region) {
            return false;
        }
        let r = region.get_ref();
        if let Some(governed) = &settings.governed
            && !governed.contains(r)
        {
            let list: Vec<&str> = governed.iter().map(String::as_str).collect();
            let loc = self.loc(src, region);
            self.push(
                Diagnostic::error(
                    codes.region_not_governed,
                    format!("{what} is in region `{r}`, which the landing zone does not govern"),
                )
                .at(&loc, "not in `governed_regions`")
                .maybe_help(did_you_mean(r, list.iter().copied()))
                .help(format!(
                    "the governed regions are {}; add \"{r}\" to `governed_regions` in \
                     [landing_zone] to use it",
                    one_of(&list)
                )),
            );
        }
        true
    }

    /// Parses a CIDR block (VPC or subnet); the block when it is usable.
    fn cidr_block(&mut self, src: SourceId, cidr: &Spanned<String>, what: &str) -> Option<Ipv4Net> {
        let text = cidr.get_ref();
        let loc = self.loc(src, cidr);
        let net = match rules::parse_cidr(text) {
            Ok(net) => net,
            Err(CidrProblem::Malformed(reason)) => {
                self.push(
                    Diagnostic::error("LF601", format!("invalid CIDR block `{text}` for {what}"))
                        .at(&loc, reason)
                        .help("write an IPv4 block with its prefix length, e.g. `10.20.0.0/16`"),
                );
                return None;
            }
            Err(CidrProblem::HostBits(network)) => {
                self.push(
                    Diagnostic::error(
                        "LF602",
                        format!("`{text}` ({what}) is not a network address"),
                    )
                    .at(&loc, "host bits are set")
                    .help(format!(
                        "the address of a /{} block ends in zero bits: did you mean `{network}`?",
                        network.prefix_len()
                    )),
                );
                return None;
            }
        };
        let prefix = net.prefix_len();
        if !(rules::MIN_PREFIX..=rules::MAX_PREFIX).contains(&prefix) {
            self.push(
                Diagnostic::error(
                    "LF603",
                    format!(
                        "{what} is a /{prefix}; AWS allows /{} to /{}",
                        rules::MIN_PREFIX,
                        rules::MAX_PREFIX
                    ),
                )
                .at(&loc, format!("a /{prefix} block"))
                .help(
                    "VPC and subnet blocks are /16 (65,536 addresses) down to /28 (16 \
                     addresses, 11 usable)",
                ),
            );
            return None;
        }
        Some(net)
    }

    fn subnets(
        &mut self,
        src: SourceId,
        raw: &RawNetwork,
        name: &str,
        vpc: Option<Ipv4Net>,
        region_ok: bool,
    ) -> Vec<SubnetSpec> {
        let region = raw.region.get_ref();
        let list = raw.subnets.get_ref();
        if list.is_empty() {
            let loc = self.loc(src, &raw.subnets);
            let example = if region_ok {
                region.as_str()
            } else {
                "us-east-1"
            };
            self.push(
                Diagnostic::error("LF607", format!("network `{name}` has no subnets"))
                    .at(&loc, "empty")
                    .help(format!(
                        "interface endpoints live in subnets: add at least one, e.g. \
                         `subnets = [{{ az = \"{example}a\", cidr = \"10.20.1.0/24\" }}]`"
                    )),
            );
        }
        let mut out = Vec::new();
        let mut placed: Vec<(Ipv4Net, Loc)> = Vec::new();
        for subnet in list {
            let az = subnet.az.get_ref();
            if region_ok && let Some(problem) = rules::az_problem(az, region) {
                let loc = self.loc(src, &subnet.az);
                self.push(
                    Diagnostic::error(
                        "LF606",
                        format!(
                            "availability zone `{az}` of network `{name}` is not in its region `{region}`"
                        ),
                    )
                    .at(&loc, problem)
                    .help(format!(
                        "availability zone names are the region and a letter: `{region}a`, \
                         `{region}b`, ..."
                    )),
                );
            }
            let text = subnet.cidr.get_ref();
            let what = format!("subnet `{text}` of network `{name}`");
            let Some(net) = self.cidr_block(src, &subnet.cidr, &what) else {
                out.push(SubnetSpec {
                    az: az.clone(),
                    cidr: text.clone(),
                });
                continue;
            };
            let loc = self.loc(src, &subnet.cidr);
            if let Some(vpc) = vpc
                && !vpc.contains(&net)
            {
                let vpc_loc = self.loc(src, &raw.cidr);
                self.push(
                    Diagnostic::error(
                        "LF604",
                        format!("subnet `{net}` is outside the VPC `{vpc}` of network `{name}`"),
                    )
                    .at(&loc, format!("not inside {vpc}"))
                    .at(&vpc_loc, "the VPC's block")
                    .help(format!(
                        "subnets take their addresses from the VPC's block: choose one inside \
                         `{vpc}`"
                    )),
                );
            } else if let Some((other, other_loc)) =
                placed.iter().find(|(p, _)| rules::cidrs_overlap(p, &net))
            {
                self.push(
                    Diagnostic::error(
                        "LF605",
                        format!("subnets `{other}` and `{net}` of network `{name}` overlap"),
                    )
                    .at(&loc, format!("overlaps {other}"))
                    .at(other_loc, format!("overlaps {net}"))
                    .help(
                        "the subnets of a VPC need distinct address ranges (two subnets may \
                         share an availability zone)",
                    ),
                );
            } else {
                placed.push((net, loc));
            }
            out.push(SubnetSpec {
                az: az.clone(),
                cidr: net.to_string(),
            });
        }
        out
    }

    /// Warns about networks whose VPC blocks overlap.
    fn overlapping_vpcs(&mut self, vpcs: &[(String, Ipv4Net, Loc)]) {
        for (i, (b_name, b, b_loc)) in vpcs.iter().enumerate() {
            for (a_name, a, a_loc) in &vpcs[..i] {
                if !rules::cidrs_overlap(a, b) {
                    continue;
                }
                self.push(
                    Diagnostic::warning(
                        "LF904",
                        format!(
                            "the VPC blocks of networks `{a_name}` ({a}) and `{b_name}` ({b}) overlap"
                        ),
                    )
                    .at(b_loc, format!("overlaps network `{a_name}`"))
                    .at(a_loc, format!("network `{a_name}`"))
                    .help(
                        "fine for isolated VPCs, but accounts routed together (e.g. through a \
                         Transit Gateway or VPC peering) need distinct ranges: give each \
                         network its own block",
                    ),
                );
            }
        }
    }

    // ----- endpoints ----------------------------------------------------------------

    fn endpoints(
        &mut self,
        decl: &Decl<RawNetwork>,
        raw: &RawNetwork,
        settings: &Settings,
        region_ok: bool,
    ) -> BTreeMap<String, EndpointSpec> {
        let mut out = BTreeMap::new();
        let src = decl.key.source;
        let name = &decl.name;
        let tables: Vec<(&Spanned<String>, &RawEndpoint)> =
            raw.endpoint.iter().flat_map(|m| m.iter()).collect();
        let listed = raw.endpoints.as_ref().map(|l| l.get_ref().as_slice());
        if listed.is_none_or(<[_]>::is_empty) && tables.is_empty() {
            return out;
        }
        let catalog = match endpoints::catalog() {
            Ok(c) => c,
            Err(e) => {
                self.push(
                    Diagnostic::error(
                        "LF610",
                        format!("the embedded endpoint catalog is invalid: {e}"),
                    )
                    .at(&decl.key, "its endpoints cannot be checked")
                    .help("this is a bug in Landfall: please report it"),
                );
                return out;
            }
        };
        let region = raw.region.get_ref();
        let owner = format!("network `{name}`");
        let rules = policy_doc::Rules {
            invalid: "LF613",
            too_large: "LF614",
            max: settings.quotas.endpoint_policy_max_chars,
            bytes: false,
            quota: "endpoint_policy_max_chars",
            file_missing: "LF617",
        };
        let default_policy = match self.policy_choice(
            src,
            &raw.endpoint_policy,
            &raw.endpoint_policy_file,
            ("endpoint_policy", "endpoint_policy_file"),
            &owner,
            "LF615",
        ) {
            Some(source) => self
                .resource_policy(src, source, &owner, "endpoint policy", &rules, region)
                .map(|c| c.minified),
            None => None,
        };

        let wanted = self.wanted_endpoints(src, name, listed.unwrap_or_default(), &tables, catalog);
        let max = settings.quotas.interface_endpoints_per_vpc;
        let mut interface = 0;
        let mut over: Option<&Wanted> = None;
        for w in &wanted {
            let Some(service) = catalog.services.get(&w.service) else {
                continue;
            };
            if region_ok && catalog.unavailable(&w.service, region) {
                self.unavailable(w, name, region);
            }
            let table = tables
                .iter()
                .find(|(k, _)| *k.get_ref() == w.service)
                .map(|(_, t)| *t);
            let private_dns = match service.kind {
                EndpointKind::Gateway => {
                    if let Some(dns) = table.and_then(|t| t.private_dns.as_ref())
                        && *dns.get_ref()
                    {
                        let loc = self.loc(src, dns);
                        self.push(
                            Diagnostic::error(
                                "LF616",
                                format!(
                                    "`{}` is a gateway endpoint: it has no private DNS",
                                    w.service
                                ),
                            )
                            .at(&loc, "only interface endpoints have private DNS")
                            .help(format!(
                                "remove `private_dns` from [network.{}.endpoint.{}] (a gateway \
                                 endpoint is a route in the route table, with no DNS names)",
                                toml_key(name),
                                toml_key(&w.service)
                            )),
                        );
                    }
                    false
                }
                EndpointKind::Interface => {
                    interface += 1;
                    if interface == max + 1 {
                        over = Some(w);
                    }
                    table
                        .and_then(|t| t.private_dns.as_ref())
                        .or(raw.private_dns.as_ref())
                        .is_none_or(|d| *d.get_ref())
                }
            };
            let own = table.and_then(|t| {
                let endpoint_owner = format!("endpoint `{}` of network `{name}`", w.service);
                self.policy_choice(
                    src,
                    &t.policy,
                    &t.policy_file,
                    ("policy", "policy_file"),
                    &endpoint_owner,
                    "LF615",
                )
                .map(|source| (source, endpoint_owner))
            });
            let policy = match own {
                Some((source, owner)) => self
                    .resource_policy(src, source, &owner, "policy", &rules, region)
                    .map(|c| c.minified),
                None => default_policy.clone(),
            };
            out.insert(
                w.service.clone(),
                EndpointSpec {
                    service: w.service.clone(),
                    service_name: service.service_name_in(region),
                    kind: service.kind,
                    private_dns,
                    policy,
                },
            );
        }
        if let Some(w) = over {
            self.push(
                Diagnostic::error(
                    "LF612",
                    format!(
                        "network `{name}` would have {interface} interface endpoints; the limit \
                         is {max}"
                    ),
                )
                .at(&w.at, format!("interface endpoint number {}", max + 1))
                .help(format!(
                    "AWS allows {max} interface endpoints per VPC (`interface_endpoints_per_vpc` \
                     in [landing_zone.quotas]); drop some, or split the workloads across \
                     networks. Gateway endpoints (s3, dynamodb) do not count"
                )),
            );
        }
        out
    }

    /// The endpoints a network asks for, in order, each once: presets expanded, then
    /// the services only named by a per-endpoint table. Reports unknown names.
    fn wanted_endpoints(
        &mut self,
        src: SourceId,
        name: &str,
        listed: &[Spanned<String>],
        tables: &[(&Spanned<String>, &RawEndpoint)],
        catalog: &Catalog,
    ) -> Vec<Wanted> {
        let mut wanted: Vec<Wanted> = Vec::new();
        let add = |wanted: &mut Vec<Wanted>, service: &str, at: &Loc, preset: Option<&str>| {
            if !wanted.iter().any(|w| w.service == service) {
                wanted.push(Wanted {
                    service: service.to_string(),
                    at: at.clone(),
                    preset: preset.map(str::to_string),
                });
            }
        };
        let mut seen: HashMap<&str, Loc> = HashMap::new();
        for item in listed {
            let text = item.get_ref().as_str();
            let loc = self.loc(src, item);
            if let Some(first) = seen.get(text) {
                self.push(
                    Diagnostic::warning(
                        "LF905",
                        format!("`{text}` is listed twice in the endpoints of network `{name}`"),
                    )
                    .at(&loc, "listed again here")
                    .at(first, "first listed here")
                    .help("remove one of them"),
                );
                continue;
            }
            seen.insert(text, loc.clone());
            if let Some(preset) = catalog.presets.get(text) {
                for service in &preset.services {
                    add(&mut wanted, service, &loc, Some(text));
                }
            } else if catalog.services.contains_key(text) {
                add(&mut wanted, text, &loc, None);
            } else {
                self.unknown_endpoint(&loc, text, name, catalog, false);
            }
        }
        for (key, _) in tables {
            let text = key.get_ref().as_str();
            let loc = self.loc(src, key);
            if catalog.services.contains_key(text) {
                add(&mut wanted, text, &loc, None);
            } else {
                self.unknown_endpoint(&loc, text, name, catalog, true);
            }
        }
        wanted
    }

    fn unknown_endpoint(
        &mut self,
        loc: &Loc,
        text: &str,
        network: &str,
        catalog: &Catalog,
        table: bool,
    ) {
        let presets = catalog.preset_names();
        if table && catalog.presets.contains_key(text) {
            self.push(
                Diagnostic::error(
                    "LF610",
                    format!("`{text}` is an endpoint preset, not a service (network `{network}`)"),
                )
                .at(loc, "a preset")
                .help(format!(
                    "a [network.{}.endpoint.\"SERVICE\"] table sets one service's endpoint; \
                     list the preset in `endpoints` and give each service that needs its own \
                     settings a table",
                    toml_key(network)
                )),
            );
            return;
        }
        let mut d = Diagnostic::error(
            "LF610",
            format!("unknown endpoint service or preset `{text}` in network `{network}`"),
        )
        .at(loc, "not a known service or preset");
        // `com.amazonaws.us-east-1.sts` -> `sts`
        let short = text
            .strip_prefix("com.amazonaws.")
            .and_then(|rest| rest.split_once('.'))
            .map(|(_, service)| service)
            .filter(|s| catalog.services.contains_key(*s));
        d = match short {
            Some(s) => d.help(format!("write the short service name: `{s}`")),
            None => d.maybe_help(did_you_mean(
                text,
                catalog
                    .services
                    .keys()
                    .map(String::as_str)
                    .chain(presets.iter().copied()),
            )),
        };
        self.push(d.help(format!(
            "the presets are {}; services are short names like `sts` or `sagemaker.api` \
             (the known ones are listed in docs/configuration.md)",
            one_of(&presets)
        )));
    }

    fn unavailable(&mut self, w: &Wanted, network: &str, region: &str) {
        let service = &w.service;
        let (label, help) = match &w.preset {
            Some(preset) => (
                format!("preset `{preset}` includes `{service}`"),
                format!(
                    "list the services of `{preset}` you need instead of the preset, or put the \
                     network in a region that has `{service}`"
                ),
            ),
            None => (
                format!("not available in {region}"),
                format!("remove it, or put the network in a region that has `{service}`"),
            ),
        };
        self.push(
            Diagnostic::error(
                "LF611",
                format!("`{service}` has no VPC endpoint in `{region}` (network `{network}`)"),
            )
            .at(&w.at, label)
            .help(help),
        );
    }

    /// Inline document or file: at most one of the two keys. `None` when neither is
    /// given, or both (reported).
    pub(crate) fn policy_choice<'r>(
        &mut self,
        src: SourceId,
        inline: &'r Option<Spanned<String>>,
        file: &'r Option<Spanned<String>>,
        keys: (&str, &str),
        owner: &str,
        code: &'static str,
    ) -> Option<PolicySource<'r>> {
        match (inline, file) {
            (Some(i), Some(f)) => {
                let (inline_loc, file_loc) = (self.loc(src, i), self.loc(src, f));
                self.push(
                    Diagnostic::error(
                        code,
                        format!("{owner} has both `{}` and `{}`", keys.0, keys.1),
                    )
                    .at(&file_loc, "a file here")
                    .at(&inline_loc, "and an inline document here")
                    .help("keep one of them"),
                );
                None
            }
            (Some(i), None) => Some(PolicySource::Inline(i)),
            (None, Some(f)) => Some(PolicySource::File(f)),
            (None, None) => None,
        }
    }
}
