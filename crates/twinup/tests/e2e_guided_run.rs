//! The guided run: `twinup up --cloud local` without an answers file, in a real terminal, asks
//! for each input of the built-in plan (offering the discovered subscription and signed-in
//! principal, and the plan's defaults) and then deploys.

mod common;

use common::Scratch;
use rexpect::session::spawn_command;

#[test]
fn a_guided_run_prompts_for_each_input_and_deploys() {
    let s = Scratch::new();
    let mut cmd = s.pty_twinup();
    cmd.args(["up", "--cloud", "local"]);
    let mut p = spawn_command(cmd, Some(60_000)).expect("spawn in a pty");

    // Discovered defaults: Enter accepts them.
    p.exp_string("Azure subscription id to deploy into")
        .expect("subscription prompt");
    p.send_line("").expect("enter");
    p.exp_string("Azure region").expect("location prompt");
    p.send_line("westus2").expect("send");
    p.exp_string("Resource group to create or reuse")
        .expect("group prompt");
    p.send_line("rg-guided").expect("send");
    p.exp_string("Name of the Azure Digital Twins instance")
        .expect("instance prompt");
    p.send_line("-bad-").expect("send");
    p.exp_string("expected a string matching")
        .expect("a wrong name is refused with the reason");
    p.send_line("twins-guided").expect("send");
    p.exp_string("User (UPN) or object id to give the data role")
        .expect("assignee prompt");
    p.send_line("").expect("enter");
    // The rest have plan defaults: take them all.
    for label in [
        "Type of the role assignee",
        "Data-plane role to assign",
        "Display name of the app registration",
        "Reply (redirect) URL",
        "Create the Azure AD app registration",
        "grant admin consent",
        "Tags for the resource group",
        "Managed identity of the instance",
        "reachable from public networks",
    ] {
        p.exp_string(label)
            .unwrap_or_else(|e| panic!("prompt {label:?}: {e}"));
        p.send_line("").expect("enter");
    }
    let rest = p.exp_eof().expect("run ends");
    assert!(rest.contains("Deployment completed successfully"), "{rest}");
    assert!(
        rest.contains("https://twins-guided.api.wus2.digitaltwins.azure.net"),
        "{rest}"
    );
}

#[test]
fn ctrl_c_at_a_prompt_exits_130_and_writes_nothing() {
    let s = Scratch::new();
    let mut cmd = s.pty_twinup();
    cmd.args(["up", "--plan", "files-plan.yaml"]);
    let mut p = spawn_command(cmd, Some(30_000)).expect("spawn in a pty");
    p.exp_string("What the first file says")
        .expect("first prompt");
    p.send_control('c').expect("ctrl-c");
    p.exp_string("nterrupted at").expect("message");
    match p.process().wait().expect("exit") {
        rexpect::process::WaitStatus::Exited(_, code) => assert_eq!(code, 130),
        other => panic!("expected exit 130, got {other:?}"),
    }
    assert!(s.checkpoint_bytes().is_none(), "nothing may be written");
}

#[test]
fn on_a_terminal_the_live_view_shows_the_steps_and_the_result() {
    let s = Scratch::new();
    let mut cmd = s.pty_twinup();
    cmd.args(common::FILES_UP)
        .env("TWINUP_API_KEY", "k")
        .env_remove("NO_COLOR");
    let mut p = spawn_command(cmd, Some(30_000)).expect("spawn in a pty");
    let all = p.exp_eof().expect("run ends");
    assert!(all.contains("Deployment completed successfully"), "{all}");
    for step in ["first", "second", "settings"] {
        assert!(all.contains(step), "step {step} not shown: {all}");
    }
    // The live view redraws in place: it moves the cursor up and clears lines, which plain
    // lines (NO_COLOR, or no terminal) never do.
    assert!(
        all.contains("\u{1b}[1A") && all.contains("\u{1b}[2K"),
        "expected the live view's redraws: {all:?}"
    );
}
