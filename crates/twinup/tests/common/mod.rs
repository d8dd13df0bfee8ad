//! Helpers shared by the binary's end-to-end tests: a scratch directory with the fixtures, and
//! a way to run the real `twinup` binary in it.

#![allow(dead_code)]

pub mod azure;
pub mod emulator;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

use emulator::clean_env;

/// The repository's top-level `tests/fixtures` directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// `up` on the files plan (`tests/fixtures/files-plan.yaml`), unattended, with the one
/// required input set; the secret input comes from `TWINUP_API_KEY`.
pub const FILES_UP: &[&str] = &[
    "up",
    "--plan",
    "files-plan.yaml",
    "--non-interactive",
    "--set",
    "audience=world",
];

/// A scratch working directory for one test.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    /// A new empty directory with the fixture plans copied in.
    pub fn new() -> Scratch {
        let dir = tempfile::tempdir().expect("tempdir");
        for entry in std::fs::read_dir(fixtures()).expect("fixtures") {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
        }
        Scratch { dir }
    }

    /// Path of `name` inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `text` to `name`.
    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).expect("write");
    }

    /// `twinup` with the working directory set here and no TWINUP_/AZURE_ variables leaking in.
    pub fn twinup(&self) -> Command {
        let mut cmd = Command::cargo_bin("twinup").expect("binary");
        cmd.current_dir(self.dir.path());
        clean_env(|key| {
            cmd.env_remove(key);
        });
        cmd
    }

    /// `twinup up` on the files plan ([`FILES_UP`]); the test sets `TWINUP_API_KEY`.
    pub fn files_up(&self) -> Command {
        let mut cmd = self.twinup();
        cmd.args(FILES_UP);
        cmd
    }

    /// `twinup` for a pseudo-terminal (rexpect): here, without colour, no variable leaking in.
    pub fn pty_twinup(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("twinup"));
        cmd.current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env("TERM", "xterm");
        clean_env(|key| {
            cmd.env_remove(key);
        });
        cmd
    }

    /// The checkpoint's bytes, if it exists.
    pub fn checkpoint_bytes(&self) -> Option<Vec<u8>> {
        std::fs::read(self.path(".twinup/checkpoint.json")).ok()
    }

    /// The checkpoint as JSON, as a run would load it (its journal applied, if a run left one).
    pub fn checkpoint(&self) -> serde_json::Value {
        emulator::saved_checkpoint(&self.path(".twinup/checkpoint.json"))
            .expect("checkpoint exists")
    }
}

/// The output of a finished command, as text.
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Everything printed, stdout then stderr.
    pub fn all_text(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs `cmd` to completion and captures what it printed.
pub fn run(cmd: &mut Command) -> Outcome {
    let out = cmd.output().expect("run twinup");
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
