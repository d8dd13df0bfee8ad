//! Decoding (without verification) of an access token's claims to learn who the caller is.

use base64::Engine;
use serde::Deserialize;

use crate::errors::{AzureError, Result};

/// Identity claims of an Entra ID access token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Claims {
    /// Object id of the caller (user or service principal).
    #[serde(default)]
    pub oid: Option<String>,
    /// Tenant id.
    #[serde(default)]
    pub tid: Option<String>,
    /// Client (application) id for app tokens (v1 tokens).
    #[serde(default)]
    pub appid: Option<String>,
    /// Client (application) id for app tokens (v2 tokens).
    #[serde(default)]
    pub azp: Option<String>,
    /// User principal name, for user tokens.
    #[serde(default)]
    pub upn: Option<String>,
    /// `user` or `app` when present.
    #[serde(default)]
    pub idtyp: Option<String>,
    /// Delegated scopes: only tokens issued to a user (on behalf of an app) carry them;
    /// app-only tokens carry `roles` instead.
    #[serde(default)]
    pub scp: Option<String>,
}

impl Claims {
    /// True if the token was issued to a user: `idtyp=user`, or a UPN or delegated scopes
    /// (`scp`) without `idtyp=app`. App-only tokens (`idtyp: app`, no `scp`) are service
    /// principals, managed identities included.
    pub fn is_user(&self) -> bool {
        match self.idtyp.as_deref() {
            Some(t) if t.eq_ignore_ascii_case("user") => true,
            Some(t) if t.eq_ignore_ascii_case("app") => false,
            _ => self.upn.is_some() || self.scp.is_some(),
        }
    }

    /// The caller's ARM `principalType`: `User` or `ServicePrincipal`.
    pub fn principal_type(&self) -> &'static str {
        if self.is_user() {
            "User"
        } else {
            "ServicePrincipal"
        }
    }
}

/// Decodes the payload of a JWT without checking its signature.
pub fn decode_claims(jwt: &str) -> Result<Claims> {
    let bad = |message: &str| AzureError::Decode {
        what: "access token".into(),
        message: message.into(),
    };
    let payload = jwt
        .split('.')
        .nth(1)
        .ok_or_else(|| bad("not a JWT (no payload segment)"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| bad("payload is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| bad("payload is not a JSON claims object"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            enc.encode(r#"{"alg":"none"}"#),
            enc.encode(payload)
        )
    }

    #[test]
    fn user_token_claims() {
        let c = decode_claims(&jwt(r#"{"oid":"o1","tid":"t1","upn":"ann@contoso.com"}"#)).unwrap();
        assert_eq!(c.oid.as_deref(), Some("o1"));
        assert_eq!(c.tid.as_deref(), Some("t1"));
        assert_eq!(c.principal_type(), "User");
    }

    #[test]
    fn the_principal_type_comes_from_the_token() {
        let guest = decode_claims(&jwt(r#"{"oid":"o3","scp":"user_impersonation"}"#)).unwrap();
        assert_eq!(guest.principal_type(), "User");
        let managed = decode_claims(&jwt(r#"{"oid":"o4","appid":"mi"}"#)).unwrap();
        assert_eq!(managed.principal_type(), "ServicePrincipal");
    }

    #[test]
    fn app_token_claims() {
        let c = decode_claims(&jwt(
            r#"{"oid":"o2","tid":"t1","appid":"a1","idtyp":"app"}"#,
        ))
        .unwrap();
        assert_eq!(c.appid.as_deref(), Some("a1"));
        assert_eq!(c.principal_type(), "ServicePrincipal");
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(decode_claims("nope").is_err());
        assert!(decode_claims("a.!!!.c").is_err());
    }
}
