//! The blob checkpoint store: the engine's [`CheckpointStore`] over one Azure Storage block
//! blob. The lock is a lease ([`super::lease`]); every write is conditional on the lease and on
//! the `ETag` this store last saw, so a run that lost its lease can never overwrite another
//! run's state; before a run's first write the previous state is kept as a blob snapshot.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use azure_core::http::{Etag, RequestContent};
use azure_storage_blob::models::{
    BlobClientAcquireLeaseOptions, BlobClientCreateSnapshotOptions,
    BlobClientGetPropertiesResultHeaders, BlobClientSetMetadataOptions,
    BlockBlobClientUploadOptions, LeaseState,
};
use twinup_engine::CheckpointError;
use twinup_engine::checkpoint::{
    Checkpoint, CheckpointLock, CheckpointStore, parse_checkpoint, test_hooks,
};

use super::address::BlobAddress;
use super::auth::BlobCredential;
use super::client::Clients;
use super::errors::{BlobStoreError, FORBIDDEN_SAS, FORBIDDEN_TOKEN, describe, error_code, status};
use super::holder;
use super::lease::BlobLease;
use crate::http::HttpClient;

/// The lease duration twinup uses (the longest finite lease Azure grants).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);
/// Environment variable that shortens the lease (15-60 s), for tests of lease expiry.
pub const LEASE_ENV: &str = "TWINUP_BLOB_LEASE_SECONDS";

/// Settings of a [`BlobStore`].
#[derive(Debug, Clone)]
pub struct BlobStoreOptions {
    /// How long a lease lasts without renewal (15-60 s); renewed every third of it.
    pub lease: Duration,
}

impl Default for BlobStoreOptions {
    fn default() -> Self {
        BlobStoreOptions {
            lease: DEFAULT_LEASE,
        }
    }
}

impl BlobStoreOptions {
    /// The defaults, with the lease from `TWINUP_BLOB_LEASE_SECONDS` if set.
    pub fn from_env() -> Result<Self, BlobStoreError> {
        let Ok(text) = std::env::var(LEASE_ENV) else {
            return Ok(BlobStoreOptions::default());
        };
        match text.trim().parse::<u64>() {
            Ok(secs @ 15..=60) => Ok(BlobStoreOptions {
                lease: Duration::from_secs(secs),
            }),
            _ => Err(BlobStoreError::Client {
                url: LEASE_ENV.to_string(),
                message: format!(
                    "{LEASE_ENV}={text}: Azure leases last 15 to 60 seconds; give a whole number in that range or unset it"
                ),
            }),
        }
    }
}

/// What this store knows about the blob and its own lease.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// The version this store last read or wrote; writes require it to be unchanged.
    pub etag: Option<Etag>,
    /// Whether that version holds a checkpoint (not the empty blob a first lock creates).
    pub has_content: bool,
    /// The lease while locked.
    pub lease: Option<ActiveLease>,
}

/// A lease this store holds.
#[derive(Debug)]
pub(crate) struct ActiveLease {
    pub id: String,
    pub holder: String,
    /// Why the lease is gone, once the renewal found out.
    pub lost: Option<String>,
    /// Whether this lock has written yet (the state before its first write is kept as a
    /// snapshot).
    pub written: bool,
}

/// One kept version of a blob checkpoint.
#[derive(Debug, Clone)]
pub struct Version {
    /// The snapshot id (a timestamp), or `None` for the current checkpoint.
    pub snapshot: Option<String>,
    /// When this version was written.
    pub modified: Option<chrono::DateTime<chrono::Utc>>,
    /// Its size in bytes.
    pub size: Option<u64>,
    /// Why it was kept (e.g. the run that replaced it).
    pub note: Option<String>,
}

/// Whether the blob is leased, and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseInfo {
    /// The blob exists.
    pub exists: bool,
    /// A lease is active (or breaking).
    pub leased: bool,
    /// The holder named in the blob's metadata.
    pub holder: Option<String>,
}

/// A checkpoint kept in an Azure Storage blob.
pub struct BlobStore {
    address: BlobAddress,
    clients: Clients,
    lease: Duration,
    state: Arc<Mutex<Shared>>,
    /// Advice for HTTP 403, which depends on the kind of credential.
    forbidden: &'static str,
}

impl BlobStore {
    /// A store for the blob at `address`, authorised by `credential`, sending requests
    /// through `http`. Nothing is requested until the store is used.
    pub fn new(
        address: BlobAddress,
        credential: &BlobCredential,
        http: &HttpClient,
        options: BlobStoreOptions,
    ) -> Result<BlobStore, BlobStoreError> {
        let clients = Clients::new(&address, credential, http)?;
        let forbidden = match credential {
            BlobCredential::Sas(_) => FORBIDDEN_SAS,
            BlobCredential::Token(_) => FORBIDDEN_TOKEN,
        };
        Ok(BlobStore {
            address,
            clients,
            forbidden,
            lease: options.lease,
            state: Arc::new(Mutex::new(Shared::default())),
        })
    }

    /// Where the blob is.
    pub fn address(&self) -> &BlobAddress {
        &self.address
    }

    fn remote(&self, message: String) -> CheckpointError {
        CheckpointError::Remote {
            location: self.address.display(),
            message,
        }
    }

    fn describe(&self, action: &str, e: &azure_core::Error) -> String {
        describe(action, e, self.forbidden)
    }

    fn shared(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the blob is leased and by whom (reads only).
    pub async fn lease_info(&self) -> Result<LeaseInfo, CheckpointError> {
        match self.clients.blob.get_properties(None).await {
            Ok(props) => {
                let state = props.lease_state().ok().flatten();
                let leased = matches!(state, Some(LeaseState::Leased | LeaseState::Breaking));
                let metadata = props.metadata().unwrap_or_default();
                Ok(LeaseInfo {
                    exists: true,
                    leased,
                    holder: holder::from_metadata(&metadata),
                })
            }
            Err(e) if status(&e) == Some(404) && error_code(&e) != Some("ContainerNotFound") => {
                Ok(LeaseInfo {
                    exists: false,
                    leased: false,
                    holder: None,
                })
            }
            Err(e) => Err(self.remote(self.describe("reading the checkpoint's properties", &e))),
        }
    }

    /// Breaks the lease at once (for a run that is known to be gone); returns the holder it
    /// named, or `None` when the blob was not leased.
    pub async fn break_lease(&self) -> Result<Option<String>, CheckpointError> {
        let info = self.lease_info().await?;
        if !info.leased {
            return Ok(None);
        }
        let options = azure_storage_blob::models::BlobClientBreakLeaseOptions {
            break_period: Some(0),
            ..Default::default()
        };
        match self.clients.blob.break_lease(Some(options)).await {
            Ok(_) => Ok(Some(
                info.holder
                    .unwrap_or_else(|| "an unnamed holder".to_string()),
            )),
            Err(e) if status(&e) == Some(409) => Ok(None),
            Err(e) => Err(self.remote(self.describe("breaking the lease", &e))),
        }
    }

    /// The current checkpoint and its kept snapshots, newest first.
    pub async fn history(&self) -> Result<Vec<Version>, CheckpointError> {
        use azure_storage_blob::models::{
            BlobContainerClientListBlobsOptions, ListBlobsIncludeItem,
        };
        use futures::TryStreamExt;
        let options = BlobContainerClientListBlobsOptions {
            prefix: Some(self.address.blob().to_string()),
            include: Some(vec![
                ListBlobsIncludeItem::Snapshots,
                ListBlobsIncludeItem::Metadata,
            ]),
            ..Default::default()
        };
        let failed = |e: azure_core::Error| {
            self.remote(self.describe("listing the checkpoint's snapshots", &e))
        };
        let mut pager = self
            .clients
            .container
            .list_blobs(Some(options))
            .map_err(failed)?;
        let mut versions = Vec::new();
        while let Some(item) = pager.try_next().await.map_err(failed)? {
            if item.name.as_deref() != Some(self.address.blob()) {
                continue;
            }
            let props = item.properties.as_ref();
            let note = item
                .metadata
                .as_ref()
                .and_then(|m| m.values.as_ref())
                .and_then(|m| {
                    m.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(holder::REASON_KEY))
                        .map(|(_, v)| v.clone())
                });
            versions.push(Version {
                snapshot: item.snapshot.clone(),
                modified: props
                    .and_then(|p| p.last_modified)
                    .and_then(|t| chrono::DateTime::from_timestamp(t.unix_timestamp(), 0)),
                size: props.and_then(|p| p.content_length),
                note,
            });
        }
        // Snapshot ids are timestamps; the current version (no id) comes first.
        versions.sort_by(|a, b| match (&a.snapshot, &b.snapshot) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => y.cmp(x),
        });
        Ok(versions)
    }

    /// Reads the checkpoint kept in snapshot `id` (as listed by [`BlobStore::history`]).
    pub async fn load_snapshot(&self, id: &str) -> Result<Checkpoint, CheckpointError> {
        let client = self
            .clients
            .blob
            .with_snapshot(id)
            .map_err(|e| self.remote(self.describe("addressing the snapshot", &e)))?;
        let location = format!("{} (snapshot {id})", self.address.display());
        let bytes = match client.download(None).await {
            Ok(result) => result
                .body
                .collect()
                .await
                .map_err(|e| self.remote(self.describe("reading the snapshot", &e)))?,
            Err(e) if status(&e) == Some(404) => {
                return Err(self.remote(format!(
                    "there is no snapshot `{id}`; `twinup status --history` lists the kept ones"
                )));
            }
            Err(e) => return Err(self.remote(self.describe("reading the snapshot", &e))),
        };
        if bytes.is_empty() {
            return Err(self.remote(format!(
                "snapshot `{id}` holds no checkpoint (it was taken before the first run)"
            )));
        }
        parse_checkpoint(&location, &bytes)
    }

    /// Creates the empty blob a lease needs; someone else creating it first is fine.
    async fn create_placeholder(&self) -> Result<(), CheckpointError> {
        let options = BlockBlobClientUploadOptions {
            if_none_match: Some(Etag::from("*")),
            ..Default::default()
        };
        match self
            .clients
            .blob
            .upload(RequestContent::from(Vec::new()), Some(options))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if matches!(status(&e), Some(409 | 412)) => Ok(()),
            Err(e) => Err(self.remote(self.describe("creating the checkpoint blob", &e))),
        }
    }

    async fn locked_error(&self) -> CheckpointError {
        let holder = match self.lease_info().await {
            Ok(LeaseInfo {
                holder: Some(h), ..
            }) => h,
            _ => "a run that has not named itself yet".to_string(),
        };
        CheckpointError::Locked {
            location: self.address.display(),
            holder: format!(
                "{holder}; a run that died releases it within {}s, and `twinup unlock --force` breaks a stuck one",
                self.lease.as_secs()
            ),
        }
    }

    /// The error for a write refused because of the lease or the ETag, after checking whether
    /// the write had in fact landed (a retried request can see its own first attempt).
    async fn refused_write(
        &self,
        e: &azure_core::Error,
        body: &[u8],
    ) -> Result<(), CheckpointError> {
        let code = error_code(e).unwrap_or("").to_string();
        if code == "ConditionNotMet"
            && let Ok(current) = self.clients.blob.download(None).await
        {
            let etag = current.properties.etag.clone();
            if let Ok(bytes) = current.body.collect().await
                && bytes.as_ref() == body
            {
                let mut s = self.shared();
                s.etag = etag;
                s.has_content = true;
                return Ok(());
            }
        }
        let held = self.shared().lease.as_ref().map(|l| l.id.clone());
        let mut lease_gone = code.starts_with("Lease");
        if !lease_gone && let Some(id) = held {
            // Tell a lost lease (the usual cause) from a plain ETag mismatch.
            lease_gone = matches!(
                self.clients.blob.renew_lease(id, None).await,
                Err(ref e) if matches!(status(e), Some(400..=499))
            );
        }
        let why = if lease_gone {
            if let Some(lease) = self.shared().lease.as_mut() {
                lease.lost = Some(code.clone());
            }
            format!(
                "this run lost its lease (its write was refused with {code}): the lease was broken with `twinup unlock --force`, or expired while the run could not reach the storage account"
            )
        } else {
            format!(
                "the checkpoint was changed by another writer since this run read it ({code}: its ETag no longer matches)"
            )
        };
        Err(self.remote(format!(
            "{why}; nothing was overwritten and this run stops. Check that no other run uses it (`twinup status --history` shows the kept versions), then rerun to continue from the checkpoint as it is now"
        )))
    }
}

#[async_trait]
impl CheckpointStore for BlobStore {
    fn location(&self) -> String {
        self.address.display()
    }

    async fn lock(&self) -> Result<Box<dyn CheckpointLock>, CheckpointError> {
        let id = uuid::Uuid::new_v4().to_string();
        let secs = i32::try_from(self.lease.as_secs()).unwrap_or(60);
        let mut created = false;
        loop {
            let options = BlobClientAcquireLeaseOptions {
                proposed_lease_id: Some(id.clone()),
                ..Default::default()
            };
            match self.clients.blob.acquire_lease(secs, Some(options)).await {
                Ok(_) => break,
                Err(e)
                    if status(&e) == Some(404)
                        && error_code(&e) == Some("BlobNotFound")
                        && !created =>
                {
                    self.create_placeholder().await?;
                    created = true;
                }
                Err(e) if status(&e) == Some(409) => return Err(self.locked_error().await),
                Err(e) => {
                    return Err(
                        self.remote(self.describe("taking the lease on the checkpoint", &e))
                    );
                }
            }
        }
        let note = holder::this_process();
        {
            let mut s = self.shared();
            s.lease = Some(ActiveLease {
                id: id.clone(),
                holder: note.clone(),
                lost: None,
                written: false,
            });
        }
        // From here on, dropping `lease` releases it (also when naming the holder fails).
        let lease = BlobLease::hold(
            Arc::clone(&self.clients.blob),
            id.clone(),
            self.lease,
            Arc::clone(&self.state),
            self.forbidden,
        );
        let options = BlobClientSetMetadataOptions {
            lease_id: Some(id.clone()),
            ..Default::default()
        };
        self.clients
            .blob
            .set_metadata(&holder::metadata(&note), Some(options))
            .await
            .map_err(|e| self.remote(self.describe("naming this run as the lease holder", &e)))?;
        let props =
            self.clients.blob.get_properties(None).await.map_err(|e| {
                self.remote(self.describe("reading the checkpoint's properties", &e))
            })?;
        {
            let mut s = self.shared();
            s.etag = props.etag().ok().flatten();
            s.has_content = props.content_length().ok().flatten().unwrap_or(0) > 0;
        }
        tracing::debug!(lease_seconds = secs, "checkpoint lease taken");
        Ok(Box::new(lease))
    }

    async fn load(&self) -> Result<Option<Checkpoint>, CheckpointError> {
        let result = match self.clients.blob.download(None).await {
            Ok(result) => result,
            Err(e) if status(&e) == Some(404) && error_code(&e) == Some("BlobNotFound") => {
                let mut s = self.shared();
                s.etag = None;
                s.has_content = false;
                return Ok(None);
            }
            Err(e) => return Err(self.remote(self.describe("reading the checkpoint", &e))),
        };
        let etag = result.properties.etag.clone();
        let bytes = result
            .body
            .collect()
            .await
            .map_err(|e| self.remote(self.describe("reading the checkpoint", &e)))?;
        {
            let mut s = self.shared();
            s.etag = etag;
            s.has_content = !bytes.is_empty();
        }
        if bytes.is_empty() {
            // The empty blob a first lock creates: nothing has been saved yet.
            return Ok(None);
        }
        parse_checkpoint(&self.location(), &bytes).map(Some)
    }

    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        let mut body = serde_json::to_vec_pretty(checkpoint)
            .map_err(|e| self.remote(format!("cannot serialise the checkpoint: {e}")))?;
        body.push(b'\n');
        let (lease, etag, snapshot_first) = {
            let s = self.shared();
            if let Some(why) = s.lease.as_ref().and_then(|l| l.lost.clone()) {
                return Err(self.remote(format!(
                    "this run lost its lease on the checkpoint ({why}), so it stops writing; nothing was overwritten. Rerun to continue from the checkpoint as saved"
                )));
            }
            let lease = s.lease.as_ref().map(|l| (l.id.clone(), l.holder.clone()));
            let snapshot_first = s.has_content && s.lease.as_ref().is_some_and(|l| !l.written);
            (lease, s.etag.clone(), snapshot_first)
        };
        // A blob write is all or nothing: "crashing half-way" means before it is sent.
        if test_hooks::begin_write() {
            test_hooks::crash();
        }
        if let (true, Some((id, holder))) = (snapshot_first, &lease) {
            let mut metadata = holder::metadata(holder);
            metadata.insert(
                holder::REASON_KEY.to_string(),
                format!("state before the run of {holder}"),
            );
            let options = BlobClientCreateSnapshotOptions {
                lease_id: Some(id.clone()),
                if_match: etag.clone(),
                metadata: Some(metadata),
                ..Default::default()
            };
            match self.clients.blob.create_snapshot(Some(options)).await {
                Ok(_) => {}
                Err(e) if status(&e) == Some(412) => return self.refused_write(&e, &body).await,
                Err(e) => {
                    return Err(self.remote(
                        self.describe("keeping the previous checkpoint as a snapshot", &e),
                    ));
                }
            }
        }
        let mut options = BlockBlobClientUploadOptions {
            blob_content_type: Some("application/json".to_string()),
            ..Default::default()
        };
        match etag {
            Some(tag) => options.if_match = Some(tag),
            None => options.if_none_match = Some(Etag::from("*")),
        }
        if let Some((id, holder)) = &lease {
            options.lease_id = Some(id.clone());
            options.metadata = Some(holder::metadata(holder));
        }
        match self
            .clients
            .blob
            .upload(RequestContent::from(body.clone()), Some(options))
            .await
        {
            Ok(result) => {
                let mut s = self.shared();
                s.etag = result.etag;
                s.has_content = true;
                if let Some(l) = s.lease.as_mut() {
                    l.written = true;
                }
            }
            Err(e) if matches!(status(&e), Some(409 | 412)) => {
                self.refused_write(&e, &body).await?;
            }
            Err(e) => return Err(self.remote(self.describe("writing the checkpoint", &e))),
        }
        test_hooks::end_write();
        Ok(())
    }
}
