//! Azurite, the Azure Storage emulator, for the blob checkpoint tests: installed from the npm
//! registry on first use (`tests/azurite/install.sh`, once per target directory, guarded by a
//! file lock) and started on a free loopback port with its own scratch storage. When it cannot
//! be installed or started the tests fail loudly; they never pass without it.
//!
//! Included by test crates with `#[path = ".../tests/azurite/azurite.rs"] mod azurite;`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The emulator's well-known development account.
pub const ACCOUNT: &str = "devstoreaccount1";
/// A connection string for it (the published development account key).
pub const CONNECTION_STRING: &str = "UseDevelopmentStorage=true";

/// A running Azurite blob service; killed when dropped.
pub struct Azurite {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    _storage: tempfile::TempDir,
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn install_dir() -> PathBuf {
    std::env::var_os("TWINUP_AZURITE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("azurite"))
}

/// The `azurite-blob` launcher, installing Azurite first if needed.
fn azurite_blob() -> PathBuf {
    let dir = install_dir();
    let bin = dir.join("node_modules/.bin/azurite-blob");
    if bin.exists() {
        return bin;
    }
    std::fs::create_dir_all(dir.parent().unwrap_or(Path::new("."))).expect("target dir");
    let lock_path = dir.with_extension("lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .expect("azurite install lock file");
    lock.lock().expect("azurite install lock");
    if !bin.exists() {
        let out = Command::new("bash")
            .arg(repo_root().join("tests/azurite/install.sh"))
            .arg(&dir)
            .output()
            .expect("run tests/azurite/install.sh (needs bash)");
        assert!(
            out.status.success() && bin.exists(),
            "Azurite could not be installed from the npm registry into {} ({}):\n{}\n\
             The blob checkpoint tests need it: check that node, npm and the npm registry are \
             reachable, or run tests/azurite/install.sh beforehand.",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = lock.unlock();
    bin
}

impl Azurite {
    /// Installs (once) and starts Azurite on a free port of 127.0.0.1.
    pub fn start() -> Azurite {
        let bin = azurite_blob();
        let storage = tempfile::tempdir().expect("azurite storage dir");
        let mut child = Command::new(&bin)
            .args(["--blobHost", "127.0.0.1", "--blobPort", "0", "--location"])
            .arg(storage.path())
            .args(["--silent", "--skipApiVersionCheck", "--disableTelemetry"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let stdout = child.stdout.take().expect("azurite stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent && let Some(port) = listening_port(&line) {
                    let _ = tx.send(port);
                    sent = true;
                }
            }
        });
        let port = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "Azurite ({}) did not report a listening port within 60 s",
                    bin.display()
                );
            }
        };
        Azurite {
            child,
            port,
            _storage: storage,
        }
    }

    /// The account's base URL: `http://127.0.0.1:{port}/devstoreaccount1`.
    pub fn account_url(&self) -> String {
        format!("http://127.0.0.1:{}/{ACCOUNT}", self.port)
    }

    /// The URL of blob `name` in `container`.
    pub fn blob_url(&self, container: &str, name: &str) -> String {
        format!("{}/{container}/{name}", self.account_url())
    }
}

impl Azurite {
    /// Creates container `name` (blocking; usable from sync and async tests alike).
    pub fn create_container(&self, name: &str) {
        let url = format!("{}/{name}?restype=container", self.account_url());
        let status = self.put(url, Vec::new(), &[]);
        assert!(
            status == 201 || status == 409,
            "creating container {name} failed: HTTP {status}"
        );
    }

    /// Writes `bytes` to blob `name` in `container` directly (no lease, no condition).
    pub fn put_blob(&self, container: &str, name: &str, bytes: &[u8]) -> u16 {
        self.put(
            self.blob_url(container, name),
            bytes.to_vec(),
            &[("x-ms-blob-type", "BlockBlob")],
        )
    }

    /// A PUT signed with a SAS for the development account; returns the HTTP status.
    fn put(&self, url: String, body: Vec<u8>, headers: &[(&str, &str)]) -> u16 {
        use twinup_azure::checkpoint_blob::{
            BlobAddress, BlobCredential, CredentialSources, choose_credential,
        };
        use twinup_azure::secret::Secret;
        let address = BlobAddress::parse(&self.blob_url("probe", "x.json")).expect("address");
        let sources = CredentialSources {
            connection_string: Some(Secret::new(CONNECTION_STRING)),
            token_provider: None,
        };
        let Ok((BlobCredential::Sas(sas), _)) = choose_credential(&address, &sources) else {
            panic!("no SAS for Azurite");
        };
        let sep = if url.contains('?') { '&' } else { '?' };
        let url = format!("{url}{sep}{}", sas.expose());
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let mut req = reqwest::Client::new()
                    .put(url)
                    .header("x-ms-version", "2022-11-02")
                    .body(body);
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                req.send().await.expect("PUT to Azurite").status().as_u16()
            })
        })
        .join()
        .expect("PUT thread")
    }
}

/// The port in Azurite's "successfully listens on http://127.0.0.1:PORT" line.
fn listening_port(line: &str) -> Option<u16> {
    let rest = line.split("listens on http://127.0.0.1:").nth(1)?;
    rest.trim()
        .trim_end_matches('/')
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}
