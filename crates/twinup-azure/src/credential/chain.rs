//! The `azure_identity` credential chain for real Azure: client secret (environment), workload
//! identity, managed identity, then the Azure CLI. The first that yields a token is kept for the
//! rest of the run; if none does, the error lists each one and why it failed.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientOptions, RetryOptions, Transport};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertionCredentialOptions,
    ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};
use chrono::{DateTime, Utc};

use super::transport::ReqwestTransport;
use super::{AccessToken, TokenProvider};
use crate::cloud::Cloud;
use crate::errors::{AzureError, CredentialAttempt, Result};
use crate::http::HttpClient;
use crate::secret::Secret;

/// Inputs of the chain, normally read from the environment with [`ChainSettings::from_env`].
#[derive(Debug, Clone, Default)]
pub struct ChainSettings {
    /// `AZURE_TENANT_ID` (or `--tenant`).
    pub tenant_id: Option<String>,
    /// `AZURE_CLIENT_ID`.
    pub client_id: Option<String>,
    /// `AZURE_CLIENT_SECRET`.
    pub client_secret: Option<Secret>,
    /// `AZURE_FEDERATED_TOKEN_FILE` (workload identity).
    pub federated_token_file: Option<PathBuf>,
}

impl ChainSettings {
    /// Reads the standard `AZURE_*` variables; `tenant_override` wins over `AZURE_TENANT_ID`.
    pub fn from_env(tenant_override: Option<String>) -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        ChainSettings {
            tenant_id: tenant_override.or_else(|| var("AZURE_TENANT_ID")),
            client_id: var("AZURE_CLIENT_ID"),
            client_secret: var("AZURE_CLIENT_SECRET").map(Secret::new),
            federated_token_file: var("AZURE_FEDERATED_TOKEN_FILE").map(PathBuf::from),
        }
    }
}

enum Entry {
    Ready(&'static str, Arc<dyn TokenCredential>),
    Unavailable(&'static str, String),
}

impl Entry {
    fn name(&self) -> &'static str {
        match self {
            Entry::Ready(n, _) | Entry::Unavailable(n, _) => n,
        }
    }
}

/// The chain of `azure_identity` credentials.
pub struct AzureIdentityChain {
    entries: Vec<Entry>,
    chosen: Mutex<Option<usize>>,
}

impl std::fmt::Debug for AzureIdentityChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.entries.iter().map(Entry::name).collect();
        f.debug_struct("AzureIdentityChain")
            .field("credentials", &names)
            .finish_non_exhaustive()
    }
}

fn client_options(http: &HttpClient, cloud: &Cloud, limit: Option<Duration>) -> ClientOptions {
    let cloud = match cloud {
        Cloud::Public => CloudConfiguration::AzurePublic,
        Cloud::China => CloudConfiguration::AzureChina,
        Cloud::UsGov => CloudConfiguration::AzureGovernment,
        Cloud::Custom { authority_host, .. }
        | Cloud::Local {
            url: authority_host,
        } => {
            let mut custom = CustomConfiguration::default();
            custom.authority_host = authority_host.trim_end_matches('/').to_string();
            CloudConfiguration::Custom(custom)
        }
    };
    let mut options = ClientOptions {
        transport: Some(Transport::new(Arc::new(ReqwestTransport::new(http, limit)))),
        cloud: Some(Arc::new(cloud)),
        ..ClientOptions::default()
    };
    if limit.is_some() {
        options.retry = RetryOptions::none();
    }
    options
}

fn core_error(e: azure_core::Error) -> String {
    // azure_identity appends a troubleshooting link on a new line; keep first lines. The cause
    // (an untrusted certificate, say) is in the source chain: keep what it adds.
    let first = |t: String| t.lines().next().unwrap_or("").trim().to_string();
    let mut out = first(e.to_string());
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let line = first(s.to_string());
        if !line.is_empty() && !out.contains(&line) {
            out = format!("{out}: {line}");
        }
        source = s.source();
    }
    out
}

impl AzureIdentityChain {
    /// Builds the chain. Credentials that cannot be constructed (missing settings) are kept
    /// as "unavailable" entries so that a failure can explain them.
    pub fn new(http: &HttpClient, cloud: &Cloud, settings: &ChainSettings) -> Self {
        let mut entries = Vec::new();

        const SECRET: &str = "ClientSecretCredential";
        entries.push(
            match (
                &settings.tenant_id,
                &settings.client_id,
                &settings.client_secret,
            ) {
                (Some(tenant), Some(client), Some(secret)) => {
                    let options = ClientSecretCredentialOptions {
                        client_options: client_options(http, cloud, None),
                    };
                    match ClientSecretCredential::new(
                        tenant,
                        client.clone(),
                        azure_core::credentials::Secret::new(secret.expose().to_string()),
                        Some(options),
                    ) {
                        Ok(c) => Entry::Ready(SECRET, c),
                        Err(e) => Entry::Unavailable(SECRET, core_error(e)),
                    }
                }
                _ => Entry::Unavailable(
                    SECRET,
                    missing(&[
                        ("AZURE_TENANT_ID", settings.tenant_id.is_some()),
                        ("AZURE_CLIENT_ID", settings.client_id.is_some()),
                        ("AZURE_CLIENT_SECRET", settings.client_secret.is_some()),
                    ]),
                ),
            },
        );

        const WORKLOAD: &str = "WorkloadIdentityCredential";
        entries.push(
            match (
                &settings.tenant_id,
                &settings.client_id,
                &settings.federated_token_file,
            ) {
                (Some(tenant), Some(client), Some(file)) => {
                    let options = WorkloadIdentityCredentialOptions {
                        credential_options: ClientAssertionCredentialOptions {
                            client_options: client_options(http, cloud, None),
                        },
                        client_id: Some(client.clone()),
                        tenant_id: Some(tenant.clone()),
                        token_file_path: Some(file.clone()),
                    };
                    match WorkloadIdentityCredential::new(Some(options)) {
                        Ok(c) => Entry::Ready(WORKLOAD, c),
                        Err(e) => Entry::Unavailable(WORKLOAD, core_error(e)),
                    }
                }
                _ => Entry::Unavailable(
                    WORKLOAD,
                    missing(&[
                        ("AZURE_TENANT_ID", settings.tenant_id.is_some()),
                        ("AZURE_CLIENT_ID", settings.client_id.is_some()),
                        (
                            "AZURE_FEDERATED_TOKEN_FILE",
                            settings.federated_token_file.is_some(),
                        ),
                    ]),
                ),
            },
        );

        const MANAGED: &str = "ManagedIdentityCredential";
        // Off Azure the identity endpoint does not answer: keep that probe short.
        let options = ManagedIdentityCredentialOptions {
            user_assigned_id: match (&settings.client_id, &settings.client_secret) {
                (Some(id), None) if settings.federated_token_file.is_none() => {
                    Some(UserAssignedId::ClientId(id.clone()))
                }
                _ => None,
            },
            client_options: client_options(http, cloud, Some(Duration::from_secs(3))),
        };
        entries.push(match ManagedIdentityCredential::new(Some(options)) {
            Ok(c) => Entry::Ready(MANAGED, c),
            Err(e) => Entry::Unavailable(MANAGED, core_error(e)),
        });

        const CLI: &str = "AzureCliCredential";
        let options = AzureCliCredentialOptions {
            tenant_id: settings.tenant_id.clone(),
            ..AzureCliCredentialOptions::default()
        };
        entries.push(match AzureCliCredential::new(Some(options)) {
            Ok(c) => Entry::Ready(CLI, c),
            Err(e) => Entry::Unavailable(CLI, core_error(e)),
        });

        AzureIdentityChain {
            entries,
            chosen: Mutex::new(None),
        }
    }

    fn chosen(&self) -> Option<usize> {
        self.chosen.lock().ok().and_then(|g| *g)
    }

    fn choose(&self, index: usize) {
        if let Ok(mut g) = self.chosen.lock() {
            *g = Some(index);
        }
    }
}

/// The first entries of the chain (client secret, workload identity) are configured explicitly
/// through the environment.
const EXPLICIT_CREDENTIALS: usize = 2;

/// How an entry whose settings are absent explains itself.
const NOT_CONFIGURED: &str = "not configured";

fn explicit_failure(name: &str, scope: &str, reason: &str) -> AzureError {
    AzureError::Credential {
        credential: name.to_string(),
        scope: scope.to_string(),
        message: format!(
            "{reason}; it is configured in the environment (AZURE_CLIENT_ID with AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE), so managed identity and the Azure CLI were not tried (they could sign in as someone else): fix those variables, or unset them to use `az login`"
        ),
    }
}

fn missing(vars: &[(&str, bool)]) -> String {
    let absent: Vec<&str> = vars
        .iter()
        .filter(|(_, set)| !set)
        .map(|(n, _)| *n)
        .collect();
    format!("{NOT_CONFIGURED} ({} not set)", absent.join(", "))
}

async fn get(cred: &Arc<dyn TokenCredential>, scope: &str) -> azure_core::Result<AccessToken> {
    let token = cred.get_token(&[scope], None).await?;
    let expires_at = DateTime::<Utc>::from_timestamp(token.expires_on.unix_timestamp(), 0)
        .unwrap_or_else(Utc::now);
    Ok(AccessToken {
        token: Secret::new(token.token.secret().to_string()),
        expires_at,
    })
}

#[async_trait]
impl TokenProvider for AzureIdentityChain {
    fn name(&self) -> String {
        match self.chosen() {
            Some(i) => self.entries[i].name().to_string(),
            None => "azure-identity chain (not used yet)".to_string(),
        }
    }

    async fn token(&self, scope: &str) -> Result<AccessToken> {
        if let Some(i) = self.chosen()
            && let Entry::Ready(name, cred) = &self.entries[i]
        {
            return get(cred, scope).await.map_err(|e| AzureError::Credential {
                credential: name.to_string(),
                scope: scope.to_string(),
                message: core_error(e),
            });
        }
        let mut attempts = Vec::new();
        for (i, entry) in self.entries.iter().enumerate() {
            // A credential the environment configures explicitly (a client secret, a federated
            // token file) that fails is the answer: falling through to managed identity or the
            // Azure CLI could sign in as someone else.
            let explicit = i < EXPLICIT_CREDENTIALS;
            match entry {
                Entry::Unavailable(name, reason) => {
                    if explicit && !reason.starts_with(NOT_CONFIGURED) {
                        return Err(explicit_failure(name, scope, reason));
                    }
                    attempts.push(CredentialAttempt {
                        credential: name.to_string(),
                        reason: reason.clone(),
                    })
                }
                Entry::Ready(name, cred) => match get(cred, scope).await {
                    Ok(token) => {
                        tracing::info!(credential = name, "signed in to Azure");
                        self.choose(i);
                        return Ok(token);
                    }
                    Err(e) if explicit => {
                        return Err(explicit_failure(name, scope, &core_error(e)));
                    }
                    Err(e) => attempts.push(CredentialAttempt {
                        credential: name.to_string(),
                        reason: core_error(e),
                    }),
                },
            }
        }
        Err(AzureError::NoCredential {
            scope: scope.to_string(),
            attempts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpConfig;

    #[test]
    fn unconfigured_credentials_say_which_variables_are_missing() {
        let http = HttpClient::new(&HttpConfig::default()).unwrap();
        let settings = ChainSettings {
            tenant_id: Some("00000000-0000-0000-0000-000000000001".into()),
            client_id: None,
            client_secret: None,
            federated_token_file: None,
        };
        let chain = AzureIdentityChain::new(&http, &Cloud::Public, &settings);
        let Entry::Unavailable(_, reason) = &chain.entries[0] else {
            panic!("client secret credential should be unavailable");
        };
        assert!(reason.contains("AZURE_CLIENT_ID"), "{reason}");
        assert!(reason.contains("AZURE_CLIENT_SECRET"), "{reason}");
        assert!(!reason.contains("AZURE_TENANT_ID"), "{reason}");
        let names: Vec<&str> = chain.entries.iter().map(Entry::name).collect();
        assert_eq!(
            names,
            [
                "ClientSecretCredential",
                "WorkloadIdentityCredential",
                "ManagedIdentityCredential",
                "AzureCliCredential"
            ]
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let settings = ChainSettings {
            tenant_id: Some("t".into()),
            client_id: Some("c".into()),
            client_secret: Some(Secret::new("super-secret-value")),
            federated_token_file: None,
        };
        let http = HttpClient::new(&HttpConfig::default()).unwrap();
        let chain = AzureIdentityChain::new(&http, &Cloud::Public, &settings);
        assert!(!format!("{settings:?}").contains("super-secret-value"));
        assert!(!format!("{chain:?}").contains("super-secret-value"));
    }
}
