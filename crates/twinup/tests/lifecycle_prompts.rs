//! Prompts in a real pseudo-terminal (rexpect): the description is shown, a default is taken
//! with Enter, a wrong answer is asked again with the reason, and a secret is read without
//! being echoed or saved.

mod common;

use common::Scratch;
use rexpect::session::spawn_command;

#[test]
fn prompts_take_defaults_reask_wrong_answers_and_hide_secrets() {
    let s = Scratch::new();
    let mut cmd = s.pty_twinup();
    cmd.args(["up", "--plan", "files-plan.yaml"]);
    let mut p = spawn_command(cmd, Some(30_000)).expect("spawn in a pty");

    // greeting: offered its default; Enter takes it.
    p.exp_string("What the first file says")
        .expect("greeting prompt");
    p.exp_string("hello").expect("default offered");
    p.send_line("").expect("enter");

    // audience: a wrong answer is refused with the reason, then asked again.
    p.exp_string("Who the greeting is for")
        .expect("audience prompt");
    p.send_line("World 42").expect("send");
    p.exp_string("^[a-z]+$").expect("reason names the pattern");
    p.send_line("world").expect("send");

    // api_key: typed, never echoed.
    p.exp_string("A secret that must never reach the checkpoint")
        .expect("secret prompt");
    p.send_line("t0p-s3cret-value").expect("send");
    // The summary before the question masks the secret.
    let summary = p
        .exp_string("Deploy? [Y/n]")
        .expect("asks before deploying");
    assert!(
        summary.contains("api_key   ********  (prompt)"),
        "{summary}"
    );
    assert!(!summary.contains("t0p-s3cret-value"), "{summary}");
    p.send("y").expect("yes");
    p.flush().expect("flush");
    let rest = p.exp_eof().expect("run ends");
    assert!(
        rest.contains("Deployment completed successfully"),
        "run did not finish: {rest}"
    );
    // NO_COLOR: plain progress lines, even on a terminal.
    assert!(rest.contains("first: done in"), "{rest}");
    assert!(
        !rest.contains("t0p-s3cret-value"),
        "the secret was echoed: {rest}"
    );

    let first = std::fs::read_to_string(s.path("out/first.txt")).unwrap();
    assert_eq!(first, "hello, world");
    let checkpoint = String::from_utf8(s.checkpoint_bytes().unwrap()).unwrap();
    assert!(!checkpoint.contains("t0p-s3cret-value"));
    assert!(
        checkpoint.contains("\"audience\": \"world\""),
        "{checkpoint}"
    );
}

#[test]
fn down_asks_before_deleting_and_no_keeps_everything() {
    let s = Scratch::new();
    let mut up = s.files_up();
    up.env("TWINUP_API_KEY", "k");
    assert_eq!(common::run(&mut up).code, Some(0));

    let down = |answer: &str| {
        let mut cmd = s.pty_twinup();
        cmd.args(["down", "--plan", "files-plan.yaml"])
            .env("TWINUP_API_KEY", "k");
        let mut p = spawn_command(cmd, Some(30_000)).expect("spawn in a pty");
        p.exp_string("out/first.txt")
            .expect("lists what it deletes");
        p.exp_string("Delete these resources?").expect("asks");
        p.send(answer).expect("answer");
        p.flush().expect("flush");
        let rest = p.exp_eof().expect("ends");
        let status = p.process().wait().expect("exit status");
        (rest, status)
    };
    let (rest, status) = down("n");
    assert!(rest.contains("not confirmed"), "{rest}");
    assert!(
        matches!(status, rexpect::process::WaitStatus::Exited(_, 2)),
        "{status:?}"
    );
    assert!(s.path("out/first.txt").exists());

    let (rest, status) = down("y");
    assert!(rest.contains("Teardown completed: 3 deleted"), "{rest}");
    assert!(
        matches!(status, rexpect::process::WaitStatus::Exited(_, 0)),
        "{status:?}"
    );
    assert!(!s.path("out/first.txt").exists());
}
