//! Test support: a small in-memory fake of the token endpoint, ARM and Graph served by axum on
//! loopback, plus builders for an `AzureContext` and a `StepContext` that records resume tokens.

#![allow(dead_code)]

pub mod fake;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use twinup_azure::credential::{ClientCredentials, cached};
use twinup_azure::http::{HttpConfig, RetryPolicy};
use twinup_azure::lro::PollOptions;
use twinup_azure::{AzureContext, Cloud, HttpClient, KindSettings, Secret};
use twinup_engine::{Event, StepContext, StepError, TokenRecorder};

pub const TENANT: &str = "72f988bf-0000-0000-0000-000000000001";
pub const SUB: &str = "00000000-1111-2222-3333-444444444444";
pub const CLIENT_SECRET: &str = "very-secret-client-secret";

/// Serves `router` on an ephemeral loopback port; returns its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    format!("http://{addr}")
}

/// An HTTP client with fast retries for tests.
pub fn http() -> HttpClient {
    HttpClient::new(&HttpConfig {
        use_ssl_cert_file: false,
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            max_server_delay: Duration::from_secs(3),
        },
        ..HttpConfig::default()
    })
    .unwrap()
}

/// An Azure context against a fake at `url`, with short polling and replication waits.
pub fn context(url: &str) -> AzureContext {
    let endpoints = Cloud::Local {
        url: url.to_string(),
    }
    .endpoints()
    .unwrap();
    let http = http();
    let provider = ClientCredentials::new(
        http.clone(),
        endpoints.token_url(TENANT).unwrap(),
        "client-app".into(),
        Secret::new(CLIENT_SECRET),
    );
    AzureContext {
        endpoints,
        http,
        token_provider: cached(Arc::new(provider)),
        subscription_id: Some(SUB.into()),
        tenant_id: TENANT.into(),
        targets: Default::default(),
        signed_in: None,
        settings: KindSettings {
            poll: PollOptions {
                timeout: Duration::from_secs(20),
                default_interval: Duration::from_millis(10),
                max_interval: Duration::from_millis(50),
            },
            principal_wait: Duration::from_secs(10),
            principal_retry_interval: Duration::from_millis(10),
            registration_wait: Duration::from_secs(10),
            registration_interval: Duration::from_millis(10),
            ..KindSettings::default()
        },
    }
}

/// Records saved resume tokens and progress lines.
#[derive(Default)]
pub struct Recorder {
    pub tokens: Mutex<Vec<Value>>,
    pub progress: Mutex<Vec<String>>,
}

#[async_trait]
impl TokenRecorder for Recorder {
    async fn record_token(&self, _step_id: &str, token: Value) -> Result<(), StepError> {
        self.tokens.lock().unwrap().push(token);
        Ok(())
    }
}

/// A step context for `step_id` that records into a fresh [`Recorder`].
pub fn step_ctx(step_id: &str) -> (StepContext, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let sink = recorder.clone();
    let events = Arc::new(move |e: Event| {
        if let Event::StepProgress { message, .. } = e {
            sink.progress.lock().unwrap().push(message);
        }
    });
    let ctx = StepContext::new(
        step_id,
        None,
        recorder.clone(),
        events,
        tokio_util::sync::CancellationToken::new(),
    );
    (ctx, recorder)
}
