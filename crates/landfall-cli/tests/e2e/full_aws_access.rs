//! `full_aws_access = false` on OUs and accounts the apply creates: AWS attaches
//! FullAWSAccess to them anyway, so the apply detaches it once their first declared
//! SCP is attached, and ends converged with no drift — on the sim, on moto, and when
//! an apply is interrupted at any call and resumed.

use crate::support::{Lz, On, calls_made, moto_session, stderr, stdout};

const NO_FAA: &str = r#"[landing_zone]
name = "faa"
home_region = "us-east-1"

[ou.Sandbox]
full_aws_access = false

[ou.Workloads]

[account.sandbox-1]
email = "aws+sandbox-1@example.com"
ou = "Sandbox"
full_aws_access = false

[scp.allow-most]
content = '''{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'''
targets = ["ou:Sandbox", "account:sandbox-1"]

[scp.deny-leave-org]
content = '''{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}'''
targets = ["ou:Sandbox", "ou:Workloads"]
"#;

/// `plan --detailed-exitcode` says no changes and `drift` finds nothing.
fn assert_converged_without_drift(lz: &Lz, context: &str) {
    let plan = lz.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{context}: not converged:\n{}\n{}",
        stdout(&plan),
        stderr(&plan)
    );
    let drift = lz.run(&["drift"]);
    assert_eq!(
        drift.status.code(),
        Some(0),
        "{context}: drift:\n{}\n{}",
        stdout(&drift),
        stderr(&drift)
    );
}

fn converges(on: On) {
    let lz = Lz::from_config(NO_FAA, on);
    let out = lz.run(&["-v", "apply", "--auto-approve"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let log = stderr(&out);
    assert!(
        !log.contains("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"),
        "{log}"
    );
    assert_converged_without_drift(&lz, "after the first apply");
    if on == On::Moto {
        let (_, made) = calls_made(&log, "apply");
        let calls = |api: &str| made.get(api).copied().unwrap_or(0);
        // One per declared SCP attachment; one detach of FullAWSAccess per target
        // declared without it; none sent for ou.Workloads' FullAWSAccess (AWS's own).
        assert_eq!(calls("AttachPolicy"), 4, "{log}");
        assert_eq!(calls("DetachPolicy"), 2, "{log}");
    }
}

#[test]
fn full_aws_access_false_on_created_targets_converges_on_sim() {
    converges(On::Sim);
}

#[test]
fn full_aws_access_false_on_created_targets_converges_on_moto() {
    let _moto = moto_session();
    converges(On::Moto);
}

/// An apply stopped at every mutating call in turn (before and after its effect, as
/// a lost response), then resumed: it ends converged, with no drift, each time.
#[test]
fn full_aws_access_false_interrupted_anywhere_resumes_to_converged() {
    let mut interrupted = 0;
    for after_effect in [false, true] {
        for n in 1.. {
            let lz = Lz::from_config(NO_FAA, On::Sim);
            let faults = format!("fail_at={n},fail_after_effect={after_effect}");
            let out = lz.run_with_faults(&faults, &["apply", "--auto-approve"]);
            if out.status.code() == Some(0) {
                // Past the last mutating call: every point was tried.
                assert!(n > 8, "only {n} calls: {}", stdout(&out));
                break;
            }
            interrupted += 1;
            let resumed = lz.run(&["apply", "--auto-approve"]);
            assert_eq!(
                resumed.status.code(),
                Some(0),
                "{faults}: resume failed:\n{}\n{}",
                stdout(&resumed),
                stderr(&resumed)
            );
            assert_converged_without_drift(&lz, &faults);
        }
    }
    assert!(interrupted >= 16, "{interrupted}");
}
