//! The shared context every request handler gets: the state (behind a mutex), the store that
//! persists it, the clock, fault rules, request log, throttle and the emulator's identity.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::EmulatorInfo;
use crate::clock::Clock;
use crate::errors::EmulatorError;
use crate::faults::Faults;
use crate::reqlog::RequestLog;
use crate::state::State;
use crate::store::Store;
use crate::throttle::Throttle;

pub(crate) struct Ctx {
    state: Mutex<State>,
    store: Store,
    persisted: AtomicU64,
    pub clock: Clock,
    /// Wall-clock time a new principal needs before role assignments can find it.
    pub replication_delay: chrono::Duration,
    /// How long after an application is created Graph still refuses a service principal for
    /// it (replication lag of Graph writes); zero unless the admin API sets it.
    pub graph_write_lag: Mutex<chrono::Duration>,
    /// How long after a role assignment is created the data plane still refuses it (RBAC
    /// propagation, `dataplane.rs`); set at start and through the admin API.
    pub rbac_propagation_delay: Mutex<chrono::Duration>,
    pub faults: Mutex<Faults>,
    pub log: Mutex<RequestLog>,
    pub throttle: Mutex<Throttle>,
    pub signing_key: Vec<u8>,
    pub info: EmulatorInfo,
}

/// Locks a mutex even if a panicking thread poisoned it (the data stays consistent enough for an emulator).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Ctx {
    pub fn new(
        state: State,
        store: Store,
        clock: Clock,
        replication_delay: chrono::Duration,
        rbac_propagation_delay: chrono::Duration,
        info: EmulatorInfo,
    ) -> Self {
        let signing_key = crate::token::decode_key(&state);
        Ctx {
            state: Mutex::new(state),
            store,
            persisted: AtomicU64::new(0),
            clock,
            replication_delay,
            graph_write_lag: Mutex::new(chrono::Duration::zero()),
            rbac_propagation_delay: Mutex::new(rbac_propagation_delay),
            faults: Mutex::new(Faults::default()),
            log: Mutex::new(RequestLog::default()),
            throttle: Mutex::new(Throttle::default()),
            signing_key,
            info,
        }
    }

    /// The state, with every long-running operation that has run its time completed.
    pub fn world(&self) -> MutexGuard<'_, State> {
        let mut st = lock(&self.state);
        crate::arm::operations::settle(&mut st, self.clock.now());
        st
    }

    /// Writes the state file if the state changed since the last write.
    pub async fn persist(self: &Arc<Self>) -> Result<(), EmulatorError> {
        let snapshot = {
            let st = lock(&self.state);
            if st.version <= self.persisted.load(Ordering::Acquire) {
                None
            } else {
                Some((st.version, serde_json::to_vec_pretty(&*st)))
            }
        };
        let Some((version, bytes)) = snapshot else {
            return Ok(());
        };
        let bytes =
            bytes.map_err(|e| EmulatorError::Config(format!("cannot serialise state: {e}")))?;
        let me = Arc::clone(self);
        let result = tokio::task::spawn_blocking(move || me.store.save(version, &bytes))
            .await
            .map_err(|e| EmulatorError::Io(std::io::Error::other(e)))?;
        result?;
        self.persisted.fetch_max(version, Ordering::AcqRel);
        Ok(())
    }
}
