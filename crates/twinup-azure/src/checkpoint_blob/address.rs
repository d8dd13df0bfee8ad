//! Where a blob checkpoint lives: parsing and checking a `--checkpoint` URL into account,
//! container and blob name, with the SAS (if any) kept apart so it never reaches a message.

use std::net::IpAddr;

use url::{Host, Url};

use super::errors::BlobStoreError;
use crate::cloud::Cloud;
use crate::secret::Secret;

/// A checked blob URL.
#[derive(Debug, Clone)]
pub struct BlobAddress {
    scheme: String,
    authority: String,
    path_style: bool,
    account: String,
    container: String,
    blob: String,
    sas: Option<Secret>,
    loopback: bool,
}

/// True when a `--checkpoint` value is a URL (`http://` or `https://`) rather than a path.
pub fn is_blob_url(arg: &str) -> bool {
    let lower = arg.trim_start().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

fn without_query(arg: &str) -> String {
    arg.split(['?', '#']).next().unwrap_or("").to_string()
}

impl BlobAddress {
    /// Parses `https://{account}.blob.core.windows.net/{container}/{path}` or a path-style
    /// emulator URL `http://127.0.0.1:{port}/{account}/{container}/{path}`. Plain `http` is
    /// accepted on loopback only; a query must be a SAS (it has a `sig` parameter).
    pub fn parse(arg: &str) -> Result<BlobAddress, BlobStoreError> {
        let shown = without_query(arg.trim());
        let bad = |message: String| BlobStoreError::BadUrl {
            url: shown.clone(),
            message,
        };
        let url = Url::parse(arg.trim()).map_err(|e| bad(format!("not a valid URL ({e})")))?;
        let scheme = url.scheme().to_string();
        if scheme != "https" && scheme != "http" {
            return Err(bad(
                "a blob checkpoint URL starts with https:// (or http:// for a local emulator)"
                    .to_string(),
            ));
        }
        let host = url
            .host()
            .ok_or_else(|| bad("the URL has no host".to_string()))?;
        let (loopback, ip_or_local) = match &host {
            Host::Ipv4(ip) => (IpAddr::V4(*ip).is_loopback(), true),
            Host::Ipv6(ip) => (IpAddr::V6(*ip).is_loopback(), true),
            Host::Domain(d) => {
                let local = d.eq_ignore_ascii_case("localhost");
                (local, local)
            }
        };
        if scheme == "http" && !loopback {
            return Err(bad(
                "plain http would send the checkpoint and its credentials unencrypted; use https (http is accepted only for a local emulator on 127.0.0.1, ::1 or localhost)"
                    .to_string(),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "credentials do not belong in the URL's user part; use a SAS query, AZURE_STORAGE_CONNECTION_STRING or an Azure sign-in"
                    .to_string(),
            ));
        }
        let segments: Vec<String> = url
            .path_segments()
            .map(|s| s.map(decode).collect())
            .unwrap_or_default();
        let (account, rest) = if ip_or_local {
            let Some((account, rest)) = segments.split_first() else {
                return Err(bad(
                    "an emulator URL names the account first: http://127.0.0.1:10000/devstoreaccount1/{container}/{blob}.json"
                        .to_string(),
                ));
            };
            (account.clone(), rest.to_vec())
        } else {
            let Host::Domain(domain) = &host else {
                return Err(bad("the URL has no host name".to_string()));
            };
            let account = domain.split('.').next().unwrap_or("").to_string();
            (account, segments.clone())
        };
        if account.is_empty() {
            return Err(bad("the URL names no storage account".to_string()));
        }
        let Some((container, blob_parts)) = rest.split_first().filter(|(c, _)| !c.is_empty())
        else {
            return Err(bad(
                "the URL names no container; use https://{account}.blob.core.windows.net/{container}/{name}.json"
                    .to_string(),
            ));
        };
        check_container(container).map_err(&bad)?;
        let blob = blob_parts.join("/");
        if blob.is_empty() || blob.ends_with('/') {
            return Err(bad(format!(
                "the URL names container `{container}` but no blob; add the checkpoint's name, e.g. .../{container}/adt/checkpoint.json"
            )));
        }
        if blob.len() > 1024 {
            return Err(bad(
                "the blob name is longer than 1024 characters".to_string()
            ));
        }
        let sas = match url.query() {
            None | Some("") => None,
            Some(q) if q.split('&').any(|p| p.starts_with("sig=")) => {
                Some(Secret::new(q.to_string()))
            }
            Some(_) => {
                return Err(bad(
                    "the URL has a query that is not a SAS (no `sig` parameter); remove it, or paste the whole SAS URL"
                        .to_string(),
                ));
            }
        };
        let authority = match url.port() {
            Some(port) => format!("{}:{port}", host),
            None => host.to_string(),
        };
        Ok(BlobAddress {
            scheme,
            authority,
            path_style: ip_or_local,
            account,
            container: container.clone(),
            blob,
            sas,
            loopback,
        })
    }

    /// The storage account's name.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The container's name.
    pub fn container(&self) -> &str {
        &self.container
    }

    /// The blob's name inside the container.
    pub fn blob(&self) -> &str {
        &self.blob
    }

    /// The SAS query from the URL, if it had one.
    pub fn sas(&self) -> Option<&Secret> {
        self.sas.as_ref()
    }

    /// True for plain-http loopback (a local emulator such as Azurite).
    pub fn is_local(&self) -> bool {
        self.loopback && self.scheme == "http"
    }

    /// True when the URL uses https.
    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }

    /// The account's blob endpoint, e.g. `https://acct.blob.core.windows.net/` or
    /// `http://127.0.0.1:10000/devstoreaccount1/`.
    pub fn account_url(&self) -> Url {
        let mut text = format!("{}://{}/", self.scheme, self.authority);
        if self.path_style {
            text.push_str(&encode(&self.account));
            text.push('/');
        }
        // The parts were checked when parsing, so this always parses.
        Url::parse(&text).unwrap_or_else(|_| Url::parse("http://127.0.0.1/").expect("literal"))
    }

    /// The container's URL, without any SAS.
    pub fn container_url(&self) -> Url {
        let mut url = self.account_url();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push(&self.container);
        }
        url
    }

    /// The blob's URL, without any SAS.
    pub fn blob_url(&self) -> Url {
        let mut url = self.container_url();
        if let Ok(mut path) = url.path_segments_mut() {
            for part in self.blob.split('/') {
                path.push(part);
            }
        }
        url
    }

    /// The URL to show people: the blob's URL without the SAS.
    pub fn display(&self) -> String {
        self.blob_url().to_string()
    }

    /// The Azure cloud the account is in, from its host name (public cloud when unknown).
    pub fn cloud(&self) -> Cloud {
        let host = self.authority.to_ascii_lowercase();
        if host.ends_with(".core.chinacloudapi.cn") {
            Cloud::China
        } else if host.ends_with(".core.usgovcloudapi.net") {
            Cloud::UsGov
        } else {
            Cloud::Public
        }
    }
}

fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

/// Azure container names: 3-63 lower-case letters, digits and single hyphens, starting and
/// ending with a letter or digit.
fn check_container(name: &str) -> Result<(), String> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let ok_ends = name
        .chars()
        .next()
        .zip(name.chars().last())
        .is_some_and(|(a, b)| a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric());
    if (3..=63).contains(&name.len()) && ok_chars && ok_ends && !name.contains("--") {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid container name: use 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(arg: &str) -> String {
        BlobAddress::parse(arg).unwrap_err().to_string()
    }

    #[test]
    fn account_host_urls_name_container_and_blob() {
        let a = BlobAddress::parse(
            "https://acct.blob.core.windows.net/state/teams/adt%20dev/checkpoint.json",
        )
        .unwrap();
        assert_eq!(a.account(), "acct");
        assert_eq!(a.container(), "state");
        assert_eq!(a.blob(), "teams/adt dev/checkpoint.json");
        assert_eq!(
            a.display(),
            "https://acct.blob.core.windows.net/state/teams/adt%20dev/checkpoint.json"
        );
        assert!(a.sas().is_none());
        assert!(matches!(a.cloud(), Cloud::Public));
    }

    #[test]
    fn emulator_urls_are_path_style_on_loopback() {
        let a = BlobAddress::parse("http://127.0.0.1:10000/devstoreaccount1/twin/cp.json").unwrap();
        assert_eq!(a.account(), "devstoreaccount1");
        assert_eq!(a.container(), "twin");
        assert_eq!(a.blob(), "cp.json");
        assert!(a.is_local());
        assert_eq!(
            a.container_url().as_str(),
            "http://127.0.0.1:10000/devstoreaccount1/twin"
        );
        assert!(BlobAddress::parse("http://localhost:1/devstoreaccount1/twin/cp.json").is_ok());
        assert!(BlobAddress::parse("http://[::1]:1/devstoreaccount1/twin/cp.json").is_ok());
    }

    #[test]
    fn plain_http_elsewhere_is_refused() {
        let e = err("http://acct.blob.core.windows.net/state/cp.json");
        assert!(e.contains("unencrypted"), "{e}");
        let e = err("http://10.0.0.5:10000/devstoreaccount1/state/cp.json");
        assert!(e.contains("only for a local emulator on 127.0.0.1"), "{e}");
    }

    #[test]
    fn a_sas_is_kept_apart_and_never_shown() {
        let a = BlobAddress::parse(
            "https://acct.blob.core.windows.net/state/cp.json?sv=2022-11-02&sp=rwdlac&sig=c2VjcmV0",
        )
        .unwrap();
        assert!(a.sas().unwrap().expose().contains("sig=c2VjcmV0"));
        assert!(!a.display().contains("sig"));
        let e = err("https://acct.blob.core.windows.net/BAD/cp.json?sig=c2VjcmV0");
        assert!(!e.contains("c2VjcmV0"), "{e}");
    }

    #[test]
    fn missing_parts_and_bad_names_say_what_to_write() {
        assert!(err("https://acct.blob.core.windows.net/").contains("no container"));
        assert!(err("https://acct.blob.core.windows.net/state/").contains("no blob"));
        assert!(err("https://acct.blob.core.windows.net/State/cp.json").contains("container name"));
        assert!(err("https://acct.blob.core.windows.net/state/cp.json?x=1").contains("not a SAS"));
        assert!(err("ftp://acct/state/cp.json").contains("https://"));
    }

    #[test]
    fn sovereign_clouds_are_recognised() {
        let a = BlobAddress::parse("https://a.blob.core.chinacloudapi.cn/c12/x.json").unwrap();
        assert!(matches!(a.cloud(), Cloud::China));
        let a = BlobAddress::parse("https://a.blob.core.usgovcloudapi.net/c12/x.json").unwrap();
        assert!(matches!(a.cloud(), Cloud::UsGov));
    }

    #[test]
    fn urls_are_told_from_paths() {
        assert!(is_blob_url("https://a.blob.core.windows.net/c/x.json"));
        assert!(is_blob_url("HTTP://127.0.0.1:1/a/c/x.json"));
        assert!(!is_blob_url(".twinup/checkpoint.json"));
        assert!(!is_blob_url("C:\\state\\checkpoint.json"));
    }
}
