//! Shared helpers for the emulator's integration tests: start an emulator with a tiny time scale,
//! get tokens, send ARM/Graph/admin requests, and poll long-running operations to the end.

#![allow(dead_code)]

use std::time::Duration;

use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};
use twinup_emulator::{Emulator, EmulatorConfig, EmulatorInfo};

pub const ARM_SCOPE: &str = "https://management.azure.com/.default";
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

pub struct Env {
    pub emu: Option<Emulator>,
    pub info: EmulatorInfo,
    pub http: reqwest::Client,
    pub arm_token: String,
    pub graph_token: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub fn config() -> EmulatorConfig {
    EmulatorConfig {
        time_scale: 0.001,
        ..EmulatorConfig::default()
    }
}

pub async fn start() -> Env {
    start_with(config()).await
}

pub async fn start_with(config: EmulatorConfig) -> Env {
    let emu = Emulator::start(config).await.expect("emulator starts");
    let info = emu.info().clone();
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(20));
    if let Some(ca) = &info.ca_cert {
        let pem = std::fs::read(ca).unwrap();
        builder = builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
    }
    let http = builder.build().unwrap();
    let mut env = Env {
        emu: Some(emu),
        info,
        http,
        arm_token: String::new(),
        graph_token: String::new(),
    };
    env.arm_token = env.token(ARM_SCOPE).await;
    env.graph_token = env.token(GRAPH_SCOPE).await;
    env
}

impl Env {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.info.url, path)
    }

    pub async fn token_request(&self, form: &[(&str, &str)]) -> Reply {
        let resp = self
            .http
            .post(self.url(&format!("/{}/oauth2/v2.0/token", self.info.tenant_id)))
            .form(form)
            .send()
            .await
            .unwrap();
        reply(resp).await
    }

    pub async fn token(&self, scope: &str) -> String {
        let r = self
            .token_request(&[
                ("client_id", &self.info.client_id),
                ("client_secret", &self.info.client_secret),
                ("grant_type", "client_credentials"),
                ("scope", scope),
            ])
            .await;
        assert_eq!(r.status, 200, "token: {}", r.body);
        r.body["access_token"].as_str().unwrap().to_string()
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            self.url(path)
        };
        let mut req = self.http.request(method, url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        reply(req.send().await.unwrap()).await
    }

    pub async fn arm(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.send(method, path, Some(&self.arm_token), body, &[])
            .await
    }

    pub async fn graph(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.send(
            method,
            &format!("/v1.0{path}"),
            Some(&self.graph_token),
            body,
            &[],
        )
        .await
    }

    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let token = [(
            twinup_emulator::ADMIN_TOKEN_HEADER,
            self.info.admin_token.as_str(),
        )];
        self.send(method, &format!("/_emulator{path}"), None, body, &token)
            .await
    }

    pub fn sub(&self) -> &str {
        &self.info.subscription_id
    }

    pub async fn create_rg(&self, name: &str, location: &str) {
        let r = self
            .arm(
                Method::PUT,
                &format!(
                    "/subscriptions/{}/resourcegroups/{name}?api-version=2025-04-01",
                    self.sub()
                ),
                Some(json!({"location": location})),
            )
            .await;
        assert!(r.status == 201 || r.status == 200, "{}", r.body);
    }

    pub fn dt_path(&self, rg: &str, name: &str) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.DigitalTwins/digitalTwinsInstances/{name}?api-version=2023-01-31",
            self.sub()
        )
    }

    /// Polls an `Azure-AsyncOperation` URL until the status is terminal; returns the last body.
    pub async fn poll_status(&self, url: &str) -> Value {
        for _ in 0..2000 {
            let r = self.arm(Method::GET, url, None).await;
            assert_eq!(r.status, 200, "operation status: {}", r.body);
            let s = r.body["status"].as_str().unwrap_or("").to_string();
            if s == "Succeeded" || s == "Failed" || s == "Canceled" {
                return r.body;
            }
            wait_hint(&r).await;
        }
        panic!("operation never finished");
    }

    /// Polls a `Location` URL until it stops answering 202; returns the final reply.
    pub async fn poll_location(&self, url: &str) -> Reply {
        for _ in 0..2000 {
            let r = self.arm(Method::GET, url, None).await;
            if r.status != 202 {
                return r;
            }
            wait_hint(&r).await;
        }
        panic!("operation never finished");
    }

    /// Creates an instance and polls it to a terminal state; returns the final GET.
    pub async fn create_dt(&self, rg: &str, name: &str, body: Value) -> Reply {
        let r = self
            .arm(Method::PUT, &self.dt_path(rg, name), Some(body))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let url = r.header("azure-asyncoperation").unwrap().to_string();
        self.poll_status(&url).await;
        self.arm(Method::GET, &self.dt_path(rg, name), None).await
    }

    pub async fn shutdown(mut self) {
        if let Some(e) = self.emu.take() {
            e.shutdown().await;
        }
    }
}

/// Waits as long as the emulator's `retry-after-ms` hint says (the scaled poll interval).
pub async fn wait_hint(r: &Reply) {
    let ms = r
        .header("retry-after-ms")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(5);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

pub async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply {
        status,
        headers,
        body,
    }
}
