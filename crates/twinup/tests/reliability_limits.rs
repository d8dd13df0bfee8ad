//! Hostile documents (issue 17): a YAML alias bomb in an answers file and in a plan, and files
//! over the size limit, exit 2 quickly naming the file, the line and the limit, and the child's
//! peak memory (read from its own rusage with `wait4`) stays under 100 MB.

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Peak memory a hostile input may make twinup use.
const MEMORY_BOUND_KIB: i64 = 100 * 1024;

/// What one run of the binary did.
struct Run {
    code: Option<i32>,
    stderr: String,
    wall: Duration,
    max_rss_kib: i64,
}

/// Runs twinup with `args` in `dir` and waits for it with `wait4`, which reports that child's
/// own peak resident size (Linux: kibibytes).
// The child is reaped by `wait4` below, which std does not know of.
#[allow(clippy::zombie_processes)]
fn run(dir: &Path, args: &[&str]) -> Run {
    let stderr_path = dir.join("stderr.txt");
    let stderr = std::fs::File::create(&stderr_path).unwrap();
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_twinup"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value to be filled in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `child.id()` is our own unwaited child; both pointers are valid for the call.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t, "wait4 failed");
    let wall = start.elapsed();
    let status = std::process::ExitStatus::from_raw(status);
    Run {
        code: status.code(),
        stderr: std::fs::read_to_string(&stderr_path).unwrap(),
        wall,
        max_rss_kib: usage.ru_maxrss,
    }
}

/// Nine levels of anchors, each a list of nine aliases to the one before: 9^9 nodes once
/// expanded, a few hundred bytes as written.
fn alias_bomb(indent: &str) -> String {
    let mut text = format!("{indent}a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for level in 1..=9 {
        let prev = level - 1;
        let items = vec![format!("*a{prev}"); 9].join(", ");
        text.push_str(&format!("{indent}a{level}: &a{level} [{items}]\n"));
    }
    text
}

fn assert_refused_cheaply(run: &Run, file: &str, limit_words: &str) {
    eprintln!(
        "{file}: exit {:?} in {:?}, peak {} KiB",
        run.code, run.wall, run.max_rss_kib
    );
    assert_eq!(run.code, Some(2), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains(file) && run.stderr.contains(limit_words),
        "stderr names neither {file} nor the limit: {}",
        run.stderr
    );
    assert!(
        run.wall < Duration::from_secs(2),
        "took {:?} to refuse it",
        run.wall
    );
    assert!(
        run.max_rss_kib < MEMORY_BOUND_KIB,
        "peak memory {} KiB is over the {} KiB bound",
        run.max_rss_kib,
        MEMORY_BOUND_KIB
    );
}

#[test]
fn alias_bomb_in_an_answers_file_is_refused_within_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let plan = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/files-plan.yaml");
    std::fs::write(dir.path().join("answers.yaml"), alias_bomb("")).unwrap();
    let run = run(
        dir.path(),
        &[
            "up",
            "--plan",
            plan.to_str().unwrap(),
            "--answers",
            "answers.yaml",
            "--non-interactive",
        ],
    );
    assert_refused_cheaply(&run, "answers.yaml:", "expands to more than 16 MiB");
    assert!(!dir.path().join(".twinup/checkpoint.json").exists());
}

#[test]
fn alias_bomb_in_a_plan_is_refused_within_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let plan = format!(
        "version: 1\nname: bomb\nsteps:\n  - id: one\n    kind: file\n    with:\n      path: out.txt\n      content:\n{}",
        alias_bomb("        ")
    );
    std::fs::write(dir.path().join("bomb.yaml"), plan).unwrap();
    let run = run(dir.path(), &["plan", "--plan", "bomb.yaml"]);
    assert_refused_cheaply(&run, "bomb.yaml:", "expands to more than 16 MiB");
}

#[test]
fn files_over_the_size_limit_are_refused_before_they_are_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    // 64 MiB of one comment line: far over the 4 MiB limit; reading it whole would show in rss.
    // Written in chunks, so the test process itself stays small (a child's peak size counts
    // the parent's pages it was forked with).
    let mut big = std::fs::File::create(dir.path().join("big.yaml")).unwrap();
    big.write_all(b"# ").unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..64 {
        big.write_all(&chunk).unwrap();
    }
    drop(big);
    let run = run(dir.path(), &["plan", "--plan", "big.yaml"]);
    assert_refused_cheaply(
        &run,
        "big.yaml:1:1",
        "larger than the limit of 4194304 bytes",
    );
    let plan = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/files-plan.yaml");
    let run = self::run(
        dir.path(),
        &[
            "up",
            "--plan",
            plan.to_str().unwrap(),
            "--answers",
            "big.yaml",
            "--non-interactive",
        ],
    );
    assert_refused_cheaply(
        &run,
        "big.yaml:1:1",
        "larger than the limit of 4194304 bytes",
    );
}
