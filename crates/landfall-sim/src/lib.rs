//! The embedded simulated backend: an AWS Organizations world kept in a JSON file
//! (or only in memory), enforcing what AWS enforces and answering with the same
//! error kinds, so users can try a landing zone offline and tests and benchmarks run
//! fast without AWS.
//!
//! Where to look:
//! - [`world`]: the organization's data and every rule (duplicate names, quotas,
//!   non-empty OUs, attached policies, ...). Pure and synchronous.
//! - [`faults`]: latency, throttling and one injected failure, from [`SimSettings`]
//!   and the [`FAULTS_ENV`] variable.
//! - [`ids`]: AWS-shaped, deterministic ids.
//! - [`store`]: the world file (atomic writes, clear errors for corrupt files).
//! - this file: [`SimBackend`], which puts them together behind
//!   [`landfall_core::Provider`].
//!
//! A call goes: latency → throttling (`TooManyRequests`, nothing happens) → for
//! mutating calls, the `fail_at` counter → the rule in [`world::World`] → save the
//! world file (file-backed worlds only, after every successful change).

pub mod faults;
pub mod ids;
pub mod store;
pub mod world;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use landfall_core::live::{LiveState, WorldIdentity};
use landfall_core::model::{Quotas, SimSettings, Tags};
use landfall_core::provider::{
    ApiLimits, CreateAccountRequest, CreateAccountStatus, ErrorKind, Provider, ProviderError,
    ProviderResult,
};

pub use faults::{FAULTS_ENV, parse_fault_overrides, settings_with_env_overrides};
pub use store::SimError;

use faults::{Faults, Injection};
use world::{Denied, World};

/// The simulated AWS Organizations backend.
///
/// `Send + Sync`; the world sits behind a `std::sync::Mutex` that is only ever held
/// for the synchronous part of a call (the rule and the save), never across an
/// `.await`, so concurrent executor tasks serialize on it briefly and cannot deadlock.
pub struct SimBackend {
    world: Mutex<World>,
    /// Where the world is saved after each change; `None` for in-memory worlds.
    path: Option<PathBuf>,
    faults: Faults,
}

impl SimBackend {
    /// Opens the world file, creating it (and its parent directory) when missing.
    ///
    /// `quotas` replace those stored in the world, so quotas overridden in the
    /// landing zone are the ones enforced. A new world's ids are seeded from
    /// `settings.seed`.
    pub fn open(path: &Path, settings: SimSettings, quotas: Quotas) -> Result<Self, SimError> {
        let world = match store::load(path)? {
            Some(mut world) => {
                world.quotas = quotas;
                world
            }
            None => {
                let world = World::new(settings.seed, quotas);
                store::save(path, &world)?;
                tracing::info!(path = %path.display(), world = %world.id, "created a new sim world");
                world
            }
        };
        Ok(SimBackend {
            world: Mutex::new(world),
            path: Some(path.to_path_buf()),
            faults: Faults::new(settings),
        })
    }

    /// A world that lives only in memory (tests, benchmarks); [`Self::save_to`]
    /// writes it out.
    pub fn in_memory(settings: SimSettings, quotas: Quotas) -> Self {
        SimBackend {
            world: Mutex::new(World::new(settings.seed, quotas)),
            path: None,
            faults: Faults::new(settings),
        }
    }

    /// Writes the world to `path` (atomically), whatever its backing.
    pub fn save_to(&self, path: &Path) -> Result<(), SimError> {
        let bytes = store::to_bytes(&self.lock())?;
        store::write_atomic(path, &bytes)
    }

    /// The world's id (`sim-` and 12 hex digits), what state files are bound to.
    pub fn world_id(&self) -> String {
        self.lock().id.clone()
    }

    /// The whole world as [`LiveState`], bypassing latency and fault injection: for
    /// tests and benchmarks that need to look without disturbing the fault sequence.
    pub fn snapshot(&self) -> LiveState {
        self.lock().to_live()
    }

    /// The settings in force (after any overrides).
    pub fn settings(&self) -> &SimSettings {
        self.faults.settings()
    }

    // A poisoned lock only means another thread panicked while holding it; rules
    // validate before they change anything, so the world is still consistent.
    fn lock(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Latency, then throttling: what every call (read or write) goes through first.
    async fn enter(&self, api: &'static str) -> ProviderResult<()> {
        self.faults.delay().await;
        if self.faults.throttled() {
            return Err(ProviderError::new(
                ErrorKind::TooManyRequests,
                api,
                format!(
                    "Rate exceeded (injected by the sim, throttle_rate={})",
                    self.faults.settings().throttle_rate
                ),
            ));
        }
        Ok(())
    }

    fn persist(&self, api: &'static str, world: &World) -> ProviderResult<()> {
        match &self.path {
            Some(path) => store::save(path, world).map_err(|e| {
                ProviderError::new(
                    ErrorKind::Other("SimWorldWriteError".into()),
                    api,
                    e.to_string(),
                )
            }),
            None => Ok(()),
        }
    }

    /// Runs a mutating call: faults, the rule, then a save on success.
    ///
    /// If the save fails the change stays in memory (the next successful save
    /// writes it) and the call reports the write error.
    async fn mutate<T, F>(&self, api: &'static str, rule: F) -> ProviderResult<T>
    where
        F: FnOnce(&mut World) -> Result<T, Denied> + Send,
        T: Send,
    {
        self.enter(api).await?;
        let injection = self.faults.on_mutating_call();
        if let Injection::FailBefore(n) = injection {
            tracing::debug!(api, n, "sim: injected failure before effect");
            return Err(ProviderError::new(
                ErrorKind::InjectedFault,
                api,
                format!("injected failure on mutating call {n}"),
            ));
        }
        let result = {
            let mut world = self.lock();
            let result = rule(&mut world);
            if result.is_ok() {
                self.persist(api, &world)?;
            }
            result
        };
        if let Injection::FailAfter(n) = injection {
            tracing::debug!(api, n, "sim: injected failure after effect");
            return Err(ProviderError::new(
                ErrorKind::InjectedFault,
                api,
                format!(
                    "injected failure on mutating call {n} (the change was applied; the response was lost)"
                ),
            ));
        }
        result.map_err(|d| d.at(api))
    }
}

#[async_trait]
impl Provider for SimBackend {
    /// Latency applies, throttling does not: identity is the guard check run once
    /// before anything else and answered from the local world, and throttling it
    /// would only make runs with `throttle_rate` fail before they start.
    async fn identity(&self) -> ProviderResult<WorldIdentity> {
        self.faults.delay().await;
        Ok(WorldIdentity {
            backend: "sim".into(),
            id: self.world_id(),
        })
    }

    fn limits(&self) -> ApiLimits {
        ApiLimits {
            create_account_in_flight: 5,
            writes_per_second: None,
            base_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(200),
            max_retries: 20,
            poll_interval: self.faults.latency().max(Duration::from_millis(1)),
            max_polls: 1000,
        }
    }

    async fn refresh(&self) -> ProviderResult<LiveState> {
        self.enter("Refresh").await?;
        Ok(self.snapshot())
    }

    async fn create_ou(&self, parent_id: &str, name: &str, tags: &Tags) -> ProviderResult<String> {
        self.mutate("CreateOrganizationalUnit", |w| {
            w.create_ou(parent_id, name, tags)
        })
        .await
    }

    async fn rename_ou(&self, ou_id: &str, name: &str) -> ProviderResult<()> {
        self.mutate("UpdateOrganizationalUnit", |w| w.rename_ou(ou_id, name))
            .await
    }

    async fn delete_ou(&self, ou_id: &str) -> ProviderResult<()> {
        self.mutate("DeleteOrganizationalUnit", |w| w.delete_ou(ou_id))
            .await
    }

    async fn create_account(&self, request: &CreateAccountRequest) -> ProviderResult<String> {
        let polls = self.faults.settings().account_creation_polls;
        self.mutate("CreateAccount", |w| {
            w.create_account(&request.name, &request.email, &request.tags, polls)
        })
        .await
    }

    /// A read, so it is throttled but never counted for `fail_at`; a consumed poll is
    /// saved so a reopened world continues the countdown.
    async fn create_account_status(&self, request_id: &str) -> ProviderResult<CreateAccountStatus> {
        const API: &str = "DescribeCreateAccountStatus";
        self.enter(API).await?;
        let mut world = self.lock();
        let (status, changed) = world
            .create_account_status(request_id)
            .map_err(|d| d.at(API))?;
        if changed {
            self.persist(API, &world)?;
        }
        Ok(status)
    }

    async fn move_account(
        &self,
        account_id: &str,
        source_parent_id: &str,
        destination_parent_id: &str,
    ) -> ProviderResult<()> {
        self.mutate("MoveAccount", |w| {
            w.move_account(account_id, source_parent_id, destination_parent_id)
        })
        .await
    }

    async fn close_account(&self, account_id: &str) -> ProviderResult<()> {
        self.mutate("CloseAccount", |w| w.close_account(account_id))
            .await
    }

    async fn tag_resource(&self, resource_id: &str, tags: &Tags) -> ProviderResult<()> {
        self.mutate("TagResource", |w| w.tag_resource(resource_id, tags))
            .await
    }

    async fn untag_resource(&self, resource_id: &str, keys: &[String]) -> ProviderResult<()> {
        self.mutate("UntagResource", |w| w.untag_resource(resource_id, keys))
            .await
    }

    async fn create_policy(
        &self,
        name: &str,
        description: &str,
        content: &str,
        tags: &Tags,
    ) -> ProviderResult<String> {
        self.mutate("CreatePolicy", |w| {
            w.create_policy(name, description, content, tags)
        })
        .await
    }

    async fn update_policy(
        &self,
        policy_id: &str,
        description: Option<&str>,
        content: Option<&str>,
    ) -> ProviderResult<()> {
        self.mutate("UpdatePolicy", |w| {
            w.update_policy(policy_id, description, content)
        })
        .await
    }

    async fn delete_policy(&self, policy_id: &str) -> ProviderResult<()> {
        self.mutate("DeletePolicy", |w| w.delete_policy(policy_id))
            .await
    }

    async fn attach_policy(&self, policy_id: &str, target_id: &str) -> ProviderResult<()> {
        self.mutate("AttachPolicy", |w| w.attach_policy(policy_id, target_id))
            .await
    }

    async fn detach_policy(&self, policy_id: &str, target_id: &str) -> ProviderResult<()> {
        self.mutate("DetachPolicy", |w| w.detach_policy(policy_id, target_id))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn backend_is_send_and_sync() {
        assert_send_sync::<SimBackend>();
    }

    #[test]
    fn limits_follow_latency() {
        let fast = SimBackend::in_memory(SimSettings::default(), Quotas::default());
        assert_eq!(fast.limits().poll_interval, Duration::from_millis(1));
        assert_eq!(fast.limits().writes_per_second, None);
        let slow = SimBackend::in_memory(
            SimSettings {
                latency_ms: 7,
                ..SimSettings::default()
            },
            Quotas::default(),
        );
        assert_eq!(slow.limits().poll_interval, Duration::from_millis(7));
    }
}
