//! Errors of the blob checkpoint store's set-up (URL, credentials), and the translation of
//! Azure Storage failures into messages that say what is wrong and what to do.

use azure_core::error::ErrorKind;
use twinup_engine::CheckpointError;

/// The blob checkpoint store could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BlobStoreError {
    /// The `--checkpoint` URL is not a usable blob URL.
    #[error("--checkpoint {url}: {message}")]
    BadUrl {
        /// The URL as given, without its query (which may hold a SAS).
        url: String,
        /// What is wrong and the fix.
        message: String,
    },
    /// `AZURE_STORAGE_CONNECTION_STRING` is malformed or for another account.
    #[error("AZURE_STORAGE_CONNECTION_STRING: {0}")]
    ConnectionString(String),
    /// No credential fits the URL.
    #[error("--checkpoint {url}: {message}")]
    NoCredential {
        /// The URL, without its query.
        url: String,
        /// Which credentials could be used.
        message: String,
    },
    /// The Azure Storage client could not be built.
    #[error("cannot set up the Azure Storage client for {url}: {message}")]
    Client {
        /// The URL, without its query.
        url: String,
        /// The reason.
        message: String,
    },
}

impl From<BlobStoreError> for CheckpointError {
    fn from(e: BlobStoreError) -> Self {
        let location = match &e {
            BlobStoreError::BadUrl { url, .. }
            | BlobStoreError::NoCredential { url, .. }
            | BlobStoreError::Client { url, .. } => url.clone(),
            BlobStoreError::ConnectionString(_) => "AZURE_STORAGE_CONNECTION_STRING".to_string(),
        };
        CheckpointError::Remote {
            location,
            message: e.to_string(),
        }
    }
}

/// The storage error code of a failed request (`LeaseAlreadyPresent`, `ConditionNotMet`, ...).
pub(crate) fn error_code(e: &azure_core::Error) -> Option<&str> {
    match e.kind() {
        ErrorKind::HttpResponse { error_code, .. } => error_code.as_deref(),
        _ => None,
    }
}

/// The HTTP status of a failed request, if it got an answer.
pub(crate) fn status(e: &azure_core::Error) -> Option<u16> {
    e.http_status().map(u16::from)
}

/// Advice for HTTP 403 when the requests carry a SAS (from the URL or an account key).
pub(crate) const FORBIDDEN_SAS: &str = "the storage account refused the SAS: check the account key in AZURE_STORAGE_CONNECTION_STRING, or that the SAS is valid, not expired and allows r, a, c, w, d and l; the account's firewall must also let this machine in";
/// Advice for HTTP 403 when the requests carry an Entra ID token.
pub(crate) const FORBIDDEN_TOKEN: &str = "the signed-in principal needs the Storage Blob Data Contributor role on the container or its account (new role assignments take a few minutes to apply), and the account's firewall must let this machine in; or use a SAS or AZURE_STORAGE_CONNECTION_STRING";

/// What went wrong, with advice (`forbidden` for HTTP 403, which depends on the credential),
/// and with any SAS signature taken out.
pub(crate) fn describe(action: &str, e: &azure_core::Error, forbidden: &str) -> String {
    let code = error_code(e).unwrap_or("");
    let advice = match (status(e), code) {
        (Some(403), _) => forbidden,
        (Some(404), "ContainerNotFound") => {
            "the container does not exist: create it first (az storage container create --name <container> --account-name <account>)"
        }
        (Some(404), _) => "the blob or container does not exist",
        (Some(_), _) => "",
        (None, _) => match e.kind() {
            ErrorKind::Credential => {
                "no Entra ID token for Azure Storage: run `az login`, set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or use a SAS or AZURE_STORAGE_CONNECTION_STRING"
            }
            ErrorKind::Connection | ErrorKind::Io => {
                "the storage endpoint could not be reached: check the URL, the network and the proxy"
            }
            // The shared transport fails a refused connection at once (not retried).
            _ if root_cause(e)
                .to_ascii_lowercase()
                .contains("connection refused") =>
            {
                "the storage endpoint could not be reached: check the URL, the network and the proxy"
            }
            _ => "",
        },
    };
    let detail = match (status(e), code) {
        (Some(s), "") => format!("HTTP {s}"),
        (Some(s), c) => format!("HTTP {s} {c}"),
        (None, _) => first_line(&scrub(&root_cause(e))),
    };
    if advice.is_empty() {
        format!("{action} failed ({detail})")
    } else {
        format!("{action} failed ({detail}); {advice}")
    }
}

/// The innermost error's message (e.g. "Connection refused" under "retry policy expired").
fn root_cause(e: &azure_core::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        text = inner.to_string();
        source = inner.source();
    }
    text
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_string()
}

/// Replaces the value of every `sig=` query parameter, so a SAS never reaches a message or log.
pub fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("sig=") {
        out.push_str(&rest[..at + 4]);
        out.push_str("REDACTED");
        let tail = &rest[at + 4..];
        let end = tail
            .find(|c: char| c == '&' || c == ')' || c == '"' || c.is_whitespace())
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_removed_from_text() {
        assert_eq!(
            scrub("GET http://h/c/b?sv=1&sig=abc%2B== (timeout) sig=x"),
            "GET http://h/c/b?sv=1&sig=REDACTED (timeout) sig=REDACTED"
        );
        assert_eq!(scrub("nothing here"), "nothing here");
    }
}
