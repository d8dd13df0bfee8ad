//! A second run on a checkpoint that is in use stops at once, naming the holder; the lock of a
//! process that is gone never blocks.

mod common;

use std::io::Write;

use common::{Scratch, run};

#[test]
fn a_run_on_a_locked_checkpoint_stops_with_the_holder_and_changes_nothing() {
    let s = Scratch::new();
    let up = |s: &Scratch| {
        let mut cmd = s.files_up();
        cmd.env("TWINUP_API_KEY", "k");
        cmd
    };
    assert_eq!(run(&mut up(&s)).code, Some(0));
    let before = s.checkpoint_bytes().unwrap();

    // Another run holds the lock: take it the way twinup does (an OS lock on the .lock file).
    let mut holder = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(s.path(".twinup/checkpoint.json.lock"))
        .unwrap();
    holder.lock().unwrap();
    holder.set_len(0).unwrap();
    holder
        .write_all(b"process 424242 since 2026-11-23 10:00:00 UTC")
        .unwrap();

    let out = run(up(&s).args(["--set", "greeting=changed"]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("in use by another twinup run"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("process 424242"), "{}", out.stderr);
    assert_eq!(s.checkpoint_bytes().unwrap(), before);

    holder.unlock().unwrap();
    drop(holder);
    let out = run(up(&s).args(["--set", "greeting=changed"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn a_killed_run_leaves_no_lock_behind() {
    let s = Scratch::new();
    let mut cmd = s.files_up();
    cmd.env("TWINUP_API_KEY", "k");
    let crashed = run(cmd.env("TWINUP_TEST_CRASH_AFTER_WRITE", "2"));
    assert_ne!(crashed.code, Some(0));
    assert!(s.path(".twinup/checkpoint.json.lock").exists());
    let out = run(cmd.env_remove("TWINUP_TEST_CRASH_AFTER_WRITE"));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}
