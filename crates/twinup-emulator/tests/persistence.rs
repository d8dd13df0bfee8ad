//! State across restarts: a restarted emulator (same state file) keeps ids, secret and resources
//! and finishes operations begun before; a process killed while writing leaves a loadable state
//! holding every change it acknowledged.

mod common;

use std::io::BufRead;
use std::process::{Command, Stdio};

use common::{config, start_with};
use reqwest::Method;
use serde_json::{Value, json};
use twinup_emulator::{EmulatorConfig, EmulatorInfo};

#[tokio::test]
async fn a_restarted_emulator_keeps_identity_and_resources() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("azure.json");
    let cfg = EmulatorConfig {
        state_path: Some(state.clone()),
        ..config()
    };
    let env = start_with(cfg.clone()).await;
    env.create_rg("keep-rg", "westus2").await;
    let r = env
        .arm(
            Method::PUT,
            &env.dt_path("keep-rg", "keep-adt"),
            Some(json!({"location": "westus2"})),
        )
        .await;
    assert_eq!(r.status, 201);
    let first = env.info.clone();
    env.shutdown().await;

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the state file holds secrets");
    }

    let env = start_with(cfg).await;
    assert_eq!(env.info.tenant_id, first.tenant_id);
    assert_eq!(env.info.client_id, first.client_id);
    assert_eq!(env.info.client_secret, first.client_secret);
    let rg = env
        .arm(
            Method::GET,
            &format!(
                "/subscriptions/{}/resourceGroups/keep-rg?api-version=2025-04-01",
                env.sub()
            ),
            None,
        )
        .await;
    assert_eq!(rg.status, 200);
    // The create began before the restart; polling the old operation URL still completes it.
    let path = r
        .header("azure-asyncoperation")
        .unwrap()
        .replace(&first.url, &env.info.url);
    assert_eq!(env.poll_status(&path).await["status"], "Succeeded");
    let dt = env
        .arm(Method::GET, &env.dt_path("keep-rg", "keep-adt"), None)
        .await;
    assert_eq!(dt.body["properties"]["provisioningState"], "Succeeded");
    env.shutdown().await;
}

fn spawn(state: &std::path::Path) -> (std::process::Child, EmulatorInfo) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_twinup-emulator"))
        .arg("--state")
        .arg(state)
        .arg("--time-scale")
        .arg("0.001")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: EmulatorInfo = serde_json::from_str(&line).unwrap();
    (child, info)
}

async fn token(http: &reqwest::Client, info: &EmulatorInfo) -> String {
    let r: Value = http
        .post(format!("{}/{}/oauth2/v2.0/token", info.url, info.tenant_id))
        .form(&[
            ("client_id", info.client_id.as_str()),
            ("client_secret", &info.client_secret),
            ("grant_type", "client_credentials"),
            ("scope", common::ARM_SCOPE),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn killing_the_process_mid_write_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("azure.json");
    let (mut child, info) = spawn(&state);
    let http = reqwest::Client::new();
    let t = token(&http, &info).await;
    let mut acknowledged = Vec::new();
    for i in 0..40 {
        let name = format!("crash-rg-{i}");
        let url = format!(
            "{}/subscriptions/{}/resourcegroups/{name}?api-version=2025-04-01",
            info.url, info.subscription_id
        );
        let r = http
            .put(&url)
            .bearer_auth(&t)
            .json(&json!({"location": "westus2", "tags": {"n": i}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        acknowledged.push(name);
    }
    // Fire more writes and kill the process while they are in flight.
    let mut inflight = Vec::new();
    for i in 40..80 {
        let url = format!(
            "{}/subscriptions/{}/resourcegroups/crash-rg-{i}?api-version=2025-04-01",
            info.url, info.subscription_id
        );
        let req = http
            .put(&url)
            .bearer_auth(&t)
            .json(&json!({"location": "westus2"}));
        inflight.push(tokio::spawn(async move { req.send().await }));
    }
    child.kill().unwrap();
    let _ = child.wait();
    for h in inflight {
        let _ = h.await;
    }

    let (mut child, info2) = spawn(&state);
    assert_eq!(info2.client_secret, info.client_secret);
    let t = token(&http, &info2).await;
    let list: Value = http
        .get(format!(
            "{}/subscriptions/{}/resourcegroups?api-version=2025-04-01",
            info2.url, info2.subscription_id
        ))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    for a in &acknowledged {
        assert!(
            names.contains(&a.as_str()),
            "{a} was acknowledged but is gone"
        );
    }
    child.kill().unwrap();
    let _ = child.wait();
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(
        leftovers.len() <= 1,
        "at most the write in flight at the kill leaves a temp file"
    );
}
