//! Builds the `azure_storage_blob` clients for one checkpoint blob: requests go through the
//! shared reqwest client (see `credential/transport.rs`), authorised by a SAS or Entra ID.

use std::sync::Arc;

use azure_core::http::{ClientOptions, ExponentialRetryOptions, RetryOptions, Transport, Url};
use azure_storage_blob::{
    BlobClient, BlobClientOptions, BlobContainerClient, BlobContainerClientOptions,
};

use super::address::BlobAddress;
use super::auth::{BlobCredential, ProviderCredential};
use super::errors::{BlobStoreError, scrub};
use crate::credential::transport::ReqwestTransport;
use crate::http::HttpClient;

/// The clients for the checkpoint blob and its container.
pub(crate) struct Clients {
    pub blob: Arc<BlobClient>,
    pub container: BlobContainerClient,
}

/// Retries of one request: a few, within 20 s (azure_core's default keeps a command waiting
/// for over a minute on an unreachable endpoint).
fn retry() -> RetryOptions {
    RetryOptions::exponential(ExponentialRetryOptions {
        initial_delay: azure_core::time::Duration::milliseconds(500),
        max_retries: 4,
        max_total_elapsed: azure_core::time::Duration::seconds(20),
        max_delay: azure_core::time::Duration::seconds(5),
    })
}

fn client_options(http: &HttpClient) -> ClientOptions {
    ClientOptions {
        transport: Some(Transport::new(Arc::new(ReqwestTransport::new(http, None)))),
        retry: retry(),
        ..ClientOptions::default()
    }
}

fn with_sas(mut url: Url, credential: &BlobCredential) -> Url {
    if let BlobCredential::Sas(sas) = credential {
        url.set_query(Some(sas.expose()));
    }
    url
}

impl Clients {
    pub fn new(
        address: &BlobAddress,
        credential: &BlobCredential,
        http: &HttpClient,
    ) -> Result<Clients, BlobStoreError> {
        let token = match credential {
            BlobCredential::Token(provider) => Some(Arc::new(ProviderCredential(provider.clone()))
                as Arc<dyn azure_core::credentials::TokenCredential>),
            BlobCredential::Sas(_) => None,
        };
        let failed = |e: azure_core::Error| BlobStoreError::Client {
            url: address.display(),
            message: scrub(&e.to_string()),
        };
        let blob = BlobClient::new(
            with_sas(address.blob_url(), credential),
            token.clone(),
            Some(BlobClientOptions {
                client_options: client_options(http),
                ..BlobClientOptions::default()
            }),
        )
        .map_err(failed)?;
        let container = BlobContainerClient::new(
            with_sas(address.container_url(), credential),
            token,
            Some(BlobContainerClientOptions {
                client_options: client_options(http),
                ..BlobContainerClientOptions::default()
            }),
        )
        .map_err(failed)?;
        Ok(Clients {
            blob: Arc::new(blob),
            container,
        })
    }
}
