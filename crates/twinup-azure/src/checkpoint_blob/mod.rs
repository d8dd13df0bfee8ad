//! Checkpoints in Azure Blob Storage, for teams and CI: the engine's `CheckpointStore` over a
//! block blob, through the official `azure_storage_blob` crate.
//!
//! - [`address`]: the `--checkpoint` URL (`https://{account}.blob.core.windows.net/{container}/{name}.json`,
//!   or an emulator's `http://127.0.0.1:{port}/{account}/...` on loopback only).
//! - [`auth`]: the credential: a SAS in the URL, `AZURE_STORAGE_CONNECTION_STRING`, or the run's
//!   Entra ID sign-in.
//! - [`store`]: [`BlobStore`]: lease as the lock (renewed in the background, released on drop,
//!   expiring after a crash), writes conditional on lease and ETag, a snapshot of the previous
//!   state before each run's first write, history and snapshot reads.
//! - `lease`, `holder`, `client`: the lease's renewal, the holder note in the blob's metadata,
//!   the clients over the shared HTTP stack; [`errors`]: set-up errors and failure messages.

pub mod address;
pub mod auth;
mod client;
pub mod errors;
mod holder;
mod lease;
pub mod store;

pub use address::{BlobAddress, is_blob_url};
pub use auth::{BlobCredential, CredentialSources, choose_credential};
pub use errors::BlobStoreError;
pub use store::{BlobStore, BlobStoreOptions, DEFAULT_LEASE, LEASE_ENV, LeaseInfo, Version};
