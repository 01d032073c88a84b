//! Out-of-band changes, as a console user would make them: through `landfall sim` on
//! the sim, through the SDK (the testkit's `Console`) on moto.

use landfall_aws::testkit::Console;

use super::{Lz, On, moto_url, runtime, stderr};

/// Out-of-band changes, as a console user would make them.
pub enum Oob<'a> {
    Detach(&'a str, &'a str),
    Attach(&'a str, &'a str),
    Move(&'a str, &'a str),
    CreateOu(&'a str),
    RenameOu(&'a str, &'a str),
    UpdatePolicy(&'a str, &'a str),
}

/// "ou:X" / "account:a" / "root" → the testkit's "X" / "a" / "root".
fn bare(target: &str) -> &str {
    target
        .strip_prefix("ou:")
        .or_else(|| target.strip_prefix("account:"))
        .unwrap_or(target)
}

impl Lz {
    pub fn oob(&self, change: Oob) {
        match self.on {
            On::Sim => {
                let args: Vec<String> = match change {
                    Oob::Detach(p, t) => vec!["detach-policy".into(), p.into(), t.into()],
                    Oob::Attach(p, t) => vec!["attach-policy".into(), p.into(), t.into()],
                    Oob::Move(a, t) => vec!["move-account".into(), a.into(), t.into()],
                    Oob::CreateOu(p) => vec!["create-ou".into(), p.into()],
                    Oob::RenameOu(p, n) => vec!["rename-ou".into(), p.into(), n.into()],
                    Oob::UpdatePolicy(p, content) => {
                        std::fs::write(self.path("oob-policy.json"), content).unwrap();
                        vec![
                            "update-policy".into(),
                            p.into(),
                            "--file".into(),
                            "oob-policy.json".into(),
                        ]
                    }
                };
                let out = self.cmd().arg("sim").args(&args).output().unwrap();
                assert_eq!(out.status.code(), Some(0), "sim {args:?}: {}", stderr(&out));
            }
            On::Moto => {
                let rt = runtime();
                rt.block_on(async {
                    let console = Console::connect(&moto_url()).await;
                    match change {
                        Oob::Detach(p, t) => console.detach_policy(p, bare(t)).await,
                        Oob::Attach(p, t) => console.attach_policy(p, bare(t)).await,
                        Oob::Move(a, t) => console.move_account(a, bare(t)).await,
                        Oob::CreateOu(p) => console.create_ou(p).await,
                        Oob::RenameOu(p, n) => console.rename_ou(p, n).await,
                        Oob::UpdatePolicy(p, c) => console.update_policy_content(p, c).await,
                    }
                })
                .unwrap();
            }
        }
    }
}

pub enum MemberOob<'a> {
    DeleteEndpoint {
        net: &'a str,
        account: &'a str,
        region: &'a str,
        service: &'a str,
    },
    SetEndpointPolicy {
        net: &'a str,
        account: &'a str,
        region: &'a str,
        service: &'a str,
        policy: &'a str,
    },
    DisableRotation {
        account: &'a str,
        region: &'a str,
        key: &'a str,
    },
    CreateEndpoint {
        net: &'a str,
        account: &'a str,
        region: &'a str,
        vpc_cidr: &'a str,
        service: &'a str,
    },
}

impl Lz {
    /// An out-of-band change in a member account: `(network, account, region)` names
    /// where; on the sim it goes through `landfall sim`, on moto through the SDK with
    /// the account's assumed-role credentials.
    pub fn member_oob(&self, change: MemberOob) {
        match self.on {
            On::Sim => {
                let args: Vec<String> = match &change {
                    MemberOob::DeleteEndpoint { net, service, .. } => vec![
                        "delete-endpoint".into(),
                        format!("endpoint.{net}.{service}"),
                    ],
                    MemberOob::SetEndpointPolicy {
                        net,
                        service,
                        policy,
                        ..
                    } => {
                        std::fs::write(self.path("oob-endpoint-policy.json"), policy).unwrap();
                        vec![
                            "set-endpoint-policy".into(),
                            format!("endpoint.{net}.{service}"),
                            "--file".into(),
                            "oob-endpoint-policy.json".into(),
                        ]
                    }
                    MemberOob::DisableRotation { key, .. } => vec![
                        "set-key-rotation".into(),
                        format!("kms_key.{key}"),
                        "off".into(),
                    ],
                    MemberOob::CreateEndpoint { net, service, .. } => vec![
                        "create-endpoint".into(),
                        format!("vpc.{net}"),
                        service.to_string(),
                    ],
                };
                let out = self.cmd().arg("sim").args(&args).output().unwrap();
                assert_eq!(out.status.code(), Some(0), "sim {args:?}: {}", stderr(&out));
            }
            On::Moto => {
                let full =
                    |region: &str, service: &str| format!("com.amazonaws.{region}.{service}");
                runtime()
                    .block_on(async {
                        let c = Console::connect(&moto_url()).await;
                        match change {
                            MemberOob::DeleteEndpoint {
                                account,
                                region,
                                service,
                                ..
                            } => {
                                c.delete_endpoint_by_service(
                                    &self.account_id(account),
                                    region,
                                    &full(region, service),
                                )
                                .await
                            }
                            MemberOob::SetEndpointPolicy {
                                account,
                                region,
                                service,
                                policy,
                                ..
                            } => {
                                c.set_endpoint_policy(
                                    &self.account_id(account),
                                    region,
                                    &full(region, service),
                                    policy,
                                )
                                .await
                            }
                            MemberOob::DisableRotation {
                                account,
                                region,
                                key,
                            } => {
                                c.disable_key_rotation(
                                    &self.account_id(account),
                                    region,
                                    &format!("alias/{key}"),
                                )
                                .await
                            }
                            MemberOob::CreateEndpoint {
                                account,
                                region,
                                vpc_cidr,
                                service,
                                ..
                            } => c
                                .create_endpoint(
                                    &self.account_id(account),
                                    region,
                                    vpc_cidr,
                                    &full(region, service),
                                )
                                .await
                                .map(|_| ()),
                        }
                    })
                    .unwrap();
            }
        }
    }
}
