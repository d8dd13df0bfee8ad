//! The emulator as the end-to-end tests of the built-in setup and the lifecycle commands use
//! it: [`super::emulator::Emu`] (the process, its admin API and request log) plus the checks
//! those tests make (write requests, counts by route, extra principals) and a `twinup up`
//! already pointed at it as a custom cloud.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::emulator::Emu;

/// A running `twinup emulator` process; killed when dropped.
pub struct EmulatorProcess {
    emu: Emu,
    /// The JSON line the emulator printed.
    pub info: Value,
}

impl std::ops::Deref for EmulatorProcess {
    type Target = Emu;
    fn deref(&self) -> &Emu {
        &self.emu
    }
}

impl EmulatorProcess {
    /// Starts an emulator (time scale 0.01) keeping its state in `dir`, optionally over HTTPS.
    pub fn start(dir: &Path, tls: bool) -> EmulatorProcess {
        let emu = Emu::start_with(dir, 0.01, tls);
        let info = emu.info.clone();
        EmulatorProcess { emu, info }
    }

    /// The CA certificate file (with `--tls`).
    pub fn ca_cert(&self) -> Option<PathBuf> {
        self.info["ca_cert"].as_str().map(PathBuf::from)
    }

    /// Requests that change something in Azure (token requests and name checks are reads).
    pub fn writes(&self) -> Vec<String> {
        self.entries()
            .iter()
            .filter(|e| e.is_write())
            .map(|e| e.kind())
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

    /// `twinup up` against this emulator as a custom cloud, signed in as its admin principal.
    pub fn up(&self, scratch: &super::Scratch) -> assert_cmd::Command {
        let mut cmd = scratch.twinup();
        cmd.args(["up", "--non-interactive"])
            .args(self.cloud_args())
            .envs(self.cloud_env());
        cmd
    }

    /// `twinup down --yes` against this emulator, as [`EmulatorProcess::up`] signs in.
    pub fn down(&self, scratch: &super::Scratch) -> assert_cmd::Command {
        let mut cmd = scratch.twinup();
        cmd.args(["down", "--yes", "--non-interactive"])
            .args(self.cloud_args())
            .envs(self.cloud_env());
        cmd
    }
}
