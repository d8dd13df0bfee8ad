//! Adapter that lets `azure_identity` credentials send their requests through our reqwest 0.12
//! client (same TLS roots, user agent and proxy settings) instead of azure_core's own reqwest 0.13.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::error::{Error, ErrorKind};
use azure_core::http::headers::{HeaderName, HeaderValue, Headers};
use azure_core::http::request::{Body, Request};
use azure_core::http::{AsyncRawResponse, HttpClient as CoreHttpClient};

use crate::http::HttpClient;

/// An `azure_core` HTTP client backed by the shared reqwest client.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    /// Whole-request time limit (used to keep the managed-identity probe short off Azure).
    limit: Option<Duration>,
}

impl ReqwestTransport {
    /// A transport over the shared client, with an optional whole-request time limit.
    pub fn new(http: &HttpClient, limit: Option<Duration>) -> Self {
        ReqwestTransport {
            client: http.reqwest().clone(),
            limit,
        }
    }

    async fn execute(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes())
            .map_err(|e| Error::with_error(ErrorKind::Other, e, "unsupported HTTP method"))?;
        let mut builder = self.client.request(method, request.url().clone());
        for (name, value) in request.headers().iter() {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder = match request.body() {
            Body::Bytes(bytes) => builder.body(bytes.to_vec()),
            #[allow(unreachable_patterns)]
            _ => {
                return Err(Error::with_message(
                    ErrorKind::Other,
                    "streaming request bodies are not supported by the twinup transport",
                ));
            }
        };
        let url = request.url().clone();
        let response = builder.send().await.map_err(|e| {
            // Not `Io`/`Connection`, which azure_core retries for about a minute: a certificate
            // the client does not trust or a refused connection stays so.
            let described = crate::http::describe(&e);
            if let Some(problem) =
                crate::http::unretryable(request.method().as_str(), &url, &e, &described)
            {
                return Error::with_message(ErrorKind::Other, problem.to_string());
            }
            let kind = if e.is_connect() {
                ErrorKind::Connection
            } else {
                ErrorKind::Io
            };
            Error::with_error(kind, e, "request failed")
        })?;
        let status = response.status().as_u16();
        let headers: HashMap<HeaderName, HeaderValue> = response
            .headers()
            .iter()
            .filter_map(|(k, v)| {
                v.to_str().ok().map(|v| {
                    (
                        HeaderName::from(k.as_str().to_owned()),
                        HeaderValue::from(v.to_owned()),
                    )
                })
            })
            .collect();
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::with_error(ErrorKind::Io, e, "response body could not be read"))?;
        Ok(AsyncRawResponse::from_bytes(
            status.into(),
            Headers::from(headers),
            body.to_vec(),
        ))
    }
}

#[async_trait]
impl CoreHttpClient for ReqwestTransport {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        match self.limit {
            None => self.execute(request).await,
            Some(limit) => tokio::time::timeout(limit, self.execute(request))
                .await
                .map_err(|_| {
                    Error::with_message(
                        ErrorKind::Connection,
                        format!("no answer within {}s", limit.as_secs()),
                    )
                })?,
        }
    }
}
