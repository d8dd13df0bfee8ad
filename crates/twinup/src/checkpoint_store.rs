//! Which checkpoint store a `--checkpoint` value means: a path is a local file
//! ([`FileStore`], whose directory file steps may also write in), an `https://` blob URL (or an emulator's `http://127.0.0.1:...` one) is a
//! checkpoint in Azure Blob Storage ([`BlobStore`]), authorised by a SAS in the URL,
//! `AZURE_STORAGE_CONNECTION_STRING`, or the Azure sign-in.

use std::path::Path;
use std::sync::Arc;

use twinup_azure::checkpoint_blob::{
    BlobAddress, BlobStore, BlobStoreOptions, CredentialSources, choose_credential, is_blob_url,
};
use twinup_azure::credential::{ChainSettings, provider_for};
use twinup_azure::{HttpClient, HttpConfig};
use twinup_engine::CheckpointError;
use twinup_engine::checkpoint::{CheckpointStore, FileStore};

use crate::failure::Failure;

/// The blob URL in a `--checkpoint` value, if it is one.
pub fn blob_url(arg: &Path) -> Option<&str> {
    arg.to_str().filter(|s| is_blob_url(s))
}

/// The store for a `--checkpoint` value: a blob for a URL, else a local file.
pub fn checkpoint_store_for(arg: &Path) -> Result<Arc<dyn CheckpointStore>, Failure> {
    match blob_url(arg) {
        Some(url) => Ok(Arc::new(blob_store_for(url)?)),
        None => {
            // File steps may write beside a local checkpoint as in the working directory.
            let dir = arg.parent().filter(|d| !d.as_os_str().is_empty());
            twinup_engine::kinds::local_path::allow_root(dir.unwrap_or(Path::new(".")));
            Ok(Arc::new(FileStore::new(arg)))
        }
    }
}

/// The blob store for `url`, with the first credential that fits (a SAS in the URL,
/// `AZURE_STORAGE_CONNECTION_STRING`, then the Azure sign-in of the blob's cloud).
pub fn blob_store_for(url: &str) -> Result<BlobStore, Failure> {
    let failed =
        |e: twinup_azure::checkpoint_blob::BlobStoreError| Failure::from(CheckpointError::from(e));
    let address = BlobAddress::parse(url).map_err(failed)?;
    let http = HttpClient::new(&HttpConfig::default())
        .map_err(|e| Failure::bad_input(format!("cannot set up HTTPS: {e}")))?;
    // The sign-in is only used over https, and asks for a token only when a request needs one.
    let tokens = if address.is_https() {
        provider_for(&address.cloud(), &http, &ChainSettings::from_env(None)).ok()
    } else {
        None
    };
    let (credential, which) =
        choose_credential(&address, &CredentialSources::from_env(tokens)).map_err(failed)?;
    tracing::info!(checkpoint = %address.display(), "blob checkpoint, authorised by {which}");
    let options = BlobStoreOptions::from_env().map_err(failed)?;
    BlobStore::new(address, &credential, &http, options).map_err(failed)
}
