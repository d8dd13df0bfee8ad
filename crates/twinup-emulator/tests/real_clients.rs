//! The emulator checked by clients nobody here wrote: the official Python SDKs (azure-identity,
//! azure-mgmt-resource, azure-mgmt-digitaltwins, azure-mgmt-authorization, msgraph-sdk) and the
//! az CLI, pinned in `tests/pyclients/requirements.txt`, run the scenarios in `tests/pyclients/`
//! against the emulator's own binary over TLS. Each scenario asserts what Azure answers (status
//! codes, error codes, fields) and exits non-zero on the first departure.
//!
//! The clients are installed from PyPI on first use into `<target>/pyclients-venv` by
//! `tests/pyclients/install.sh` (keyed by the requirements file's hash, guarded by a file lock),
//! so reruns start at once. No Python, or no PyPI, fails these tests loudly: they never pass
//! without the clients. `TWINUP_EMULATOR_BIN` runs them against another emulator binary (for
//! instance an older build, to see which scenarios it fails).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn venv_dir() -> PathBuf {
    std::env::var_os("TWINUP_PYCLIENTS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_TARGET_TMPDIR"))
                .parent()
                .unwrap_or(Path::new(env!("CARGO_TARGET_TMPDIR")))
                .join("pyclients-venv")
        })
}

/// The venv's `bin/` directory, installing the clients first if needed (once per target dir).
fn venv_bin() -> PathBuf {
    let venv = venv_dir();
    std::fs::create_dir_all(venv.parent().unwrap_or(Path::new("."))).expect("target dir");
    let lock_path = venv.with_extension("lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .expect("pyclients install lock file");
    lock.lock().expect("pyclients install lock");
    // The script itself decides whether the venv is current (hash of the requirements file).
    let out = Command::new("bash")
        .arg(repo_root().join("tests/pyclients/install.sh"))
        .arg(&venv)
        .output()
        .expect("run tests/pyclients/install.sh (needs bash)");
    let _ = lock.unlock();
    assert!(
        out.status.success() && venv.join("bin/az").exists(),
        "the Python clients could not be installed from PyPI into {} ({}):\n{}\n\
         The real-clients tests need them: check that python3 (with venv) and the PyPI registry \
         are reachable, or run tests/pyclients/install.sh beforehand.",
        venv.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    venv.join("bin")
}

/// The emulator's binary running over TLS with its state in a scratch directory; killed on drop.
struct Emulator {
    child: Child,
    info: Value,
    dir: tempfile::TempDir,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Emulator {
    fn start() -> Emulator {
        let bin = std::env::var_os("TWINUP_EMULATOR_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_twinup-emulator")));
        let dir = tempfile::tempdir().expect("scratch dir");
        let mut child = Command::new(&bin)
            .args(["--tls", "--time-scale", "0.01", "--state"])
            .arg(dir.path().join("state.json"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("emulator stdout"))
            .read_line(&mut line)
            .expect("the emulator prints its endpoints");
        let info: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the emulator's first line is not JSON ({e}): {line}"));
        Emulator { child, info, dir }
    }

    fn field(&self, name: &str) -> &str {
        self.info[name]
            .as_str()
            .unwrap_or_else(|| panic!("the emulator info has no {name}: {}", self.info))
    }
}

/// Runs `tests/pyclients/{script}` against a fresh emulator and fails with its output if it fails.
fn scenario(script: &str) {
    let bin = venv_bin();
    let emu = Emulator::start();
    let ca = emu.field("ca_cert").to_string();
    let az_config = emu.dir.path().join("azure-config");
    std::fs::create_dir_all(&az_config).expect("az config dir");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(bin.join("python"))
        .arg(repo_root().join("tests/pyclients").join(script))
        .current_dir(repo_root().join("tests/pyclients"))
        .env("PATH", path)
        .env("EMU_URL", emu.field("url"))
        .env("EMU_TENANT", emu.field("tenant_id"))
        .env("EMU_SUBSCRIPTION", emu.field("subscription_id"))
        .env("EMU_CLIENT_ID", emu.field("client_id"))
        .env("EMU_CLIENT_SECRET", emu.field("client_secret"))
        .env("EMU_USER_UPN", emu.field("user_principal_name"))
        .env("EMU_USER_ID", emu.field("user_object_id"))
        .env("REQUESTS_CA_BUNDLE", &ca)
        .env("SSL_CERT_FILE", &ca)
        .env_remove("SSL_CERT_DIR")
        .env("AZURE_CONFIG_DIR", &az_config)
        .env_remove("PYCLIENTS_KEEP_GOING")
        .env_remove("PYCLIENTS_DIRECT_TOKEN")
        .stdin(Stdio::null())
        .output()
        .expect("run the venv's python");
    assert!(
        out.status.success(),
        "scenario tests/pyclients/{script} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn msal_clients_sign_in_through_the_openid_configuration() {
    scenario("msal_signin.py");
}

#[test]
fn resource_groups_and_arm_error_codes_through_azure_mgmt_resource() {
    scenario("sdk_resources.py");
}

#[test]
fn digital_twins_instances_through_azure_mgmt_digitaltwins() {
    scenario("sdk_digitaltwins.py");
}

#[test]
fn identities_and_endpoints_through_azure_mgmt_msi_and_digitaltwins() {
    scenario("sdk_identities.py");
}

#[test]
fn role_definitions_and_assignments_through_azure_mgmt_authorization() {
    scenario("sdk_authorization.py");
}

#[test]
fn graph_users_applications_and_service_principals_through_msgraph_sdk() {
    scenario("sdk_graph.py");
}

#[test]
fn application_sign_in_settings_and_owners_through_msgraph_sdk() {
    scenario("sdk_graph_app_settings.py");
}

#[test]
fn az_cli_with_the_emulator_as_a_custom_cloud() {
    scenario("az_cli.py");
}
