//! Error types of the Azure clients and step kinds: what failed, and what the user can do about it.

use std::time::Duration;

/// Result alias used throughout the crate.
pub type Result<T, E = AzureError> = std::result::Result<T, E>;

/// An error body returned by Azure Resource Manager (`{"error":{"code","message"}}`), with context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmError {
    /// HTTP status of the failed response.
    pub status: u16,
    /// ARM error code, e.g. `AuthorizationFailed` (empty if the body had none).
    pub code: String,
    /// ARM error message.
    pub message: String,
    /// `x-ms-request-id` of the response, for support requests.
    pub request_id: Option<String>,
    /// HTTP method of the request.
    pub method: String,
    /// Path of the request (no query string).
    pub path: String,
}

impl ArmError {
    /// A short advice line for well-known codes.
    pub fn hint(&self) -> Option<String> {
        let scope = scope_of(&self.path);
        match self.code.as_str() {
            "AuthorizationFailed" => Some(format!(
                "the signed-in principal needs Owner or User Access Administrator (or Contributor for resource writes) on {scope}; ask an administrator to grant it, or sign in as another principal"
            )),
            "InvalidAuthenticationToken" | "ExpiredAuthenticationToken" | "AuthenticationFailed" => Some(
                "the access token was rejected; sign in again (az login) or check the tenant and cloud settings".into(),
            ),
            "ResourceGroupNotFound" => {
                Some("create the resource group first (add an azure.resource_group step)".into())
            }
            "SubscriptionNotFound" | "InvalidSubscriptionId" => Some(
                "check --subscription; `az account list` shows the subscriptions you can use".into(),
            ),
            "MissingSubscriptionRegistration" => Some(
                "register the resource provider: az provider register --namespace <namespace named above>".into(),
            ),
            "PrincipalNotFound" => Some(
                "the principal does not exist yet in this tenant (directory replication can lag a few minutes); retry later or check the object id".into(),
            ),
            "SubscriptionRequestsThrottled" | "TooManyRequests" => {
                Some("Azure throttled the requests; wait a minute and run twinup again".into())
            }
            _ => None,
        }
    }
}

impl ArmError {
    /// What failed, without the code and the hint: for a step error, which carries those in
    /// their own fields (so a failure shows each once).
    pub fn summary(&self) -> String {
        let mut out = format!(
            "{} {} failed with HTTP {}",
            self.method, self.path, self.status
        );
        if !self.message.is_empty() {
            out.push_str(&format!(": {}", self.message));
        }
        if let Some(id) = &self.request_id {
            out.push_str(&format!(" [request id {id}]"));
        }
        out
    }
}

impl std::fmt::Display for ArmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} failed with HTTP {}",
            self.method, self.path, self.status
        )?;
        if !self.code.is_empty() {
            write!(f, " ({})", self.code)?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(hint) = self.hint() {
            write!(f, "; {hint}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

/// An error body returned by Microsoft Graph (`{"error":{"code","message","innerError"}}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    /// HTTP status of the failed response.
    pub status: u16,
    /// Graph error code, e.g. `Request_ResourceNotFound`.
    pub code: String,
    /// Graph error message.
    pub message: String,
    /// `request-id` header or `innerError.request-id`.
    pub request_id: Option<String>,
    /// HTTP method of the request.
    pub method: String,
    /// Path of the request (no query string).
    pub path: String,
}

impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Microsoft Graph {} {} failed with HTTP {}",
            self.method, self.path, self.status
        )?;
        if !self.code.is_empty() {
            write!(f, " ({})", self.code)?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if self.code == "Authorization_RequestDenied" || self.status == 403 {
            write!(
                f,
                "; the signed-in principal needs the Application Developer role or the Application.ReadWrite.All permission (admin consent needs a Privileged Role Administrator)"
            )?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

/// One credential of a chain that could not produce a token, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialAttempt {
    /// Credential name, e.g. `AzureCliCredential`.
    pub credential: String,
    /// Why it failed (never contains secrets).
    pub reason: String,
}

/// Every error this crate returns.
#[derive(Debug, thiserror::Error)]
pub enum AzureError {
    /// A setting (flag, environment variable, plan field) is invalid.
    #[error("invalid setting {setting}: {message}")]
    Config {
        /// Flag or setting name, e.g. `--arm-endpoint`.
        setting: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The HTTP client could not be built (e.g. an unreadable CA file).
    #[error("could not set up HTTPS: {0}")]
    HttpSetup(String),
    /// A request never got an HTTP response (connection refused, timeout, TLS failure).
    #[error(
        "{method} {url} failed after {attempts} attempt(s): {message}; check the network, proxy and CA settings (--ca-file or SSL_CERT_FILE)"
    )]
    Transport {
        /// HTTP method.
        method: String,
        /// URL without query string.
        url: String,
        /// How many times the request was tried.
        attempts: u32,
        /// Description of the last failure.
        message: String,
    },
    /// The server's TLS certificate is not trusted: retrying cannot help.
    #[error(
        "{method} {url}: the server's TLS certificate is not trusted ({message}); if a proxy or a private CA signs it, point SSL_CERT_FILE (or --ca-file) at a PEM file with that CA; otherwise check the endpoint"
    )]
    UntrustedCertificate {
        /// HTTP method.
        method: String,
        /// URL without query string.
        url: String,
        /// The TLS library's reason.
        message: String,
    },
    /// Nothing listens at the endpoint: retrying cannot help.
    #[error(
        "{method} {url}: connection refused ({message}); nothing listens there: check the URL (for Azure: --authority-host, --arm-endpoint, --graph-endpoint) and that the service is running"
    )]
    ConnectionRefused {
        /// HTTP method.
        method: String,
        /// URL without query string.
        url: String,
        /// The system's reason.
        message: String,
    },
    /// ARM answered with an error.
    #[error("{0}")]
    Arm(Box<ArmError>),
    /// Microsoft Graph answered with an error.
    #[error("{0}")]
    Graph(Box<GraphError>),
    /// A token request was refused.
    #[error("{credential} could not get a token for {scope}: {message}")]
    Credential {
        /// Credential name.
        credential: String,
        /// Requested scope.
        scope: String,
        /// Reason, without secrets.
        message: String,
    },
    /// The token endpoint kept failing (5xx after every retry): a transient outage, not bad
    /// credentials.
    #[error(
        "{credential} could not get a token for {scope}: the token endpoint kept answering HTTP {status} ({message}); this is usually temporary, run twinup again"
    )]
    TokenEndpointUnavailable {
        /// Credential name.
        credential: String,
        /// Requested scope.
        scope: String,
        /// The last HTTP status.
        status: u16,
        /// The endpoint's error text, without secrets.
        message: String,
    },
    /// No credential of the chain produced a token.
    #[error("no Azure credential could get a token for {scope}:{}\n  sign in with `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET", format_attempts(.attempts))]
    NoCredential {
        /// Requested scope.
        scope: String,
        /// Each credential tried, in order, with its failure.
        attempts: Vec<CredentialAttempt>,
    },
    /// A long-running operation ended in Failed or Canceled.
    #[error("{what} ended as {status}: {code}: {message}")]
    OperationFailed {
        /// What was being done, e.g. `creating digital twins instance adt-1`.
        what: String,
        /// Terminal status (`Failed` or `Canceled`).
        status: String,
        /// Operation error code.
        code: String,
        /// Operation error message.
        message: String,
    },
    /// A long-running operation did not finish in time.
    #[error(
        "{what} did not finish within {}s; it may still be running in Azure. Run twinup again to resume waiting, or raise the timeout",
        .waited.as_secs()
    )]
    OperationTimeout {
        /// What was being waited for.
        what: String,
        /// How long we waited.
        waited: Duration,
    },
    /// A response could not be understood.
    #[error("unexpected response from {what}: {message}")]
    Decode {
        /// What answered.
        what: String,
        /// What was wrong with it.
        message: String,
    },
    /// A local file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// e.g. `could not write`.
        action: &'static str,
        /// File path.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A domain rule failed (name taken, principal never appeared, ...). The message says what to do.
    #[error("{0}")]
    Rule(String),
}

impl AzureError {
    /// The ARM error, if this is one.
    pub fn arm(&self) -> Option<&ArmError> {
        match self {
            AzureError::Arm(e) => Some(e),
            _ => None,
        }
    }

    /// The Graph error, if this is one.
    pub fn graph(&self) -> Option<&GraphError> {
        match self {
            AzureError::Graph(e) => Some(e),
            _ => None,
        }
    }

    /// True for failures that a later run may not meet: no response at all, or a token
    /// endpoint that kept answering 5xx.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            AzureError::Transport { .. } | AzureError::TokenEndpointUnavailable { .. }
        )
    }

    /// True if ARM or Graph answered 403 (the caller may not make this call).
    pub fn is_forbidden(&self) -> bool {
        self.arm().map(|e| e.status == 403).unwrap_or(false)
            || self.graph().map(|e| e.status == 403).unwrap_or(false)
    }

    /// True if ARM answered with this error code.
    pub fn has_code(&self, code: &str) -> bool {
        self.arm()
            .is_some_and(|e| e.code.eq_ignore_ascii_case(code))
    }

    /// True if ARM or Graph answered 404.
    pub fn is_not_found(&self) -> bool {
        self.arm().map(|e| e.status == 404).unwrap_or(false)
            || self.graph().map(|e| e.status == 404).unwrap_or(false)
    }
}

fn format_attempts(attempts: &[CredentialAttempt]) -> String {
    attempts
        .iter()
        .map(|a| format!("\n  - {}: {}", a.credential, a.reason))
        .collect()
}

/// The scope named in advice: the request path, which ARM checks permissions against.
fn scope_of(path: &str) -> &str {
    if path.is_empty() {
        "the target scope"
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_failed_names_roles_and_scope() {
        let e = ArmError {
            status: 403,
            code: "AuthorizationFailed".into(),
            message: "no access".into(),
            request_id: Some("r1".into()),
            method: "PUT".into(),
            path: "/subscriptions/s/resourceGroups/rg".into(),
        };
        let text = e.to_string();
        assert!(
            text.contains("Owner or User Access Administrator"),
            "{text}"
        );
        assert!(
            text.contains("/subscriptions/s/resourceGroups/rg"),
            "{text}"
        );
        assert!(text.contains("request id r1"), "{text}");
    }

    #[test]
    fn no_credential_lists_every_attempt() {
        let e = AzureError::NoCredential {
            scope: "https://management.azure.com/.default".into(),
            attempts: vec![
                CredentialAttempt {
                    credential: "ClientSecretCredential".into(),
                    reason: "AZURE_CLIENT_SECRET not set".into(),
                },
                CredentialAttempt {
                    credential: "AzureCliCredential".into(),
                    reason: "az not found".into(),
                },
            ],
        };
        let text = e.to_string();
        assert!(text.contains("ClientSecretCredential: AZURE_CLIENT_SECRET not set"));
        assert!(text.contains("AzureCliCredential: az not found"));
        assert!(text.contains("az login"));
    }
}
