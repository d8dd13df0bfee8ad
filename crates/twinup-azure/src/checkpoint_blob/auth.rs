//! Credentials for the blob store: a SAS from the URL, `AZURE_STORAGE_CONNECTION_STRING`
//! (an account key becomes a short-lived account SAS signed here, or the SAS it carries), or
//! an Entra ID token from the run's credential chain (role Storage Blob Data Contributor).

use std::sync::Arc;

use async_trait::async_trait;
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::error::{Error, ErrorKind};
use azure_core::time::OffsetDateTime;
use chrono::{DateTime, Duration, Utc};

use super::address::BlobAddress;
use super::errors::BlobStoreError;
use crate::credential::TokenProvider;
use crate::secret::Secret;

/// The storage service version a minted SAS is signed for.
const SAS_VERSION: &str = "2022-11-02";
/// How long a minted SAS is valid: longer than any run, short enough to be harmless if leaked.
const SAS_LIFETIME_HOURS: i64 = 24;
/// The Azurite / storage-emulator account, a published well-known development value.
const DEV_ACCOUNT: &str = "devstoreaccount1";
const DEV_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// How requests to the blob are authorised.
#[derive(Clone)]
pub enum BlobCredential {
    /// A SAS query string added to every request.
    Sas(Secret),
    /// Entra ID bearer tokens for `https://storage.azure.com/.default`.
    Token(Arc<dyn TokenProvider>),
}

impl std::fmt::Debug for BlobCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlobCredential::Sas(_) => f.write_str("Sas(***)"),
            BlobCredential::Token(p) => write!(f, "Token({})", p.name()),
        }
    }
}

/// Where credentials may come from, best first after a SAS in the URL.
#[derive(Default, Clone)]
pub struct CredentialSources {
    /// The value of `AZURE_STORAGE_CONNECTION_STRING`, if set.
    pub connection_string: Option<Secret>,
    /// The run's Azure credential (used only over https).
    pub token_provider: Option<Arc<dyn TokenProvider>>,
}

impl CredentialSources {
    /// Reads `AZURE_STORAGE_CONNECTION_STRING`; `token_provider` is the run's credential.
    pub fn from_env(token_provider: Option<Arc<dyn TokenProvider>>) -> Self {
        CredentialSources {
            connection_string: std::env::var("AZURE_STORAGE_CONNECTION_STRING")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(Secret::new),
            token_provider,
        }
    }
}

/// Picks the credential for `address` and says which one it is (for `-v` logs).
pub fn choose_credential(
    address: &BlobAddress,
    sources: &CredentialSources,
) -> Result<(BlobCredential, &'static str), BlobStoreError> {
    if let Some(sas) = address.sas() {
        return Ok((BlobCredential::Sas(sas.clone()), "the SAS in the URL"));
    }
    if let Some(text) = &sources.connection_string {
        let parsed = ConnectionString::parse(text.expose())?;
        if let Some(sas) = parsed.sas {
            return Ok((
                BlobCredential::Sas(sas),
                "the SAS in AZURE_STORAGE_CONNECTION_STRING",
            ));
        }
        let (Some(name), Some(key)) = (parsed.account_name, parsed.account_key) else {
            return Err(BlobStoreError::ConnectionString(
                "it has neither AccountName with AccountKey nor SharedAccessSignature".to_string(),
            ));
        };
        if name != address.account() {
            return Err(BlobStoreError::ConnectionString(format!(
                "it is for storage account `{name}`, but --checkpoint names account `{}`; use the matching connection string",
                address.account()
            )));
        }
        let sas = account_sas(&name, &key, address.is_https(), Utc::now())?;
        return Ok((
            BlobCredential::Sas(sas),
            "the account key in AZURE_STORAGE_CONNECTION_STRING",
        ));
    }
    match &sources.token_provider {
        Some(provider) if address.is_https() => Ok((
            BlobCredential::Token(provider.clone()),
            "the Azure sign-in (Entra ID)",
        )),
        _ => Err(BlobStoreError::NoCredential {
            url: address.display(),
            message: if address.is_https() {
                "no credential: sign in to Azure (az login, or AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET) with the Storage Blob Data Contributor role, set AZURE_STORAGE_CONNECTION_STRING, or add a SAS to the URL".to_string()
            } else {
                "a local emulator needs AZURE_STORAGE_CONNECTION_STRING (e.g. UseDevelopmentStorage=true for Azurite's default account) or a SAS in the URL".to_string()
            },
        }),
    }
}

/// The parts of a storage connection string twinup uses.
#[derive(Debug, Default)]
struct ConnectionString {
    account_name: Option<String>,
    account_key: Option<Secret>,
    sas: Option<Secret>,
}

impl ConnectionString {
    fn parse(text: &str) -> Result<ConnectionString, BlobStoreError> {
        let mut out = ConnectionString::default();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return Err(BlobStoreError::ConnectionString(format!(
                    "expected Key=Value pairs separated by `;`, found a part without `=` ({} characters)",
                    part.len()
                )));
            };
            match key.trim().to_ascii_lowercase().as_str() {
                "usedevelopmentstorage" if value.trim().eq_ignore_ascii_case("true") => {
                    out.account_name = Some(DEV_ACCOUNT.to_string());
                    out.account_key = Some(Secret::new(DEV_KEY));
                }
                "accountname" => out.account_name = Some(value.trim().to_string()),
                "accountkey" => out.account_key = Some(Secret::new(value.trim())),
                "sharedaccesssignature" => {
                    out.sas = Some(Secret::new(value.trim().trim_start_matches('?')))
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

/// An account SAS for the blob service (objects, containers, service; read, write, delete,
/// list, add, create) valid from 15 minutes ago for [`SAS_LIFETIME_HOURS`].
fn account_sas(
    account: &str,
    key: &Secret,
    https_only: bool,
    now: DateTime<Utc>,
) -> Result<Secret, BlobStoreError> {
    let start = (now - Duration::minutes(15))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let expiry = (now + Duration::hours(SAS_LIFETIME_HOURS))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let (permissions, services, resource_types) = ("rwdlac", "b", "sco");
    let protocol = if https_only { "https" } else { "https,http" };
    let to_sign = string_to_sign(&[
        account,
        permissions,
        services,
        resource_types,
        &start,
        &expiry,
        "",
        protocol,
        SAS_VERSION,
        "",
    ]);
    let key = azure_core::credentials::Secret::new(key.expose().to_string());
    let signature = azure_core::hmac::hmac_sha256(&to_sign, &key).map_err(|_| {
        BlobStoreError::ConnectionString(
            "AccountKey is not valid base64; copy it again from the storage account's Access keys"
                .to_string(),
        )
    })?;
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("sv", SAS_VERSION)
        .append_pair("ss", services)
        .append_pair("srt", resource_types)
        .append_pair("sp", permissions)
        .append_pair("st", &start)
        .append_pair("se", &expiry)
        .append_pair("spr", protocol)
        .append_pair("sig", &signature)
        .finish();
    Ok(Secret::new(query))
}

/// The account-SAS string to sign: each field followed by a newline (version 2020-12-06 on).
fn string_to_sign(fields: &[&str]) -> String {
    fields.iter().map(|f| format!("{f}\n")).collect()
}

/// Lets `azure_storage_blob` get tokens from a twinup [`TokenProvider`] (so the blob store
/// signs in exactly as the rest of the run does).
#[derive(Debug)]
pub(crate) struct ProviderCredential(pub Arc<dyn TokenProvider>);

#[async_trait]
impl TokenCredential for ProviderCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let scope = scopes
            .first()
            .copied()
            .unwrap_or("https://storage.azure.com/.default");
        let token = self
            .0
            .token(scope)
            .await
            .map_err(|e| Error::with_message(ErrorKind::Credential, e.to_string()))?;
        let expires_on = OffsetDateTime::from_unix_timestamp(token.expires_at.timestamp())
            .map_err(|e| Error::with_error(ErrorKind::DataConversion, e, "token expiry"))?;
        Ok(AccessToken::new(
            azure_core::credentials::Secret::new(token.token.expose().to_string()),
            expires_on,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(url: &str) -> BlobAddress {
        BlobAddress::parse(url).unwrap()
    }

    fn with_conn(text: &str) -> CredentialSources {
        CredentialSources {
            connection_string: Some(Secret::new(text)),
            token_provider: None,
        }
    }

    #[test]
    fn a_sas_in_the_url_wins() {
        let a = address("https://acct.blob.core.windows.net/c12/x.json?sv=1&sig=abc");
        let (cred, what) = choose_credential(&a, &with_conn("UseDevelopmentStorage=true")).unwrap();
        assert!(matches!(cred, BlobCredential::Sas(s) if s.expose() == "sv=1&sig=abc"));
        assert_eq!(what, "the SAS in the URL");
    }

    #[test]
    fn an_account_key_becomes_a_signed_account_sas() {
        let a = address("http://127.0.0.1:10000/devstoreaccount1/c12/x.json");
        let (cred, _) = choose_credential(&a, &with_conn("UseDevelopmentStorage=true")).unwrap();
        let BlobCredential::Sas(sas) = cred else {
            panic!("expected a SAS")
        };
        let q = sas.expose();
        for part in [
            "sv=2022-11-02",
            "ss=b",
            "srt=sco",
            "sp=rwdlac",
            "spr=https%2Chttp",
            "sig=",
        ] {
            assert!(q.contains(part), "{part} missing");
        }
    }

    #[test]
    fn the_signature_covers_the_documented_fields() {
        let now = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let a = account_sas("acct", &Secret::new(DEV_KEY), true, now).unwrap();
        let b = account_sas("acct", &Secret::new(DEV_KEY), false, now).unwrap();
        assert_ne!(a.expose(), b.expose(), "the protocol is signed");
        assert!(a.expose().contains("st=2026-01-02T02%3A49%3A05Z"));
        assert!(a.expose().contains("se=2026-01-03T03%3A04%3A05Z"));
        assert_eq!(
            string_to_sign(&["acct", "r", "b"]),
            "acct\nr\nb\n",
            "every field ends with a newline"
        );
    }

    #[test]
    fn connection_strings_for_another_account_or_without_key_are_refused() {
        let a = address("https://acct.blob.core.windows.net/c12/x.json");
        let e = choose_credential(&a, &with_conn("AccountName=other;AccountKey=AAAA"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("account `other`") && e.contains("`acct`"), "{e}");
        let e = choose_credential(&a, &with_conn("AccountName=acct"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("neither"), "{e}");
        let e = choose_credential(&a, &with_conn("AccountName=acct;AccountKey=!!notbase64"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("base64"), "{e}");
    }

    #[test]
    fn without_any_credential_the_error_lists_the_ways() {
        let a = address("https://acct.blob.core.windows.net/c12/x.json");
        let e = choose_credential(&a, &CredentialSources::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("az login") && e.contains("AZURE_STORAGE_CONNECTION_STRING"));
        let local = address("http://127.0.0.1:1/devstoreaccount1/c12/x.json");
        let e = choose_credential(&local, &CredentialSources::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("UseDevelopmentStorage=true"), "{e}");
    }
}
