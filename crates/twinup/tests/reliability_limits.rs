//! Hostile documents (issue 17): a YAML alias bomb in an answers file and in a plan, and files
//! over the size limit, exit 2 quickly naming the file, the line and the limit, and the child's
//! peak memory (read from its own rusage with `wait4`) stays under 100 MB.

#[path = "common/emulator.rs"]
mod emulator;

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

/// One value that Azure would refuse for its size or shape, given through the answers file
/// (`answers`, replacing the base answers' line for the same input) or `--set`.
struct Refused {
    name: &'static str,
    answers: String,
    args: Vec<String>,
    /// Each must appear in stderr.
    expect: &'static [&'static str],
}

fn refused_cases() -> Vec<Refused> {
    let tags: Vec<String> = (0..51).map(|i| format!("t{i}: v")).collect();
    let case = |name, answers: String, expect| Refused {
        name,
        answers,
        args: Vec::new(),
        expect,
    };
    vec![
        case(
            "3 MB display name",
            format!("app_display_name: {}\n", "n".repeat(3 << 20)),
            &["display_name", "has 3145728 characters", "at most 256"],
        ),
        case(
            "257-character display name",
            format!("app_display_name: {}\n", "n".repeat(257)),
            &["display_name", "at most 256"],
        ),
        case(
            "51 tags",
            format!("tags: {{{}}}\n", tags.join(", ")),
            &["tags", "51 tags given", "at most 50"],
        ),
        case(
            "257-character tag value",
            format!("tags: {{suite: {}}}\n", "v".repeat(257)),
            &["tags.suite", "at most 256"],
        ),
        case(
            "terminal escape in a display name",
            "app_display_name: \"rel\\e]0;pwned\\a\"\n".to_string(),
            &["app_display_name", "U+001B at character 4"],
        ),
        case(
            "right-to-left override in a tag",
            "tags: {suite: \"abc\\u202Etxt.exe\"}\n".to_string(),
            &["tags", "U+202E"],
        ),
        case(
            "NUL in a group name",
            "resource_group: \"rel\\0rg\"\n".to_string(),
            &["resource_group", "U+0000"],
        ),
        Refused {
            args: vec!["--set".into(), "instance_name=rel\u{1b}[2Jtwins".into()],
            ..case(
                "escape sequence through --set",
                String::new(),
                &["instance_name", "U+001B"],
            )
        },
    ]
}

/// The base answers with the lines of `extra` in place of the ones for the same inputs.
fn answers_with(extra: &str) -> String {
    let replaced: Vec<&str> = extra
        .lines()
        .filter_map(|l| l.split_once(':').map(|(k, _)| k))
        .collect();
    let mut text: String = emulator::ANSWERS
        .lines()
        .filter(|l| !replaced.iter().any(|k| l.starts_with(&format!("{k}:"))))
        .map(|l| format!("{l}\n"))
        .collect();
    text.push_str(extra);
    text
}

#[test]
fn values_azure_would_refuse_exit_2_before_any_request() {
    let home = emulator::scratch();
    let emu = emulator::Emu::start(home.path());
    let mut problems = Vec::new();
    for c in refused_cases() {
        let dir = emulator::scratch();
        std::fs::write(dir.path().join("answers.yaml"), answers_with(&c.answers)).unwrap();
        emu.clear_requests();
        let mut cmd = emu.up(dir.path());
        cmd.args(["--answers", "answers.yaml"]).args(&c.args);
        let out = emulator::finish(cmd, dir.path(), "refused");
        let mut wrong = Vec::new();
        if out.code != Some(2) {
            wrong.push(format!("exit {:?}", out.code));
        }
        for needle in c.expect {
            if !out.stderr.contains(needle) {
                wrong.push(format!("no {needle:?} in the message"));
            }
        }
        if out.stderr.contains('\u{1b}') || out.stderr.contains('\u{202e}') {
            wrong.push("a control character reached the terminal".to_string());
        }
        if out.stderr.len() > 4096 {
            wrong.push(format!("a {}-byte message", out.stderr.len()));
        }
        let sent = emu.total();
        if sent != 0 {
            wrong.push(format!("{sent} request(s) sent to Azure"));
        }
        if dir.path().join(".twinup/checkpoint.json").exists() {
            wrong.push("a checkpoint was written".to_string());
        }
        if !wrong.is_empty() {
            problems.push(format!(
                "{}: {}\n    stderr: {}",
                c.name,
                wrong.join("; "),
                out.stderr.chars().take(600).collect::<String>()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
