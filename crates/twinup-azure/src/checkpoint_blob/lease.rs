//! The lock of a blob checkpoint: a blob lease, renewed in the background while the run lasts
//! and released when the lock is dropped. A process that dies stops renewing, so its lease
//! expires after its duration and never blocks the next run for longer than that.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use azure_storage_blob::BlobClient;
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::task::JoinHandle;
use twinup_engine::checkpoint::CheckpointLock;

use super::errors::{describe, status};
use super::store::Shared;

/// How long a release on drop may take before the lease is left to expire.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(5);

/// A held lease; dropping it stops the renewal and releases the lease.
pub(crate) struct BlobLease {
    blob: Arc<BlobClient>,
    id: String,
    state: Arc<Mutex<Shared>>,
    renewal: JoinHandle<()>,
    forbidden: &'static str,
}

impl CheckpointLock for BlobLease {}

impl BlobLease {
    /// Starts renewing lease `id` every third of `duration`.
    pub(crate) fn hold(
        blob: Arc<BlobClient>,
        id: String,
        duration: Duration,
        state: Arc<Mutex<Shared>>,
        forbidden: &'static str,
    ) -> BlobLease {
        let renewal = tokio::spawn(renew(
            Arc::clone(&blob),
            id.clone(),
            duration,
            Arc::clone(&state),
            forbidden,
        ));
        BlobLease {
            blob,
            id,
            state,
            renewal,
            forbidden,
        }
    }
}

/// Keeps the lease alive. A refusal (the lease was broken or taken) marks it lost, so the
/// next checkpoint write stops the run; network trouble is retried sooner.
async fn renew(
    blob: Arc<BlobClient>,
    id: String,
    duration: Duration,
    state: Arc<Mutex<Shared>>,
    forbidden: &'static str,
) {
    let every = duration / 3;
    let mut wait = every;
    let mut last_ok = Instant::now();
    loop {
        tokio::time::sleep(wait).await;
        match blob.renew_lease(id.clone(), None).await {
            Ok(_) => {
                last_ok = Instant::now();
                wait = every;
                tracing::debug!("checkpoint lease renewed");
            }
            Err(e) if matches!(status(&e), Some(400..=499)) => {
                let why = describe("renewing the lease on the checkpoint", &e, forbidden);
                tracing::warn!("{why}");
                if let Ok(mut s) = state.lock()
                    && let Some(lease) = s.lease.as_mut()
                {
                    lease.lost = Some(why);
                }
                return;
            }
            Err(e) => {
                tracing::warn!(
                    "{}; retrying (last renewed {}s ago, the lease lasts {}s)",
                    describe("renewing the lease on the checkpoint", &e, forbidden),
                    last_ok.elapsed().as_secs(),
                    duration.as_secs()
                );
                wait = Duration::from_secs(2).min(every);
            }
        }
    }
}

impl Drop for BlobLease {
    fn drop(&mut self) {
        self.renewal.abort();
        let lost = match self.state.lock() {
            Ok(mut s) => s.lease.take().and_then(|l| l.lost).is_some(),
            Err(_) => false,
        };
        if lost {
            return;
        }
        let blob = Arc::clone(&self.blob);
        let id = self.id.clone();
        let forbidden = self.forbidden;
        let release = async move {
            match tokio::time::timeout(RELEASE_TIMEOUT, blob.release_lease(id, None)).await {
                Ok(Ok(_)) => tracing::debug!("checkpoint lease released"),
                Ok(Err(e)) => tracing::warn!(
                    "{}; it expires on its own",
                    describe("releasing the lease on the checkpoint", &e, forbidden)
                ),
                Err(_) => tracing::warn!(
                    "releasing the lease on the checkpoint took too long; it expires on its own"
                ),
            }
        };
        // Release before the process moves on, so the next run can start at once. A
        // single-threaded runtime cannot wait here: it releases in the background instead.
        match Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| handle.block_on(release));
            }
            Ok(handle) => {
                handle.spawn(release);
            }
            Err(_) => {}
        }
    }
}
