//! The reliability suites' view of the emulator: `twinup emulator` started as its own process,
//! its admin API (faults, request log, state) through reqwest, and `twinup up` runs against it
//! that can be killed (SIGKILL) or interrupted (SIGINT) at a chosen moment.
//!
//! Included by the `reliability_*` tests with `#[path = "common/emulator.rs"] mod emulator;`,
//! and by the other end-to-end tests through `common::emulator` (see `common/azure.rs`).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The answers the reliability suites deploy with (the built-in plan's contract names).
pub const ANSWERS: &str = "location: westus2\nresource_group: rel-rg\ninstance_name: rel-twins\n\
app_display_name: rel-client\nreply_url: http://localhost\ntags: {suite: reliability}\n";

/// The `twinup` binary under test.
pub fn twinup_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("twinup")
}

/// Polls `cond` every few milliseconds until it holds; panics with `what` after `limit`.
pub fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A running `twinup emulator`; killed when dropped.
pub struct Emu {
    child: Child,
    /// The JSON line the emulator printed: url, tenant_id, client_id, client_secret, ...
    pub info: Value,
    /// Its state file.
    pub state_path: PathBuf,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    /// `collection/key` of every object the emulator was seeded with.
    seeded: Vec<String>,
}

impl Drop for Emu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Emu {
    /// An emulator at time scale 0.01 keeping its state in `dir/emulator-state.json`.
    pub fn start(dir: &Path) -> Emu {
        Emu::start_with(dir, 0.01, false)
    }

    /// An emulator with the given time scale (1.0 = Azure's real latencies), optionally TLS.
    pub fn start_with(dir: &Path, time_scale: f64, tls: bool) -> Emu {
        let state_path = dir.join("emulator-state.json");
        let mut cmd = Command::new(twinup_bin());
        cmd.args(["emulator", "--port", "0", "--time-scale"])
            .arg(time_scale.to_string())
            .arg("--state")
            .arg(&state_path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if tls {
            cmd.arg("--tls");
        }
        let mut child = cmd.spawn().expect("start twinup emulator");
        let stdout = child.stdout.take().expect("emulator stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the emulator prints its endpoints");
        let info: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("emulator line is not JSON ({e}): {line}"));
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(20));
        if let Some(ca) = info["ca_cert"].as_str() {
            let pem = std::fs::read(ca).expect("emulator CA file");
            builder =
                builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"));
        }
        let mut emu = Emu {
            child,
            info,
            state_path,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            client: builder.build().expect("client"),
            seeded: Vec::new(),
        };
        let st = emu.state();
        for (collection, objects) in st.as_object().into_iter().flatten() {
            for key in objects.as_object().into_iter().flat_map(|m| m.keys()) {
                emu.seeded.push(format!("{collection}/{key}"));
            }
        }
        emu
    }

    /// Base URL.
    pub fn url(&self) -> String {
        self.info["url"].as_str().expect("url").to_string()
    }

    /// A field of the emulator's info line.
    pub fn field(&self, name: &str) -> String {
        self.info[name].as_str().unwrap_or_default().to_string()
    }

    /// Sends an admin request and returns the JSON answer (Null for empty bodies).
    pub fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.url());
        self.runtime.block_on(async {
            let mut req = self.client.request(method, url).header(
                "x-twinup-admin-token",
                self.info["admin_token"].as_str().unwrap_or_default(),
            );
            if let Some(body) = body {
                req = req.json(&body);
            }
            let resp = req.send().await.expect("admin request");
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            assert!(status.is_success(), "admin {path}: {status} {text}");
            serde_json::from_str(&text).unwrap_or(Value::Null)
        })
    }

    /// Sends an ARM request (`path` with its query), or a Graph one (a `/v1.0` path), as the
    /// emulator's own admin principal, the way someone else in the tenant would; returns the
    /// status and the JSON body.
    pub fn arm_as_admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let audience = if path.starts_with("/v1.0") {
            "https://graph.microsoft.com"
        } else {
            "https://management.azure.com"
        };
        let token = self.admin(
            reqwest::Method::POST,
            "/_emulator/tokens",
            Some(json!({"principal": self.field("client_id"), "audience": audience})),
        );
        let bearer = token["access_token"].as_str().expect("token").to_string();
        let url = format!("{}{path}", self.url());
        self.runtime.block_on(async {
            let mut req = self.client.request(method, url).bearer_auth(bearer);
            if let Some(body) = body {
                req = req.json(&body);
            }
            let resp = req.send().await.expect("arm request");
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        })
    }

    /// Adds a fault rule (`{"method"?, "path_contains"?, "count"?, "skip"?, "kind"}`).
    pub fn fault(&self, rule: Value) {
        self.admin(reqwest::Method::POST, "/_emulator/faults", Some(rule));
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.admin(reqwest::Method::DELETE, "/_emulator/faults", None);
    }

    /// Makes every request after the first `k` hang (none of them reaches the emulator's logic).
    pub fn hang_after(&self, k: u64) {
        self.fault(json!({"skip": k, "count": 0, "kind": "hang"}));
    }

    /// The request log: `{"requests": [...], "counts": {...}, "total": n}`.
    pub fn requests(&self) -> Value {
        self.admin(reqwest::Method::GET, "/_emulator/requests", None)
    }

    /// Log entries as (method, route, outcome, status).
    pub fn entries(&self) -> Vec<Entry> {
        self.requests()["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .map(|r| Entry {
                method: r["method"].as_str().unwrap_or("").to_string(),
                route: r["route"].as_str().unwrap_or("").to_string(),
                outcome: r["outcome"].as_str().unwrap_or("").to_string(),
                status: r["status"].as_u64(),
                path: r["path"].as_str().unwrap_or("").to_string(),
                fault: r["fault"].as_bool().unwrap_or(false),
            })
            .collect()
    }

    /// Requests received since the log was last cleared.
    pub fn total(&self) -> u64 {
        self.requests()["requests"]
            .as_array()
            .map_or(0, |a| a.len() as u64)
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        self.admin(reqwest::Method::DELETE, "/_emulator/requests", None);
    }

    /// The emulator's whole state.
    pub fn state(&self) -> Value {
        self.admin(reqwest::Method::GET, "/_emulator/state", None)
    }

    /// What exists in the emulator beyond what it was seeded with, to check nothing was
    /// created twice.
    pub fn inventory(&self) -> Inventory {
        let st = self.state();
        let created = |k: &str| -> Vec<Value> {
            st[k]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(key, _)| !self.seeded.contains(&format!("{k}/{key}")))
                        .map(|(_, v)| v.clone())
                        .collect()
                })
                .unwrap_or_default()
        };
        let apps = created("applications");
        Inventory {
            resource_groups: created("resource_groups").len(),
            instances: created("digital_twins").len(),
            role_assignments: created("role_assignments").len(),
            apps: apps.len(),
            app_ids: apps
                .iter()
                .filter_map(|a| a["body"]["appId"].as_str().map(str::to_string))
                .collect(),
            service_principals: created("service_principals").len(),
            grants: created("grants").len(),
        }
    }

    /// `twinup up` against this emulator as a custom cloud, signed in as its service principal,
    /// in `dir`, unattended. Output goes to files so a killed run cannot block on a pipe.
    pub fn up(&self, dir: &Path) -> Command {
        let mut cmd = clean_command(dir);
        cmd.args(["up", "--non-interactive"])
            .args(self.cloud_args())
            .envs(self.cloud_env());
        cmd
    }

    /// The flags that point `twinup` at this emulator as a custom cloud.
    pub fn cloud_args(&self) -> Vec<String> {
        let url = self.url();
        [
            "--cloud",
            "custom",
            "--authority-host",
            &url,
            "--arm-endpoint",
            &url,
        ]
        .into_iter()
        .chain(["--graph-endpoint", &url])
        .map(str::to_string)
        .collect()
    }

    /// The environment that signs `twinup` in as this emulator's service principal (and
    /// trusts its certificate when it serves TLS), with instance host names resolved to the
    /// emulator (its data plane).
    pub fn cloud_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("AZURE_TENANT_ID", self.field("tenant_id")),
            ("AZURE_CLIENT_ID", self.field("client_id")),
            ("AZURE_CLIENT_SECRET", self.field("client_secret")),
            ("TWINUP_DATA_PLANE_ENDPOINT", self.url()),
        ];
        if let Some(ca) = self.info["ca_cert"].as_str() {
            env.push(("SSL_CERT_FILE", ca.to_string()));
        }
        env
    }
}

/// One request log entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub method: String,
    pub route: String,
    /// `response`, `reset` or `hang`.
    pub outcome: String,
    pub status: Option<u64>,
    /// The request path as sent.
    pub path: String,
    /// Whether an injected fault answered it.
    pub fault: bool,
}

impl Entry {
    /// A request that changes something in Azure (token requests are reads).
    pub fn is_write(&self) -> bool {
        match self.method.as_str() {
            "PUT" | "PATCH" | "DELETE" => true,
            "POST" => {
                !self.route.contains("oauth2") && !self.route.contains("checkNameAvailability")
            }
            _ => false,
        }
    }

    /// A write the emulator acted on (not hung or reset before its logic ran).
    pub fn is_applied_write(&self) -> bool {
        self.is_write() && self.outcome == "response"
    }

    /// `METHOD route`.
    pub fn kind(&self) -> String {
        format!("{} {}", self.method, self.route)
    }
}

/// Counts of what exists in the emulator (the emulator's own admin principal left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    pub resource_groups: usize,
    pub instances: usize,
    pub role_assignments: usize,
    pub apps: usize,
    pub app_ids: Vec<String>,
    pub service_principals: usize,
    pub grants: usize,
}

/// `twinup` in `dir` with no TWINUP_/AZURE_/RUST_LOG variables leaking in from the test's
/// environment, stdin closed.
pub fn clean_command(dir: &Path) -> Command {
    let mut cmd = Command::new(twinup_bin());
    cmd.current_dir(dir).stdin(Stdio::null());
    clean_env(|key| {
        cmd.env_remove(key);
    });
    cmd
}

/// A finished run.
#[derive(Debug)]
pub struct Finished {
    /// Exit code; `None` when a signal ended the process.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// Everything the run printed.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// A `twinup` process running in the background, output captured to files in its directory.
pub struct Running {
    child: Child,
    out: PathBuf,
    err: PathBuf,
}

impl Running {
    /// Spawns `cmd`, capturing its output to `<dir>/<tag>.stdout|stderr`.
    pub fn spawn(mut cmd: Command, dir: &Path, tag: &str) -> Running {
        let out = dir.join(format!("{tag}.stdout"));
        let err = dir.join(format!("{tag}.stderr"));
        cmd.stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(&err).expect("stderr file"));
        let child = cmd.spawn().expect("spawn twinup");
        Running { child, out, err }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// What it has written to stderr so far.
    pub fn stderr_so_far(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// Sends a signal (`KILL`, `INT`, ...) with the system's `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// SIGKILL, then wait.
    pub fn kill(mut self) -> Finished {
        let _ = self.child.kill();
        self.wait()
    }

    /// Waits for the exit (at most two minutes) and reads the output.
    pub fn wait(mut self) -> Finished {
        let start = Instant::now();
        let status: ExitStatus = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if start.elapsed() > Duration::from_secs(120) {
                let _ = self.child.kill();
                panic!("twinup did not exit within two minutes");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        Finished {
            code: status.code(),
            stdout: std::fs::read_to_string(&self.out).unwrap_or_default(),
            stderr: std::fs::read_to_string(&self.err).unwrap_or_default(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `cmd` to the end, output captured.
pub fn finish(cmd: Command, dir: &Path, tag: &str) -> Finished {
    Running::spawn(cmd, dir, tag).wait()
}

/// The `outputs` object of a checkpoint file.
pub fn checkpoint_json(path: &Path) -> Value {
    saved_checkpoint(path).unwrap_or_else(|| panic!("{}: no checkpoint", path.display()))
}

/// The checkpoint at `path` as a run would load it (its journal applied, when a run left
/// one), or `None` when there is none; panics when it cannot be read.
pub fn saved_checkpoint(path: &Path) -> Option<Value> {
    let journal = twinup_engine::checkpoint::journal_path(path);
    if !journal.exists() {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => panic!("{}: {e}", path.display()),
        };
        return Some(
            serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        );
    }
    let checkpoint = twinup_engine::checkpoint::read_checkpoint_file(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))?;
    Some(serde_json::to_value(checkpoint).expect("a checkpoint is JSON"))
}

/// A scratch directory with the reliability answers file.
pub fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("answers.yaml"), ANSWERS).expect("answers");
    dir
}

/// Whether an environment variable of the test process must not reach `twinup`: the inputs,
/// credentials, logging and CA bundle a test gives explicitly when it wants them.
pub fn leaks_in(key: &str) -> bool {
    key.starts_with("TWINUP_")
        || key.starts_with("AZURE_")
        || key == "RUST_LOG"
        || key == "SSL_CERT_FILE"
}

/// Removes from `cmd` every variable of the test's environment that [`leaks_in`].
pub fn clean_env(mut remove: impl FnMut(String)) {
    for (key, _) in std::env::vars() {
        if leaks_in(&key) {
            remove(key);
        }
    }
}
