//! OAuth2 client-credentials flow over our own HTTP client: used for the local emulator and
//! loopback token endpoints (azure_identity insists on HTTPS authorities).

use async_trait::async_trait;
use chrono::{Duration, Utc};
use serde_json::Value;
use url::Url;

use super::{AccessToken, TokenProvider};
use crate::errors::{AzureError, Result};
use crate::http::{Body, HttpClient, Request};
use crate::secret::Secret;

/// Client id + secret against `{authority}/{tenant}/oauth2/v2.0/token`.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    http: HttpClient,
    token_url: Url,
    client_id: String,
    secret: Secret,
}

impl ClientCredentials {
    /// A provider posting to `token_url` (see [`crate::Endpoints::token_url`]).
    pub fn new(http: HttpClient, token_url: Url, client_id: String, secret: Secret) -> Self {
        ClientCredentials {
            http,
            token_url,
            client_id,
            secret,
        }
    }
}

#[async_trait]
impl TokenProvider for ClientCredentials {
    fn name(&self) -> String {
        "ClientSecretCredential (client credentials)".into()
    }

    async fn token(&self, scope: &str) -> Result<AccessToken> {
        let mut request = Request::new(reqwest::Method::POST, self.token_url.clone());
        request.body = Body::Form(vec![
            ("client_id".into(), Secret::new(self.client_id.clone())),
            ("client_secret".into(), self.secret.clone()),
            ("grant_type".into(), Secret::new("client_credentials")),
            ("scope".into(), Secret::new(scope)),
        ]);
        let response = self.http.send(&request).await?;
        let body = response.json();
        let fail = |message: String| AzureError::Credential {
            credential: self.name(),
            scope: scope.to_string(),
            message,
        };
        if response.status != 200 {
            let code = body.get("error").and_then(Value::as_str).unwrap_or("");
            let description = body
                .get("error_description")
                .and_then(Value::as_str)
                .unwrap_or("");
            if response.status >= 500 {
                return Err(AzureError::TokenEndpointUnavailable {
                    credential: self.name(),
                    scope: scope.to_string(),
                    status: response.status,
                    message: format!("{code} {description}").trim().to_string(),
                });
            }
            let hint = if code == "invalid_client" {
                "; check the client id and secret (AZURE_CLIENT_ID / AZURE_CLIENT_SECRET)"
            } else {
                ""
            };
            return Err(fail(format!(
                "token endpoint answered HTTP {} {code}: {description}{hint}",
                response.status
            )));
        }
        let token = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("token response has no access_token".into()))?;
        let expires_in = match body.get("expires_in") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.parse::<i64>().ok(),
            _ => None,
        }
        .unwrap_or(3600);
        Ok(AccessToken {
            token: Secret::new(token),
            expires_at: Utc::now() + Duration::seconds(expires_in),
        })
    }
}
