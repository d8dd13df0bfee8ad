//! Azure clouds and their endpoints (login authority, ARM, Microsoft Graph) and token scopes.

use url::Url;

use crate::errors::{AzureError, Result};

/// Public-cloud ARM token scope; also used for custom clouds and the local emulator.
pub const PUBLIC_ARM_SCOPE: &str = "https://management.azure.com/.default";
/// Public-cloud Graph token scope; also used for custom clouds and the local emulator.
pub const PUBLIC_GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// Which Azure cloud to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cloud {
    /// Azure public cloud.
    Public,
    /// Azure operated by 21Vianet (China).
    China,
    /// Azure US Government.
    UsGov,
    /// A cloud with explicitly given endpoints (Azure Stack, sovereign clouds, proxies).
    Custom {
        /// Login authority, e.g. `https://login.example.com` (flag `--authority-host`).
        authority_host: String,
        /// ARM endpoint (flag `--arm-endpoint`).
        arm: String,
        /// Microsoft Graph endpoint (flag `--graph-endpoint`).
        graph: String,
    },
    /// The local emulator: one URL serves the token endpoint, ARM and Graph (flag `--emulator-url`).
    Local {
        /// Emulator base URL, e.g. `http://127.0.0.1:8443`.
        url: String,
    },
}

/// Resolved endpoints of a cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Login authority; the token endpoint is `{authority_host}/{tenant}/oauth2/v2.0/token`.
    pub authority_host: Url,
    /// ARM base URL.
    pub arm: Url,
    /// Microsoft Graph base URL (without `/v1.0`).
    pub graph: Url,
    /// Token scope for ARM.
    pub arm_scope: String,
    /// Token scope for Microsoft Graph.
    pub graph_scope: String,
    /// True for the local emulator (plain client-credentials over loopback).
    pub local: bool,
}

impl Endpoints {
    /// The OAuth2 v2.0 token endpoint of a tenant.
    pub fn token_url(&self, tenant: &str) -> Result<Url> {
        join(
            &self.authority_host,
            &format!("{tenant}/oauth2/v2.0/token"),
            "--tenant",
        )
    }
}

impl Cloud {
    /// Parses a cloud name as given on the command line: `public`, `china`, `usgov`.
    pub fn from_name(name: &str) -> Result<Cloud> {
        match name.to_ascii_lowercase().as_str() {
            "public" | "azurecloud" | "azurepubliccloud" => Ok(Cloud::Public),
            "china" | "azurechinacloud" => Ok(Cloud::China),
            "usgov" | "azureusgovernment" => Ok(Cloud::UsGov),
            other => Err(AzureError::Config {
                setting: "--cloud".into(),
                message: format!(
                    "unknown cloud '{other}'; use public, china or usgov (or --arm-endpoint/--graph-endpoint/--authority-host for a custom cloud)"
                ),
            }),
        }
    }

    /// Resolves the endpoints, checking that custom ones are HTTPS unless on loopback.
    pub fn endpoints(&self) -> Result<Endpoints> {
        let (auth, arm, graph, arm_scope, graph_scope, local) = match self {
            Cloud::Public => (
                builtin("https://login.microsoftonline.com/")?,
                builtin("https://management.azure.com/")?,
                builtin("https://graph.microsoft.com/")?,
                PUBLIC_ARM_SCOPE.to_string(),
                PUBLIC_GRAPH_SCOPE.to_string(),
                false,
            ),
            Cloud::China => (
                builtin("https://login.chinacloudapi.cn/")?,
                builtin("https://management.chinacloudapi.cn/")?,
                builtin("https://microsoftgraph.chinacloudapi.cn/")?,
                "https://management.chinacloudapi.cn/.default".to_string(),
                "https://microsoftgraph.chinacloudapi.cn/.default".to_string(),
                false,
            ),
            Cloud::UsGov => (
                builtin("https://login.microsoftonline.us/")?,
                builtin("https://management.usgovcloudapi.net/")?,
                builtin("https://graph.microsoft.us/")?,
                "https://management.usgovcloudapi.net/.default".to_string(),
                "https://graph.microsoft.us/.default".to_string(),
                false,
            ),
            Cloud::Custom {
                authority_host,
                arm,
                graph,
            } => (
                parse_custom(authority_host, "--authority-host")?,
                parse_custom(arm, "--arm-endpoint")?,
                parse_custom(graph, "--graph-endpoint")?,
                PUBLIC_ARM_SCOPE.to_string(),
                PUBLIC_GRAPH_SCOPE.to_string(),
                false,
            ),
            Cloud::Local { url } => {
                let base = parse_custom(url, "--emulator-url")?;
                (
                    base.clone(),
                    base.clone(),
                    base,
                    PUBLIC_ARM_SCOPE.to_string(),
                    PUBLIC_GRAPH_SCOPE.to_string(),
                    true,
                )
            }
        };
        Ok(Endpoints {
            authority_host: auth,
            arm,
            graph,
            arm_scope,
            graph_scope,
            local,
        })
    }
}

/// True if the URL's host is a loopback name or address.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn builtin(s: &str) -> Result<Url> {
    parse_custom(s, "built-in cloud endpoint")
}

fn parse_custom(raw: &str, setting: &str) -> Result<Url> {
    let mut url = Url::parse(raw.trim()).map_err(|e| AzureError::Config {
        setting: setting.into(),
        message: format!("'{raw}' is not a URL ({e}); give an absolute URL such as https://host"),
    })?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(AzureError::Config {
                setting: setting.into(),
                message: format!(
                    "'{raw}' uses plain http; use an https:// URL (plain http is only allowed for loopback hosts 127.0.0.1, ::1 and localhost)"
                ),
            });
        }
        other => {
            return Err(AzureError::Config {
                setting: setting.into(),
                message: format!("'{raw}' has scheme '{other}'; use an https:// URL"),
            });
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(AzureError::Config {
            setting: setting.into(),
            message: format!("'{raw}' must not have a query or fragment"),
        });
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Joins a relative path onto a base URL that ends with `/`.
pub(crate) fn join(base: &Url, rel: &str, setting: &str) -> Result<Url> {
    base.join(rel.trim_start_matches('/'))
        .map_err(|e| AzureError::Config {
            setting: setting.into(),
            message: format!("cannot form a URL from '{rel}': {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_cloud_endpoints() {
        let e = Cloud::Public.endpoints().unwrap();
        assert_eq!(
            e.authority_host.as_str(),
            "https://login.microsoftonline.com/"
        );
        assert_eq!(e.arm.as_str(), "https://management.azure.com/");
        assert_eq!(e.graph.as_str(), "https://graph.microsoft.com/");
        assert_eq!(e.arm_scope, "https://management.azure.com/.default");
        assert_eq!(
            e.token_url("t1").unwrap().as_str(),
            "https://login.microsoftonline.com/t1/oauth2/v2.0/token"
        );
    }

    #[test]
    fn sovereign_clouds_use_their_own_hosts_and_scopes() {
        let cn = Cloud::China.endpoints().unwrap();
        assert_eq!(cn.graph.host_str(), Some("microsoftgraph.chinacloudapi.cn"));
        assert_eq!(cn.arm_scope, "https://management.chinacloudapi.cn/.default");
        let gov = Cloud::UsGov.endpoints().unwrap();
        assert_eq!(
            gov.authority_host.host_str(),
            Some("login.microsoftonline.us")
        );
        assert_eq!(gov.graph_scope, "https://graph.microsoft.us/.default");
        assert_eq!(Cloud::from_name("USGov").unwrap(), Cloud::UsGov);
        assert!(Cloud::from_name("mars").is_err());
    }

    #[test]
    fn custom_http_is_rejected_unless_loopback() {
        let bad = Cloud::Custom {
            authority_host: "https://login.example.com".into(),
            arm: "http://arm.example.com".into(),
            graph: "https://graph.example.com".into(),
        };
        let err = bad.endpoints().unwrap_err().to_string();
        assert!(err.contains("--arm-endpoint"), "{err}");
        assert!(err.contains("https://"), "{err}");
        for host in ["http://127.0.0.1:9", "http://[::1]:9", "http://localhost:9"] {
            let e = Cloud::Local { url: host.into() }.endpoints().unwrap();
            assert!(e.local);
            assert_eq!(e.arm_scope, PUBLIC_ARM_SCOPE);
            assert_eq!(e.graph_scope, PUBLIC_GRAPH_SCOPE);
        }
        let err = Cloud::Local {
            url: "http://10.0.0.1".into(),
        }
        .endpoints()
        .unwrap_err()
        .to_string();
        assert!(err.contains("--emulator-url"), "{err}");
    }

    #[test]
    fn custom_endpoints_keep_a_path_prefix() {
        let e = Cloud::Custom {
            authority_host: "https://login.example.com/adfs".into(),
            arm: "https://arm.example.com".into(),
            graph: "https://graph.example.com".into(),
        }
        .endpoints()
        .unwrap();
        assert_eq!(
            e.token_url("t").unwrap().as_str(),
            "https://login.example.com/adfs/t/oauth2/v2.0/token"
        );
    }
}
