//! A counting semaphore whose waiters are served by priority — the length of the
//! longest path of work still ahead of their change — first come first served among
//! equals. A FIFO semaphore lets a control on a leaf OU take the last Control Tower
//! slot while the registration three levels above it, which everything else waits for,
//! queues behind it; served longest-path-first, the plan ends as early as the
//! dependency graph allows (list scheduling on the critical path).

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

#[derive(Debug)]
pub(super) struct PrioritySemaphore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    available: usize,
    waiters: BinaryHeap<Waiter>,
    arrivals: u64,
}

#[derive(Debug)]
struct Waiter {
    priority: u64,
    arrival: u64,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Waiter {}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiter {
    /// The greatest is served first: the highest priority, then the earliest arrival.
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .cmp(&other.priority)
            .then(other.arrival.cmp(&self.arrival))
    }
}

/// A permit; given back when dropped.
#[derive(Debug)]
pub(super) struct Permit<'a>(&'a PrioritySemaphore);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// A permit that owns its semaphore (it can live in a task-local).
#[derive(Debug)]
pub(super) struct OwnedPermit(Arc<PrioritySemaphore>);

impl Drop for OwnedPermit {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// A waiter's side while it waits: if its future is dropped after a permit was handed
/// to it, the permit goes back rather than being lost.
struct Waiting<'a> {
    semaphore: &'a PrioritySemaphore,
    wake: Option<oneshot::Receiver<()>>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if let Some(mut wake) = self.wake.take() {
            wake.close();
            if wake.try_recv().is_ok() {
                self.semaphore.release();
            }
        }
    }
}

impl PrioritySemaphore {
    pub(super) fn new(permits: usize) -> Self {
        PrioritySemaphore {
            state: Mutex::new(State {
                available: permits,
                ..State::default()
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a permit, served by `priority` (higher first).
    pub(super) async fn acquire(&self, priority: u64) -> Permit<'_> {
        self.wait(priority).await;
        Permit(self)
    }

    /// [`Self::acquire`], for a permit that must outlive the borrow.
    pub(super) async fn acquire_owned(self: &Arc<Self>, priority: u64) -> OwnedPermit {
        self.wait(priority).await;
        OwnedPermit(self.clone())
    }

    async fn wait(&self, priority: u64) {
        let wake = {
            let mut state = self.lock();
            if state.available > 0 && state.waiters.is_empty() {
                state.available -= 1;
                return;
            }
            let (wake, woken) = oneshot::channel();
            state.arrivals += 1;
            let arrival = state.arrivals;
            state.waiters.push(Waiter {
                priority,
                arrival,
                wake,
            });
            woken
        };
        let mut waiting = Waiting {
            semaphore: self,
            wake: Some(wake),
        };
        if let Some(wake) = waiting.wake.as_mut() {
            // The sender is only dropped after sending: a permit is ours either way.
            let _ = wake.await;
        }
        waiting.wake = None;
    }

    /// Hands the permit to the first waiter still waiting, or keeps it.
    fn release(&self) {
        let mut state = self.lock();
        while let Some(waiter) = state.waiters.pop() {
            if waiter.wake.send(()).is_ok() {
                return;
            }
        }
        state.available += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waiters_are_served_by_priority_then_arrival() {
        let semaphore = Arc::new(PrioritySemaphore::new(1));
        let first = semaphore.acquire_owned(0).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = tokio::task::JoinSet::new();
        for (name, priority) in [("low", 1), ("high", 9), ("mid", 5), ("high-later", 9)] {
            let (semaphore, order) = (semaphore.clone(), order.clone());
            tasks.spawn(async move {
                let _permit = semaphore.acquire(priority).await;
                order.lock().unwrap().push(name);
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            });
            // Arrive in the order listed.
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        drop(first);
        while tasks.join_next().await.is_some() {}
        assert_eq!(*order.lock().unwrap(), ["high", "high-later", "mid", "low"]);
        // Every permit came back.
        assert_eq!(semaphore.lock().available, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_waiter_does_not_lose_the_permit() {
        let semaphore = Arc::new(PrioritySemaphore::new(1));
        let held = semaphore.acquire_owned(0).await;
        let waiting = {
            let semaphore = semaphore.clone();
            tokio::spawn(async move { semaphore.acquire_owned(1).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        waiting.abort();
        let _ = waiting.await;
        drop(held);
        let _again = semaphore.acquire(0).await;
        assert_eq!(semaphore.lock().available, 0);
    }
}
