//! Issue 14, files stay home and `down` acts on the record: a `file` step writes inside the
//! working directory unless `outside_workdir: true`, never through or over a symlink, and not over
//! a file it did not create unless `overwrite: true`; `down` removes the file the checkpoint
//! recorded, not the one an edited plan names; a changed path is a replacement that `preview`
//! shows and `up` makes only with `--yes`; `verify` checks the recorded file; the checkpoint's
//! directory is as much a home as the working directory.

mod common;

use common::{Scratch, run};

fn plan(path: &str, extra: &str) -> String {
    format!(
        "version: 1\nname: one-file\nsteps:\n  - id: note\n    kind: file\n    with:\n      path: {path}\n      content: written by twinup\n{extra}"
    )
}

fn up(s: &Scratch, args: &[&str]) -> common::Outcome {
    run(s
        .twinup()
        .args(["up", "--plan", "plan.yaml", "--non-interactive"])
        .args(args))
}

#[test]
fn down_after_the_path_was_edited_removes_only_the_recorded_file() {
    let s = Scratch::new();
    s.write("plan.yaml", &plan("a.txt", ""));
    let out = up(&s, &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    s.write("precious.txt", "the user's data");
    s.write("plan.yaml", &plan("precious.txt", ""));

    let down = run(s.twinup().args(["down", "--plan", "plan.yaml", "--yes"]));
    assert_eq!(down.code, Some(0), "{}{}", down.stdout, down.stderr);
    assert!(
        down.stderr.contains("a.txt"),
        "down lists the recorded file: {}",
        down.stderr
    );
    assert!(
        !s.path("a.txt").exists(),
        "the recorded file was not removed"
    );
    assert_eq!(
        std::fs::read_to_string(s.path("precious.txt")).expect("precious.txt survives"),
        "the user's data"
    );
}

#[test]
fn paths_outside_the_working_directory_exit_2_unless_allowed() {
    let s = Scratch::new();
    let outside = tempfile::tempdir().expect("tempdir");
    let absolute = outside.path().join("abs.txt");
    let absolute = absolute.to_str().expect("utf-8");
    // Named after the scratch directory, so the file above it is this test's own.
    let name = s
        .dir
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let up_one = format!("../{name}-x.txt");
    let up_two = format!("out/../../{name}-x.txt");
    for path in [up_one.as_str(), up_two.as_str(), absolute] {
        s.write("plan.yaml", &plan(path, ""));
        let out = up(&s, &[]);
        assert_eq!(out.code, Some(2), "{path}: {}", out.stderr);
        assert!(
            out.stderr.contains("outside the working directory")
                && out.stderr.contains("outside_workdir: true")
                && out.stderr.contains("plan.yaml:7:"),
            "{path}: {}",
            out.stderr
        );
        assert!(
            s.checkpoint_bytes().is_none(),
            "{path}: nothing may be written"
        );
    }
    assert!(!std::path::Path::new(absolute).exists());
    assert!(
        !s.dir.path().join(&up_one).exists(),
        "wrote above the working directory"
    );

    s.write(
        "plan.yaml",
        &plan(absolute, "      outside_workdir: true\n"),
    );
    let out = up(&s, &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(std::path::Path::new(absolute).exists());
}

#[test]
fn symlinks_are_not_followed_or_replaced_and_foreign_files_need_overwrite() {
    let s = Scratch::new();
    let elsewhere = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(elsewhere.path(), s.path("linkdir")).expect("dir link");
    s.write("real.txt", "kept");
    std::os::unix::fs::symlink(s.path("real.txt"), s.path("link.txt")).expect("file link");
    for path in ["linkdir/x.txt", "link.txt"] {
        s.write("plan.yaml", &plan(path, "      overwrite: true\n"));
        let out = up(&s, &[]);
        assert_eq!(out.code, Some(2), "{path}: {}", out.stderr);
        assert!(out.stderr.contains("symlink"), "{path}: {}", out.stderr);
    }
    assert!(
        !elsewhere.path().join("x.txt").exists(),
        "wrote through a symlinked directory"
    );
    assert!(
        std::fs::symlink_metadata(s.path("link.txt"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(s.path("real.txt")).unwrap(), "kept");

    // An existing file: refused, then with `overwrite: true` written, recorded as not created
    // and kept by `down`.
    s.write("theirs.txt", "someone else's");
    s.write("plan.yaml", &plan("theirs.txt", ""));
    let out = up(&s, &[]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("theirs.txt already exists"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(s.path("theirs.txt")).unwrap(),
        "someone else's"
    );
    s.write("plan.yaml", &plan("theirs.txt", "      overwrite: true\n"));
    let out = up(&s, &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(s.checkpoint()["steps"]["note"]["outputs"]["created"], false);
    let down = run(s.twinup().args(["down", "--plan", "plan.yaml", "--yes"]));
    assert_eq!(down.code, Some(0), "{}", down.stderr);
    assert!(down.stderr.contains("kept"), "{}", down.stderr);
    assert!(
        s.path("theirs.txt").exists(),
        "down removed a file twinup did not create"
    );
}

#[test]
fn a_changed_path_is_a_replacement_confirmed_with_yes() {
    let s = Scratch::new();
    s.write("plan.yaml", &plan("old.txt", ""));
    assert_eq!(up(&s, &[]).code, Some(0));
    s.write("plan.yaml", &plan("new.txt", ""));

    let preview = run(s.twinup().args(["preview", "--plan", "plan.yaml"]));
    assert_eq!(preview.code, Some(0), "{}", preview.stderr);
    assert!(
        preview.stdout.contains("replace") && preview.stdout.contains("old.txt -> "),
        "{}",
        preview.stdout
    );
    let refused = up(&s, &[]);
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("--yes") && refused.stderr.contains("note"),
        "{}",
        refused.stderr
    );
    assert!(s.path("old.txt").exists() && !s.path("new.txt").exists());

    let out = up(&s, &["--yes"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(s.path("new.txt").exists(), "the new file was not written");
    assert!(!s.path("old.txt").exists(), "the old file is an orphan");
}

#[test]
fn a_path_in_the_checkpoints_directory_is_allowed() {
    let s = Scratch::new();
    let state = tempfile::tempdir().expect("tempdir");
    let target = state.path().join("settings.txt");
    let target = target.to_str().expect("utf-8");
    let checkpoint = state.path().join("cp.json");
    let checkpoint = checkpoint.to_str().expect("utf-8");
    s.write("plan.yaml", &plan(target, ""));
    let refused = up(&s, &[]);
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(!std::path::Path::new(target).exists());

    let out = up(&s, &["--checkpoint", checkpoint]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(target).expect("written beside the checkpoint"),
        "written by twinup"
    );
}

#[test]
fn verify_after_the_path_was_edited_checks_the_recorded_file() {
    let s = Scratch::new();
    s.write("plan.yaml", &plan("a.txt", ""));
    assert_eq!(up(&s, &[]).code, Some(0));
    s.write("plan.yaml", &plan("b.txt", ""));

    let verify = run(s.twinup().args(["verify", "--plan", "plan.yaml"]));
    assert_eq!(verify.code, Some(0), "{}{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains("plan now names another target") && verify.stdout.contains("b.txt"),
        "{}",
        verify.stdout
    );
    std::fs::remove_file(s.path("a.txt")).expect("a.txt");
    let verify = run(s.twinup().args(["verify", "--plan", "plan.yaml"]));
    assert_eq!(verify.code, Some(1), "{}{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains("note: deleted outside twinup"),
        "{}",
        verify.stdout
    );
    assert!(!s.path("b.txt").exists());
}
