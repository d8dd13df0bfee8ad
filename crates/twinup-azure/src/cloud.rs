//! Azure clouds and their endpoints (login authority, ARM, Microsoft Graph) and token scopes, and
//! the discovery of a custom cloud from its ARM endpoint (`GET {arm}/metadata/endpoints`).

use url::Url;

use crate::errors::{AzureError, Result};

/// Public-cloud ARM token scope; also used for custom clouds and the local emulator.
pub const PUBLIC_ARM_SCOPE: &str = "https://management.azure.com/.default";
/// Public-cloud Graph token scope; also used for custom clouds and the local emulator.
pub const PUBLIC_GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
/// Public-cloud Azure Digital Twins data-plane token scope; also used for custom clouds and the
/// local emulator.
pub const PUBLIC_DIGITAL_TWINS_SCOPE: &str = "https://digitaltwins.azure.net/.default";

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
        /// ARM token audience (flag `--arm-audience`, else from the cloud's metadata); the
        /// public one when `None`.
        arm_audience: Option<String>,
        /// Microsoft Graph token audience (flag `--graph-audience`, else from the metadata).
        graph_audience: Option<String>,
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
    /// Token scope for Azure Digital Twins instances' data planes.
    pub digital_twins_scope: String,
    /// The private DNS zone of Digital Twins private endpoints, from Learn's "Azure Private
    /// Endpoint private DNS zone values" (none in its Azure China table).
    pub digital_twins_private_dns_zone: Option<&'static str>,
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
                arm_audience,
                graph_audience,
            } => (
                parse_custom(authority_host, "--authority-host")?,
                parse_custom(arm, "--arm-endpoint")?,
                parse_custom(graph, "--graph-endpoint")?,
                arm_audience
                    .as_deref()
                    .map_or_else(|| PUBLIC_ARM_SCOPE.to_string(), scope_of),
                graph_audience
                    .as_deref()
                    .map_or_else(|| PUBLIC_GRAPH_SCOPE.to_string(), scope_of),
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
        let digital_twins_scope = match self {
            // Learn ("Write app authentication code"): `https://digitaltwins.azure.net/.default`;
            // the emulator accepts the same audience (its `token.rs` ADT_AUDIENCES).
            Cloud::Public | Cloud::Custom { .. } | Cloud::Local { .. } => {
                PUBLIC_DIGITAL_TWINS_SCOPE.to_string()
            }
            // The sovereign clouds' application id URI of the service is not in Learn's
            // authentication pages; its application id (the resource app of deploy.ps1's
            // manifest) names the same resource in every cloud, as `{appId}/.default`.
            Cloud::China | Cloud::UsGov => {
                format!(
                    "{}/.default",
                    crate::kinds::api_permissions_manifest::ADT_RESOURCE_APP_ID
                )
            }
        };
        let digital_twins_private_dns_zone = match self {
            Cloud::China => None,
            Cloud::UsGov => Some("privatelink.digitaltwins.azure.us"),
            _ => Some("privatelink.digitaltwins.azure.net"),
        };
        Ok(Endpoints {
            authority_host: auth,
            arm,
            graph,
            arm_scope,
            graph_scope,
            digital_twins_scope,
            digital_twins_private_dns_zone,
            local,
        })
    }
}

/// What a cloud's `GET {arm}/metadata/endpoints?api-version=2022-09-01` says (Azure, Azure Stack
/// Hub, the emulator): its login endpoint, ARM audience, and Microsoft Graph endpoint and
/// audience (`microsoftGraphResourceId`, which az uses as both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudMetadata {
    /// `authentication.loginEndpoint`.
    pub login_endpoint: String,
    /// `authentication.audiences[0]`.
    pub arm_audience: Option<String>,
    /// `microsoftGraphEndpoint` when given, else `microsoftGraphResourceId`.
    pub graph_endpoint: Option<String>,
    /// `microsoftGraphResourceId`.
    pub graph_audience: Option<String>,
}

/// API version of the cloud metadata endpoint (the one az and the Terraform providers use).
pub const METADATA_API_VERSION: &str = "2022-09-01";

impl CloudMetadata {
    /// Reads the metadata document: an object, or a list of clouds of which the one whose
    /// `resourceManager` is `arm` (else the first) is taken.
    pub fn from_document(document: &serde_json::Value, arm: &str) -> Result<CloudMetadata> {
        let same = |v: &serde_json::Value| {
            v.get("resourceManager")
                .and_then(serde_json::Value::as_str)
                .is_some_and(|r| {
                    r.trim_end_matches('/')
                        .eq_ignore_ascii_case(arm.trim_end_matches('/'))
                })
        };
        let cloud = match document.as_array() {
            Some(list) => list.iter().find(|c| same(c)).or(list.first()),
            None => Some(document),
        };
        let text = |v: Option<&serde_json::Value>, p: &str| {
            v.and_then(|v| v.pointer(p))
                .and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let login_endpoint = text(cloud, "/authentication/loginEndpoint").ok_or_else(|| {
            AzureError::Config {
                setting: "--arm-endpoint".into(),
                message: format!(
                    "{arm}/metadata/endpoints names no authentication.loginEndpoint; give --authority-host and --graph-endpoint"
                ),
            }
        })?;
        let graph_audience = text(cloud, "/microsoftGraphResourceId");
        Ok(CloudMetadata {
            login_endpoint,
            arm_audience: text(cloud, "/authentication/audiences/0"),
            graph_endpoint: text(cloud, "/microsoftGraphEndpoint").or(graph_audience.clone()),
            graph_audience,
        })
    }
}

/// Reads `GET {arm}/metadata/endpoints?api-version=2022-09-01` (no sign-in needed).
pub async fn discover(http: &crate::http::HttpClient, arm: &str) -> Result<CloudMetadata> {
    let base = parse_custom(arm, "--arm-endpoint")?;
    let mut url = join(&base, "metadata/endpoints", "--arm-endpoint")?;
    url.query_pairs_mut()
        .append_pair("api-version", METADATA_API_VERSION);
    let request = crate::http::Request::new(reqwest::Method::GET, url.clone());
    let response = http.send(&request).await?;
    if response.status != 200 {
        return Err(AzureError::Config {
            setting: "--arm-endpoint".into(),
            message: format!(
                "{} answered HTTP {}; give --authority-host and --graph-endpoint (and --arm-audience, --graph-audience) instead",
                crate::http::loggable_url(&url),
                response.status
            ),
        });
    }
    CloudMetadata::from_document(&response.json(), arm)
}

/// The `.default` token scope of an audience (`https://management.example/` ->
/// `https://management.example/.default`), as az forms it from a resource id.
pub fn scope_of(audience: &str) -> String {
    format!("{}/.default", audience.trim().trim_end_matches('/'))
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
    fn metadata_gives_login_audiences_and_graph() {
        let doc = serde_json::json!({
            "resourceManager": "https://management.local.azurestack.external/",
            "authentication": {"loginEndpoint": "https://login.microsoftonline.com/",
                "audiences": ["https://management.contoso.onmicrosoft.com/abc"]},
            "microsoftGraphResourceId": "https://graph.microsoft.com/"
        });
        let m = CloudMetadata::from_document(&doc, "https://management.local.azurestack.external")
            .unwrap();
        assert_eq!(m.login_endpoint, "https://login.microsoftonline.com/");
        assert_eq!(
            m.arm_audience.as_deref(),
            Some("https://management.contoso.onmicrosoft.com/abc")
        );
        assert_eq!(
            m.graph_endpoint.as_deref(),
            Some("https://graph.microsoft.com/")
        );
        let list = serde_json::json!([{"resourceManager": "https://other/", "authentication": {"loginEndpoint": "https://x/"}}, doc]);
        let m2 =
            CloudMetadata::from_document(&list, "https://management.local.azurestack.external/")
                .unwrap();
        assert_eq!(m2, m);
        assert_eq!(
            scope_of("https://management.example.com/"),
            "https://management.example.com/.default"
        );
    }

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
            e.digital_twins_scope,
            "https://digitaltwins.azure.net/.default"
        );
        assert_eq!(
            Cloud::UsGov.endpoints().unwrap().digital_twins_scope,
            "0b07f429-9f4b-4714-9392-cc5e8e80c8b0/.default"
        );
        assert_eq!(
            e.digital_twins_private_dns_zone,
            Some("privatelink.digitaltwins.azure.net")
        );
        assert_eq!(
            Cloud::China
                .endpoints()
                .unwrap()
                .digital_twins_private_dns_zone,
            None
        );
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
            arm_audience: None,
            graph_audience: None,
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
            arm_audience: Some("https://management.example.com/".into()),
            graph_audience: None,
        }
        .endpoints()
        .unwrap();
        assert_eq!(
            e.token_url("t").unwrap().as_str(),
            "https://login.example.com/adfs/t/oauth2/v2.0/token"
        );
    }
}
