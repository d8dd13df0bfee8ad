//! The local Azure emulator as a separate process for end-to-end tests: start it, read the
//! endpoints and credentials it prints, inject faults and read its request log.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

/// A running `twinup emulator` process; killed when dropped.
pub struct EmulatorProcess {
    child: Child,
    pub info: Value,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl EmulatorProcess {
    /// Starts an emulator keeping its state in `dir`, optionally over HTTPS.
    pub fn start(dir: &Path, tls: bool) -> EmulatorProcess {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("twinup"));
        cmd.args(["emulator", "--port", "0", "--time-scale", "0.01", "--state"])
            .arg(dir.join("emulator-state.json"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if tls {
            cmd.arg("--tls");
        }
        let mut child = cmd.spawn().expect("start emulator");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("emulator prints its info");
        let info: Value = serde_json::from_str(&line).expect("emulator info is JSON");
        let mut builder = reqwest::Client::builder();
        if let Some(ca) = info["ca_cert"].as_str() {
            let pem = std::fs::read(ca).expect("ca");
            builder =
                builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"));
        }
        EmulatorProcess {
            child,
            info,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("rt"),
            client: builder.build().expect("client"),
        }
    }

    /// The emulator's base URL.
    pub fn url(&self) -> String {
        self.info["url"].as_str().expect("url").to_string()
    }

    /// The CA certificate file (with `--tls`).
    pub fn ca_cert(&self) -> Option<PathBuf> {
        self.info["ca_cert"].as_str().map(PathBuf::from)
    }

    /// Sends an admin request and returns the JSON answer (Null for empty bodies).
    pub fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{}", self.url(), path);
        self.runtime.block_on(async {
            let mut req = self.client.request(method, url);
            if let Some(body) = body {
                req = req.json(&body);
            }
            let resp = req.send().await.expect("admin request");
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            assert!(
                status.is_success(),
                "admin call {path} failed: {status} {text}"
            );
            serde_json::from_str(&text).unwrap_or(Value::Null)
        })
    }

    /// Adds a fault rule.
    pub fn fault(&self, rule: Value) {
        self.admin(reqwest::Method::POST, "/_emulator/faults", Some(rule));
    }

    /// The request log.
    pub fn requests(&self) -> Value {
        self.admin(reqwest::Method::GET, "/_emulator/requests", None)
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        self.admin(reqwest::Method::DELETE, "/_emulator/requests", None);
    }

    /// Requests that change something in Azure (token requests and name checks are reads).
    pub fn writes(&self) -> Vec<String> {
        let log = self.requests();
        log["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .filter(|r| {
                let method = r["method"].as_str().unwrap_or("");
                let route = r["route"].as_str().unwrap_or("");
                match method {
                    "PUT" | "PATCH" | "DELETE" => true,
                    "POST" => !route.contains("oauth2") && !route.contains("checkNameAvailability"),
                    _ => false,
                }
            })
            .map(|r| {
                format!(
                    "{} {}",
                    r["method"].as_str().unwrap_or(""),
                    r["route"].as_str().unwrap_or("")
                )
            })
            .collect()
    }

    /// How many logged requests have this method and a route ending with `suffix`
    /// (e.g. `digitalTwinsInstances/{}` or `roleAssignments/{}`).
    pub fn count(&self, method: &str, suffix: &str) -> usize {
        self.requests()["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .filter(|r| {
                r["method"] == method && r["route"].as_str().unwrap_or("").ends_with(suffix)
            })
            .count()
    }

    /// Adds a service principal with `roles` and returns (client id, secret).
    pub fn add_service_principal(&self, roles: Value) -> (String, String) {
        let out = self.admin(
            reqwest::Method::POST,
            "/_emulator/principals",
            Some(json!({"kind": "service_principal", "roles": roles})),
        );
        (
            out["app_id"].as_str().expect("app_id").to_string(),
            out["client_secret"].as_str().expect("secret").to_string(),
        )
    }

    /// The emulator's whole state.
    pub fn state(&self) -> Value {
        self.admin(reqwest::Method::GET, "/_emulator/state", None)
    }

    /// `twinup up` against this emulator as a custom cloud, signed in as its admin principal.
    pub fn up(&self, scratch: &super::Scratch) -> assert_cmd::Command {
        let url = self.url();
        let mut cmd = scratch.twinup();
        cmd.args(["up", "--cloud", "custom", "--non-interactive"])
            .args([
                "--authority-host",
                &url,
                "--arm-endpoint",
                &url,
                "--graph-endpoint",
                &url,
            ])
            .env(
                "AZURE_TENANT_ID",
                self.info["tenant_id"].as_str().unwrap_or(""),
            )
            .env(
                "AZURE_CLIENT_ID",
                self.info["client_id"].as_str().unwrap_or(""),
            )
            .env(
                "AZURE_CLIENT_SECRET",
                self.info["client_secret"].as_str().unwrap_or(""),
            );
        if let Some(ca) = self.ca_cert() {
            cmd.env("SSL_CERT_FILE", ca);
        }
        cmd
    }
}
