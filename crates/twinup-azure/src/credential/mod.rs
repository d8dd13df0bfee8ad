//! Access tokens: the [`TokenProvider`] trait, a per-scope cache, and the implementations
//! (plain client credentials for the emulator, and the `azure_identity` chain for real Azure).

pub mod chain;
pub mod claims;
pub mod client_credentials;
pub mod transport;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::cloud::Cloud;
use crate::errors::{AzureError, Result};
use crate::http::HttpClient;
use crate::secret::Secret;
pub use chain::{AzureIdentityChain, ChainSettings};
pub use claims::{Claims, decode_claims};
pub use client_credentials::ClientCredentials;

/// A bearer token and when it expires.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The token (never logged).
    pub token: Secret,
    /// Expiry time.
    pub expires_at: DateTime<Utc>,
}

impl AccessToken {
    /// The caller's identity claims (decoded without verification).
    pub fn claims(&self) -> Result<Claims> {
        decode_claims(self.token.expose())
    }
}

/// Something that can get a token for a scope (`{resource}/.default`).
#[async_trait]
pub trait TokenProvider: Send + Sync + std::fmt::Debug {
    /// Which credential produced (or will produce) the tokens, e.g. `AzureCliCredential`.
    fn name(&self) -> String;
    /// A token for `scope`.
    async fn token(&self, scope: &str) -> Result<AccessToken>;
    /// Forgets a cached token for `scope` (a service said it expired), so the next
    /// [`TokenProvider::token`] asks for a fresh one. Providers without a cache do nothing.
    async fn invalidate(&self, _scope: &str) {}
}

/// Caches tokens per scope until shortly before expiry, so a run asks once per audience.
/// Concurrent callers of the same scope wait for one request.
#[derive(Debug)]
pub struct CachedTokenProvider {
    inner: Arc<dyn TokenProvider>,
    margin: Duration,
    cache: tokio::sync::Mutex<HashMap<String, AccessToken>>,
}

impl CachedTokenProvider {
    /// Wraps a provider; tokens are refreshed 5 minutes before they expire.
    pub fn new(inner: Arc<dyn TokenProvider>) -> Self {
        CachedTokenProvider {
            inner,
            margin: Duration::minutes(5),
            cache: tokio::sync::Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait]
impl TokenProvider for CachedTokenProvider {
    fn name(&self) -> String {
        self.inner.name()
    }

    async fn token(&self, scope: &str) -> Result<AccessToken> {
        let mut cache = self.cache.lock().await;
        if let Some(hit) = cache.get(scope)
            && hit.expires_at - self.margin > Utc::now()
        {
            return Ok(hit.clone());
        }
        let fresh = self.inner.token(scope).await?;
        tracing::debug!(credential = %self.inner.name(), scope, expires_at = %fresh.expires_at, "token acquired");
        cache.insert(scope.to_string(), fresh.clone());
        Ok(fresh)
    }

    async fn invalidate(&self, scope: &str) {
        self.cache.lock().await.remove(scope);
        self.inner.invalidate(scope).await;
    }
}

/// The token provider for a cloud, cached per scope: plain client credentials for the local
/// emulator (and custom clouds whose authority is plain-http loopback, which azure_identity
/// refuses), else the `azure_identity` chain.
pub fn provider_for(
    cloud: &Cloud,
    http: &HttpClient,
    settings: &ChainSettings,
) -> Result<Arc<dyn TokenProvider>> {
    let endpoints = cloud.endpoints()?;
    let plain_loopback = endpoints.authority_host.scheme() == "http";
    if endpoints.local || plain_loopback {
        let missing = |what: &str| AzureError::Config {
            setting: what.to_string(),
            message: format!(
                "the local token endpoint needs {what}; the emulator prints the values to use"
            ),
        };
        let tenant = settings
            .tenant_id
            .clone()
            .ok_or_else(|| missing("AZURE_TENANT_ID"))?;
        let client = settings
            .client_id
            .clone()
            .ok_or_else(|| missing("AZURE_CLIENT_ID"))?;
        let secret = settings
            .client_secret
            .clone()
            .ok_or_else(|| missing("AZURE_CLIENT_SECRET"))?;
        let provider =
            ClientCredentials::new(http.clone(), endpoints.token_url(&tenant)?, client, secret);
        return Ok(cached(Arc::new(provider)));
    }
    Ok(cached(Arc::new(AzureIdentityChain::new(
        http, cloud, settings,
    ))))
}

/// Wraps a provider in a [`CachedTokenProvider`].
pub fn cached(inner: Arc<dyn TokenProvider>) -> Arc<dyn TokenProvider> {
    Arc::new(CachedTokenProvider::new(inner))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Debug, Default)]
    struct Counting {
        calls: AtomicUsize,
        lifetime_secs: i64,
    }

    #[async_trait]
    impl TokenProvider for Counting {
        fn name(&self) -> String {
            "Counting".into()
        }
        async fn token(&self, scope: &str) -> Result<AccessToken> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(AccessToken {
                token: Secret::new(format!("{scope}-{n}")),
                expires_at: Utc::now() + Duration::seconds(self.lifetime_secs),
            })
        }
    }

    #[tokio::test]
    async fn one_request_per_scope() {
        let inner = Arc::new(Counting {
            lifetime_secs: 3600,
            ..Default::default()
        });
        let p = CachedTokenProvider::new(inner.clone());
        let a1 = p.token("arm").await.unwrap();
        let a2 = p.token("arm").await.unwrap();
        let g = p.token("graph").await.unwrap();
        assert_eq!(a1.token, a2.token);
        assert_ne!(a1.token, g.token);
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
        assert_eq!(p.name(), "Counting");
    }

    #[tokio::test]
    async fn near_expiry_tokens_are_refreshed() {
        let inner = Arc::new(Counting {
            lifetime_secs: 60,
            ..Default::default()
        });
        let p = CachedTokenProvider::new(inner.clone());
        p.token("arm").await.unwrap();
        p.token("arm").await.unwrap();
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
    }
}
