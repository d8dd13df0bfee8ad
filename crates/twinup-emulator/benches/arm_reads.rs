//! Throughput benchmark: mixed ARM reads (resource group, instance, role assignment list,
//! subscription) from concurrent clients against an in-process emulator on a 2-worker runtime.
//! Run: `cargo bench -p twinup-emulator --bench arm_reads` (prints requests per second).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use twinup_emulator::{Emulator, EmulatorConfig};

const CLIENTS: usize = 16;
const SECONDS: u64 = 5;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let emu = Emulator::start(EmulatorConfig {
        time_scale: 0.0001,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let info = emu.info().clone();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .expect("client");
    let token: Value = http
        .post(format!("{}/{}/oauth2/v2.0/token", info.url, info.tenant_id))
        .form(&[
            ("client_id", info.client_id.as_str()),
            ("client_secret", &info.client_secret),
            ("grant_type", "client_credentials"),
            ("scope", "https://management.azure.com/.default"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let token = token["access_token"]
        .as_str()
        .expect("access token")
        .to_string();
    let sub = info.subscription_id.clone();
    let base = info.url.clone();
    let rg = format!("{base}/subscriptions/{sub}/resourcegroups/bench-rg?api-version=2025-04-01");
    http.put(&rg)
        .bearer_auth(&token)
        .json(&json!({"location": "westus2"}))
        .send()
        .await
        .expect("rg");
    let dt = format!(
        "{base}/subscriptions/{sub}/resourceGroups/bench-rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/bench-adt?api-version=2023-01-31"
    );
    http.put(&dt)
        .bearer_auth(&token)
        .json(&json!({"location": "westus2"}))
        .send()
        .await
        .expect("dt");
    let urls = Arc::new(vec![
        rg,
        dt,
        format!(
            "{base}/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01"
        ),
        format!("{base}/subscriptions/{sub}?api-version=2022-12-01"),
    ]);
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (http, token, urls, done, errors) = (
            http.clone(),
            token.clone(),
            urls.clone(),
            done.clone(),
            errors.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = c;
            while Instant::now() < deadline {
                let url = &urls[i % urls.len()];
                i += 1;
                match http.get(url).bearer_auth(&token).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    let start = Instant::now();
    for t in tasks {
        let _ = t.await;
    }
    let secs = start.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!(
        "arm_reads: {n} requests in {secs:.2} s = {:.0} req/s ({CLIENTS} clients, 2 runtime workers, {} errors)",
        n as f64 / secs,
        errors.load(Ordering::Relaxed)
    );
    emu.shutdown().await;
}
