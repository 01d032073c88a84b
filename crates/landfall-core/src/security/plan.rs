//! Planning the security family: each declared resource matched to a live one (by the
//! state's id while it exists, else by its natural key: a service principal, a
//! delegated account, a bucket or trail by name in its account and region) and
//! created, adopted or updated; what is no longer declared removed or forgotten.

use serde_json::Value;

use crate::address::Address;
use crate::attrs::{AttrDiff, Attrs, diff_attrs};
use crate::kind::SecurityKind;
use crate::model::{DesiredState, substitute};
use crate::plan::{Action, Change, KeyRef, MemberRef, Op, Record, Ref, SecurityOp, TrailSettings};
use crate::planner::Planner;

use super::attrs::{
    ORGANIZATION_ANALYZER, analyzer_attrs, bucket_attrs, declared_attrs, live_aggregator_attrs,
    trail_attrs,
};
use super::delegated_by_own_call;

impl Planner<'_> {
    pub(crate) fn plan_security(&mut self) {
        self.plan_service_access();
        self.plan_delegated_admins();
        self.plan_buckets();
        self.plan_trails();
        self.plan_aggregators();
        self.plan_analyzers();
        self.plan_security_removals();
    }

    /// The account a declared account name resolves to (by reference when the plan
    /// creates it).
    fn account_ref(&self, name: &str) -> Ref {
        self.reference(Address::Account(name.to_string()))
    }

    fn account_id_now(&self, name: &str) -> Option<String> {
        self.existing
            .get(&Address::Account(name.to_string()))
            .cloned()
    }

    fn scope_of(&self, account: Option<&str>, region: &str) -> MemberRef {
        MemberRef {
            account: match account {
                Some(name) => self.account_ref(name),
                None => Ref::Id(self.live.management_account_id.clone()),
            },
            region: region.to_string(),
        }
    }

    fn security_change(
        &mut self,
        address: Address,
        (action, reason): (Action, String),
        id: Option<String>,
        ops: Vec<Op>,
        (diffs, attributes): (Vec<AttrDiff>, Attrs),
        member: Option<MemberRef>,
    ) {
        let created = match (&id, self.state.resources.get(&address)) {
            (_, Some(r)) => r.created,
            (None, None) => true,
            (Some(_), None) => self.created_flag(&address),
        };
        self.changes.push(Change {
            address,
            action,
            reason,
            diffs,
            id,
            member,
            project: None,
            ops,
            record: Record::Upsert {
                created,
                attributes,
            },
            depends_on: vec![],
        });
    }

    /// A creation: `reason` or why it does not exist (gone since it was recorded, or
    /// never made).
    fn create_security(
        &mut self,
        address: Address,
        reason: Option<String>,
        ops: Vec<Op>,
        attributes: Attrs,
        member: Option<MemberRef>,
    ) {
        let reason = reason.unwrap_or_else(|| self.created_reason(&address));
        let diffs = diff_attrs(&Attrs::new(), &attributes, &[]);
        self.security_change(
            address,
            (Action::Create, reason),
            None,
            ops,
            (diffs, attributes),
            member,
        );
    }

    /// The change for an existing resource: adopt when the state does not know it,
    /// `ops` when they are not empty, a record refresh when only attributes moved.
    fn existing_security_change(
        &mut self,
        address: Address,
        id: String,
        (diffs, attributes): (Vec<AttrDiff>, Attrs),
        ops: Vec<Op>,
        member: Option<MemberRef>,
    ) {
        let known = self.in_state(&address, &id);
        let recorded = self.state.resources.get(&address).map(|r| &r.attributes);
        let (action, reason) = if !known {
            let reason = if self.state.pending_creates.contains(&address) {
                "created by an interrupted apply; recording it".to_string()
            } else {
                format!("exists live as {id}; Landfall will manage it")
            };
            (Action::Adopt, reason)
        } else if ops.is_empty() {
            if recorded == Some(&attributes) {
                return;
            }
            (Action::Update, "record the current attributes".to_string())
        } else if recorded.is_some_and(|r| *r != attributes) {
            (Action::Update, "the declaration changed".to_string())
        } else {
            (
                Action::Update,
                "changed outside Landfall; restoring the declared value".to_string(),
            )
        };
        self.security_change(
            address,
            (action, reason),
            Some(id),
            ops,
            (diffs, attributes),
            member,
        );
    }

    fn plan_service_access(&mut self) {
        for principal in self.desired.service_access.keys() {
            let address = Address::ServiceAccess(principal.clone());
            let attributes = declared_attrs(self.desired, &address, None).unwrap_or_default();
            if self.live.security.service_access.contains(principal) {
                self.existing_security_change(
                    address,
                    principal.clone(),
                    (vec![], attributes),
                    vec![],
                    None,
                );
            } else {
                let reason = match self.state.resources.get(&address) {
                    Some(_) => "trusted access was disabled outside Landfall; enabling it again"
                        .to_string(),
                    None => format!("{principal} has no trusted access in the organization yet"),
                };
                self.create_security(
                    address,
                    Some(reason),
                    vec![Op::Security(SecurityOp::EnableServiceAccess {
                        service_principal: principal.clone(),
                    })],
                    attributes,
                    None,
                );
            }
        }
    }

    /// The accounts delegated for a service live: GuardDuty's and Security Hub's own
    /// list in the region (Organizations' registration is global, their delegation
    /// is not), Organizations' for the others.
    fn delegated_accounts(&self, principal: &str, region: &str) -> Vec<String> {
        let security = &self.live.security;
        let listed = if delegated_by_own_call(principal) {
            security
                .organization_admins
                .get(principal)
                .and_then(|r| r.get(region))
        } else {
            security.delegated_admins.get(principal)
        };
        listed.into_iter().flatten().cloned().collect()
    }

    fn plan_delegated_admins(&mut self) {
        let desired: &DesiredState = self.desired;
        for (principal, spec) in &desired.delegated_admins {
            let address = Address::DelegatedAdmin(principal.clone());
            let attributes = declared_attrs(desired, &address, None).unwrap_or_default();
            let account_id = self.account_id_now(&spec.account);
            let own_call = delegated_by_own_call(principal);
            let member = own_call.then(|| self.scope_of(None, &spec.region));
            // Another account administers the service: replace it only when Landfall
            // registered it.
            let recorded = self
                .state
                .resources
                .get(&address)
                .filter(|r| r.created)
                .and_then(|r| r.id.split_once('|').map(|(_, a)| a.to_string()));
            // Per region (one for services Organizations delegates): what to call
            // where the account is not the administrator yet.
            let mut ops = Vec::new();
            let mut delegated_in = Vec::new();
            for region in &spec.regions {
                let live_accounts = self.delegated_accounts(principal, region);
                if account_id
                    .as_ref()
                    .is_some_and(|id| live_accounts.contains(id))
                {
                    delegated_in.push(region.clone());
                    continue;
                }
                // Another administrator anywhere: GuardDuty's and Security Hub's list
                // in this region, or Organizations' registration, which is global and
                // refuses a second account for the service.
                let others: std::collections::BTreeSet<&String> = live_accounts
                    .iter()
                    .chain(
                        self.live
                            .security
                            .delegated_admins
                            .get(principal)
                            .into_iter()
                            .flatten(),
                    )
                    .filter(|a| Some(*a) != account_id.as_ref())
                    .collect();
                for other in others {
                    if recorded.as_ref() == Some(other) {
                        ops.push(Op::Security(SecurityOp::DeregisterDelegatedAdmin {
                            service_principal: principal.clone(),
                            account: Ref::Id(other.clone()),
                            region: region.clone(),
                        }));
                    } else {
                        // GuardDuty and Security Hub are undelegated with their own call.
                        let command = match principal.split_once('.') {
                            Some((service, _)) if own_call => format!(
                                "aws {service} disable-organization-admin-account --admin-account-id {other} --region {region}"
                            ),
                            Some(_) | None => format!(
                                "aws organizations deregister-delegated-administrator --account-id {other} --service-principal {principal}"
                            ),
                        };
                        self.problem(
                            address.clone(),
                            format!(
                                "{principal} is administered by account {other}, which Landfall did not delegate; a service has one delegated administrator"
                            ),
                            Some(&format!(
                                "deregister it first (`{command}`), or declare that account as the delegated administrator"
                            )),
                        );
                    }
                }
                ops.push(Op::Security(SecurityOp::RegisterDelegatedAdmin {
                    service_principal: principal.clone(),
                    account: self.account_ref(&spec.account),
                    region: region.clone(),
                }));
            }
            if let Some(id) = &account_id
                && !delegated_in.is_empty()
            {
                // Delegated already, maybe not in every region yet.
                let live = {
                    let mut live = attributes.clone();
                    if own_call {
                        live.insert("regions".into(), serde_json::json!(delegated_in));
                    }
                    live
                };
                let diffs = diff_attrs(&live, &attributes, &[]);
                self.existing_security_change(
                    address,
                    format!("{principal}|{id}"),
                    (diffs, attributes),
                    ops,
                    member,
                );
                continue;
            }
            let replacing = ops.iter().any(|op| {
                matches!(
                    op,
                    Op::Security(SecurityOp::DeregisterDelegatedAdmin { .. })
                )
            });
            let reason = if replacing {
                format!(
                    "{} becomes the delegated administrator in place of the one Landfall delegated before",
                    spec.account
                )
            } else if self.state.resources.contains_key(&address) {
                "deregistered outside Landfall; delegating again".to_string()
            } else {
                format!(
                    "{} is not {principal}'s delegated administrator yet",
                    spec.account
                )
            };
            self.create_security(address, Some(reason), ops, attributes, member);
        }
    }

    fn key_ref(&self, key: &str) -> Option<KeyRef> {
        let spec = self.desired.kms_keys.get(key)?;
        Some(KeyRef {
            key: self.reference(Address::KmsKey(key.to_string())),
            account: self.account_ref(&spec.account),
            region: spec.region.clone(),
        })
    }

    fn plan_buckets(&mut self) {
        let desired: &DesiredState = self.desired;
        for (name, spec) in &desired.buckets {
            let address = Address::Bucket(name.clone());
            let account_id = self.account_id_now(&spec.account);
            let attributes =
                declared_attrs(desired, &address, account_id.as_deref()).unwrap_or_default();
            let member = Some(self.scope_of(Some(&spec.account), &spec.region));
            let Some(key) = self.key_ref(&spec.kms_key) else {
                continue;
            };
            let live_name = account_id
                .as_deref()
                .map(|a| substitute(&spec.bucket_name, a, &spec.region));
            let live = live_name
                .as_deref()
                .and_then(|n| self.live.security.buckets.get(n));
            match live {
                Some(bucket) => {
                    let live_attrs = bucket_attrs(bucket, self.state);
                    let diffs = diff_attrs(&live_attrs, &attributes, &[]);
                    let changed = |a: &str| diffs.iter().any(|d| d.attribute == a);
                    let mut ops = Vec::new();
                    if changed("versioning") {
                        ops.push(Op::Security(SecurityOp::PutBucketVersioning));
                    }
                    if changed("public_access_blocked") {
                        ops.push(Op::Security(SecurityOp::PutPublicAccessBlock));
                    }
                    if changed("kms_key") {
                        ops.push(Op::Security(SecurityOp::PutBucketEncryption {
                            key: key.clone(),
                        }));
                    }
                    if changed("policy") {
                        ops.push(Op::Security(SecurityOp::PutBucketPolicy {
                            policy: spec.policy.clone(),
                        }));
                    }
                    if changed("object_lock") {
                        match &spec.object_lock {
                            Some(lock) => ops.push(Op::Security(SecurityOp::PutObjectLock {
                                object_lock: lock.clone(),
                            })),
                            None => self.warnings.push(format!(
                                "{address}: Object Lock stays on the bucket (S3 cannot turn it off); remove it from the declaration's intent or keep object_lock declared"
                            )),
                        }
                    }
                    if changed("lifecycle") {
                        ops.push(Op::Security(SecurityOp::PutBucketLifecycle {
                            lifecycle: spec.lifecycle.clone(),
                        }));
                    }
                    if changed("tags") {
                        ops.push(Op::Security(SecurityOp::TagBucket {
                            tags: spec.tags.clone(),
                        }));
                    }
                    self.existing_security_change(
                        address,
                        bucket.name.clone(),
                        (diffs, attributes),
                        ops,
                        member,
                    );
                }
                None => {
                    let mut ops = vec![
                        Op::Security(SecurityOp::CreateBucket {
                            bucket_name: spec.bucket_name.clone(),
                            object_lock: spec.object_lock.is_some(),
                            tags: spec.tags.clone(),
                        }),
                        Op::Security(SecurityOp::PutBucketVersioning),
                        Op::Security(SecurityOp::PutPublicAccessBlock),
                        Op::Security(SecurityOp::PutBucketEncryption { key }),
                        Op::Security(SecurityOp::PutBucketPolicy {
                            policy: spec.policy.clone(),
                        }),
                    ];
                    if let Some(lock) = &spec.object_lock {
                        ops.push(Op::Security(SecurityOp::PutObjectLock {
                            object_lock: lock.clone(),
                        }));
                    }
                    if spec.lifecycle.is_some() {
                        ops.push(Op::Security(SecurityOp::PutBucketLifecycle {
                            lifecycle: spec.lifecycle.clone(),
                        }));
                    }
                    self.create_security(address, None, ops, attributes, member);
                }
            }
        }
    }

    fn plan_trails(&mut self) {
        let desired: &DesiredState = self.desired;
        for (name, spec) in &desired.trails {
            let address = Address::Trail(name.clone());
            let attributes = declared_attrs(desired, &address, None).unwrap_or_default();
            let member = Some(self.scope_of(spec.administrator.as_deref(), &spec.region));
            let Some(key) = self.key_ref(&spec.kms_key) else {
                continue;
            };
            let settings = TrailSettings {
                name: spec.name.clone(),
                bucket: self.reference(Address::Bucket(spec.bucket.clone())),
                s3_key_prefix: spec.s3_key_prefix.clone(),
                key,
                multi_region: spec.multi_region,
                organization: spec.organization,
                log_file_validation: spec.log_file_validation,
            };
            let recorded = self.state.id_of(&address);
            let suffix = format!(":trail/{}", spec.name);
            let live = recorded
                .and_then(|arn| self.live.security.trails.get(arn))
                .or_else(|| {
                    self.live
                        .security
                        .trails
                        .values()
                        .find(|t| t.arn.ends_with(&suffix) && t.home_region == spec.region)
                });
            match live {
                Some(trail) => {
                    let live_attrs = trail_attrs(trail, self.state);
                    let diffs = diff_attrs(&live_attrs, &attributes, &[]);
                    let config_changed = diffs
                        .iter()
                        .any(|d| !matches!(d.attribute.as_str(), "logging" | "tags"));
                    let mut ops = Vec::new();
                    if config_changed {
                        ops.push(Op::Security(SecurityOp::UpdateTrail { trail: settings }));
                    }
                    if !trail.logging {
                        ops.push(Op::Security(SecurityOp::StartLogging));
                    }
                    if diffs.iter().any(|d| d.attribute == "tags") {
                        ops.push(Op::Security(SecurityOp::TagTrail {
                            tags: spec.tags.clone(),
                        }));
                    }
                    self.existing_security_change(
                        address,
                        trail.arn.clone(),
                        (diffs, attributes),
                        ops,
                        member,
                    );
                }
                None => {
                    self.create_security(
                        address,
                        None,
                        vec![
                            Op::Security(SecurityOp::CreateTrail {
                                trail: settings,
                                tags: spec.tags.clone(),
                            }),
                            // A new trail does not log until it is started.
                            Op::Security(SecurityOp::StartLogging),
                        ],
                        attributes,
                        member,
                    );
                }
            }
        }
    }

    fn plan_aggregators(&mut self) {
        let desired: &DesiredState = self.desired;
        for (name, spec) in &desired.config_aggregators {
            let address = Address::ConfigAggregator(name.clone());
            let attributes = declared_attrs(desired, &address, None).unwrap_or_default();
            let member = Some(self.scope_of(Some(&spec.account), &spec.region));
            let op = Op::Security(SecurityOp::PutConfigAggregator {
                name: spec.name.clone(),
                role_name: spec.role_name.clone(),
                tags: spec.tags.clone(),
            });
            let live = self.account_id_now(&spec.account).and_then(|account| {
                self.live
                    .security
                    .aggregators
                    .get(&spec.name)
                    .filter(|a| a.account_id == account && a.region == spec.region)
            });
            match live {
                Some(aggregator) => {
                    let diffs = diff_attrs(&live_aggregator_attrs(aggregator), &attributes, &[]);
                    let ops = if diffs.is_empty() { vec![] } else { vec![op] };
                    self.existing_security_change(
                        address,
                        aggregator.arn.clone(),
                        (diffs, attributes),
                        ops,
                        member,
                    );
                }
                None => {
                    self.create_security(address, None, vec![op], attributes, member);
                }
            }
        }
    }

    fn plan_analyzers(&mut self) {
        let desired: &DesiredState = self.desired;
        for (name, spec) in &desired.access_analyzers {
            let address = Address::AccessAnalyzer(name.clone());
            let attributes = declared_attrs(desired, &address, None).unwrap_or_default();
            let member = Some(self.scope_of(Some(&spec.account), &spec.region));
            let create = Op::Security(SecurityOp::CreateAnalyzer {
                name: spec.name.clone(),
                tags: spec.tags.clone(),
            });
            let live = self.account_id_now(&spec.account).and_then(|account| {
                self.live
                    .security
                    .analyzers
                    .get(&spec.name)
                    .filter(|a| a.account_id == account && a.region == spec.region)
            });
            match live {
                Some(analyzer) if analyzer.analyzer_type != ORGANIZATION_ANALYZER => {
                    // An analyzer's type is fixed at creation: replace it.
                    let diffs = diff_attrs(&analyzer_attrs(analyzer), &attributes, &[]);
                    let ops = vec![
                        Op::Security(SecurityOp::DeleteAnalyzer {
                            name: spec.name.clone(),
                        }),
                        create,
                    ];
                    self.security_change(
                        address,
                        (Action::Replace, format!(
                            "an analyzer of type {} named {} exists; an analyzer's type cannot change",
                            analyzer.analyzer_type, spec.name
                        )),
                        Some(analyzer.arn.clone()),
                        ops,
                        (diffs, attributes),
                        member,
                    );
                }
                Some(analyzer) => {
                    // Tags are recorded, not re-sent: Access Analyzer keeps what was
                    // given at creation and drift reports a change.
                    let diffs = diff_attrs(&analyzer_attrs(analyzer), &attributes, &[]);
                    self.existing_security_change(
                        address,
                        analyzer.arn.clone(),
                        (diffs, attributes),
                        vec![],
                        member,
                    );
                }
                None => {
                    self.create_security(address, None, vec![create], attributes, member);
                }
            }
        }
    }

    /// Recorded and no longer declared: trails, aggregators and analyzers Landfall
    /// created are deleted; trusted access and buckets are left in place (disabling
    /// access breaks every feature of the service; the bucket holds the organization's
    /// logs), delegated administrators Landfall registered are deregistered.
    fn plan_security_removals(&mut self) {
        let declared = self.desired.addresses();
        let records: Vec<(Address, crate::state::ResourceRecord)> = self
            .state
            .resources
            .iter()
            .filter(|(a, _)| a.security_kind().is_some() && !declared.contains(a))
            .map(|(a, r)| (a.clone(), r.clone()))
            .collect();
        for (address, rec) in records {
            let Some(kind) = address.security_kind() else {
                continue;
            };
            let member = rec.member.as_deref().and_then(|m| {
                let (account, region) = m.split_once('/')?;
                Some(MemberRef {
                    account: Ref::Id(account.to_string()),
                    region: region.to_string(),
                })
            });
            let forget = |reason: String| Change {
                address: address.clone(),
                action: Action::Forget,
                reason,
                diffs: vec![],
                id: Some(rec.id.clone()),
                member: member.clone(),
                project: None,
                ops: vec![],
                record: Record::Remove,
                depends_on: vec![],
            };
            let delete = |ops: Vec<SecurityOp>| Change {
                action: Action::Delete,
                ops: ops.into_iter().map(Op::Security).collect(),
                reason: "no longer declared; Landfall created it".into(),
                ..forget(String::new())
            };
            let change = if !rec.created {
                forget(
                    "no longer declared; Landfall did not create it, so it is left in place".into(),
                )
            } else {
                let name = |key: &str| {
                    rec.attributes
                        .get(key)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                match kind {
                    SecurityKind::ServiceAccess(p) => forget(format!(
                        "no longer declared; trusted access for {p} stays enabled (disabling it turns off every organization feature of the service)"
                    )),
                    SecurityKind::Bucket(_) => forget(
                        "no longer declared; the bucket holds the organization's logs and is left in place"
                            .into(),
                    ),
                    SecurityKind::DelegatedAdmin(p) => {
                        let Some((_, account)) = rec.id.split_once('|') else {
                            continue;
                        };
                        // A service with its own call is undelegated in each region;
                        // Organizations' registration goes with the last.
                        let regions = if delegated_by_own_call(p) {
                            super::attrs::recorded_regions(&rec.attributes)
                        } else {
                            vec![name("region")]
                        };
                        delete(
                            regions
                                .into_iter()
                                .map(|region| SecurityOp::DeregisterDelegatedAdmin {
                                    service_principal: p.to_string(),
                                    account: Ref::Id(account.to_string()),
                                    region,
                                })
                                .collect(),
                        )
                    }
                    SecurityKind::Trail(_) => delete(vec![SecurityOp::DeleteTrail]),
                    SecurityKind::ConfigAggregator(n) => {
                        delete(vec![SecurityOp::DeleteConfigAggregator {
                            name: n.to_string(),
                            role_name: name("role_name"),
                        }])
                    }
                    SecurityKind::AccessAnalyzer(n) => {
                        delete(vec![SecurityOp::DeleteAnalyzer {
                            name: n.to_string(),
                        }])
                    }
                }
            };
            self.changes.push(change);
        }
    }
}
