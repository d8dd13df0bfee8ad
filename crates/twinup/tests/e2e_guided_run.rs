//! The guided run: `twinup up --cloud local` without an answers file, in a real terminal, asks
//! for each input of the built-in plan (offering the discovered subscription and signed-in
//! principal, and the plan's defaults), checks each answer where it is typed with the rules
//! the steps apply (regions, reply URLs, names), and then deploys. A run whose preflight fails
//! keeps the answers, and the next asks only for the one that was wrong. Redraws leave no stale
//! lines on an 80-column terminal, checked on the screen a terminal would draw (vt100).

mod common;

use common::Scratch;
use rexpect::session::spawn_command;

#[test]
fn a_guided_run_prompts_for_each_input_and_deploys() {
    let s = Scratch::new();
    let mut cmd = s.pty_twinup();
    cmd.args(["up", "--cloud", "local"]);
    let mut p = spawn_command(cmd, Some(60_000)).expect("spawn in a pty");

    // Discovered defaults: Enter accepts them. A prompt wider than the terminal (a pty is 80
    // columns) has its description on a line of its own, so redraws leave no stale copy.
    p.exp_string("Azure subscription id to deploy into")
        .expect("subscription prompt");
    p.exp_string("(default - the only one your credential can see)\r\n? subscription")
        .expect("the long description above a short prompt");
    p.send_line("").expect("enter");
    p.exp_string("Azure region").expect("location prompt");
    // A region Azure does not have is refused at its prompt, with the rule, and asked again.
    p.send_line("westus9").expect("send");
    p.exp_string("'westus9' is not an Azure region")
        .expect("a wrong region is refused where it is typed");
    p.exp_string("you mean `westus`?")
        .expect("with a suggestion");
    p.send_line("westus2").expect("send");
    p.exp_string("Resource group to create or reuse")
        .expect("group prompt");
    p.send_line("rg-guided").expect("send");
    p.exp_string("Name of the Azure Digital Twins instance")
        .expect("instance prompt");
    p.send_line("-bad-").expect("send");
    p.exp_string("use 3-63 letters, digits, hyphens")
        .expect("a wrong name is refused with the rule in words");
    p.send_line("twins-guided").expect("send");
    p.exp_string("User (UPN) or object id to give the data role")
        .expect("assignee prompt");
    p.send_line("").expect("enter");
    // The rest have plan defaults: take them all.
    for label in [
        "Type of the role assignee",
        "Data-plane role to assign",
        "Display name of the app registration",
    ] {
        p.exp_string(label)
            .unwrap_or_else(|e| panic!("prompt {label:?}: {e}"));
        p.send_line("").expect("enter");
    }
    // A reply URL that is not a URL is refused at its prompt; Enter then takes the default.
    p.exp_string("Reply (redirect) URL")
        .expect("reply URL prompt");
    p.send_line("not a url").expect("send");
    p.exp_string("`not a url` is not a valid reply URL")
        .expect("a wrong reply URL is refused where it is typed");
    p.exp_string("give an absolute http(s) URL")
        .expect("with the rule in words");
    p.send_line("").expect("enter");
    for label in [
        "Create the Azure AD app registration",
        "grant admin consent",
        // A map's prompt says how to type one.
        "tags; a map, e.g. {key: value}",
        "Managed identity of the instance",
        "reachable from public networks",
    ] {
        p.exp_string(label)
            .unwrap_or_else(|e| panic!("prompt {label:?}: {e}"));
        p.send_line("").expect("enter");
    }
    // Show, then do: the chosen values and what would be created, then the question.
    let summary = p
        .exp_string("Deploy? [Y/n]")
        .expect("asks before deploying");
    assert!(summary.contains("twins-guided  (prompt)"), "{summary}");
    assert!(summary.contains("+ instance"), "{summary}");
    p.send_line("").expect("enter takes yes");
    let rest = p.exp_eof().expect("run ends");
    assert!(rest.contains("Deployment completed successfully"), "{rest}");
    assert!(
        rest.contains("https://twins-guided.api.wus2.digitaltwins.azure.net"),
        "{rest}"
    );
}

/// What a person sees once the run has ended: the pty's output drawn on an 80-column screen
/// (the width the program assumes for this pty) that is tall enough to keep every line.
struct Screen {
    bytes: Vec<u8>,
}

impl Screen {
    /// Waits for `needle` and keeps everything written up to and including it.
    fn expect(&mut self, p: &mut rexpect::session::PtySession, needle: &str) {
        let before = p
            .exp_string(needle)
            .unwrap_or_else(|e| panic!("waiting for {needle:?}: {e}"));
        self.keep(&before);
        self.keep(needle);
    }

    /// rexpect hands over each byte as one char; the screen wants the bytes back.
    fn keep(&mut self, text: &str) {
        self.bytes.extend(text.chars().map(|c| c as u8));
    }

    /// The screen's lines, trailing spaces dropped, empty lines left out.
    fn lines(&self) -> Vec<String> {
        let size = |n: u16| std::num::NonZeroU16::new(n).expect("a size");
        let mut parser = vt100::Parser::new(size(1000), size(80), 0);
        parser.process(&self.bytes);
        parser
            .screen()
            .contents()
            .lines()
            .map(|l| l.trim_end().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    }
}

#[test]
fn long_answers_and_wrapped_errors_leave_no_stale_lines_on_an_80_column_terminal() {
    let s = Scratch::new();
    let mut cmd = s.pty_twinup();
    cmd.args(["up", "--cloud", "local"]);
    let mut p = spawn_command(cmd, Some(60_000)).expect("spawn in a pty");
    let mut screen = Screen { bytes: Vec::new() };
    // Answers that wrap the prompt line as they are typed (80 columns after "? name › ").
    let group = "rg-guided-run-with-a-resource-group-name-long-enough-to-wrap-the-line";
    let url = "http://localhost:8400/a/path/long/enough/to/wrap/the/prompt/line/of/the/terminal";
    let answers = [
        ("Azure subscription id to deploy into", ""),
        // Refused with a message wider than the terminal, then answered.
        ("Azure region", "westus9"),
        ("you mean `westus`?", "westus2"),
        ("Resource group to create or reuse", group),
        ("Name of the Azure Digital Twins instance", "twins-wide"),
        ("User (UPN) or object id to give the data role", ""),
        ("Type of the role assignee", ""),
        ("Data-plane role to assign", ""),
        ("Display name of the app registration", ""),
        // A wrapped answer refused with a wrapped message, then a wrapped answer taken.
        (
            "Reply (redirect) URL",
            "not a url, and long enough that the typed text wraps the prompt line",
        ),
        ("https://app.example.com/auth", url),
        ("Create the Azure AD app registration", ""),
        ("grant admin consent", ""),
        ("Tags for the resource group", ""),
        ("Managed identity of the instance", ""),
        ("reachable from public networks", ""),
    ];
    for (needle, answer) in answers {
        screen.expect(&mut p, needle);
        p.send_line(answer).expect("answer");
    }
    screen.expect(&mut p, "Deploy? [Y/n]");
    p.send("n").expect("no");
    p.flush().expect("flush");
    screen.keep(&p.exp_eof().expect("run ends"));
    assert_eq!(exit_code(&mut p), 2);

    let lines = screen.lines();
    let shown = lines.join("\n");
    // Every prompt was answered, so none is left on the screen, and the refusal was cleared
    // whole once the next answer was taken.
    for line in &lines {
        assert!(
            !line.starts_with("? "),
            "a stale prompt {line:?} in:\n{shown}"
        );
        assert!(
            !line.contains('\u{2718}'),
            "a stale error {line:?} in:\n{shown}"
        );
    }
    assert!(
        !shown.contains("you mean `westus`?"),
        "a stale error in:\n{shown}"
    );
    assert!(!shown.contains("not a url"), "a stale answer in:\n{shown}");
    // Nor was a row too many cleared: each description and answered line is there, in order.
    let expected = [
        "Azure region for the resource group and instance, e.g. westus2".to_string(),
        "\u{2714} location \u{b7} westus2".to_string(),
        "Resource group to create or reuse (1-90 letters, digits, - _ . ( ))".to_string(),
        format!("\u{2714} resource_group \u{b7} {group}"),
        "Name of the Azure Digital Twins instance (3-63 letters, digits, hyphens)".to_string(),
        "\u{2714} instance_name \u{b7} twins-wide".to_string(),
    ];
    let at = lines
        .iter()
        .position(|l| l == &expected[0])
        .unwrap_or_else(|| panic!("no location description in:\n{shown}"));
    assert!(
        lines[at - 1].starts_with("\u{2714} subscription \u{b7} "),
        "{shown}"
    );
    assert_eq!(lines[at..at + expected.len()], expected, "{shown}");
    for (name, answer) in [("resource_group", group), ("reply_url", url)] {
        assert!(
            lines.contains(&format!("\u{2714} {name} \u{b7} {answer}")),
            "{name} is not shown as answered:\n{shown}"
        );
    }
}

/// The prompts of the built-in plan in order, with what to answer each ("" takes the offered
/// value); the role assignee gets `assignee`.
fn answer_every_prompt(p: &mut rexpect::session::PtySession, assignee: &str) {
    let answers = [
        ("Azure subscription id to deploy into", ""),
        ("Azure region", "westus2"),
        ("Resource group to create or reuse", "rg-kept"),
        ("Name of the Azure Digital Twins instance", "twins-kept"),
        ("User (UPN) or object id to give the data role", assignee),
        ("Type of the role assignee", ""),
        ("Data-plane role to assign", ""),
        ("Display name of the app registration", ""),
        ("Reply (redirect) URL", ""),
        ("Create the Azure AD app registration", ""),
        ("grant admin consent", ""),
        ("Tags for the resource group", ""),
        ("Managed identity of the instance", ""),
        ("reachable from public networks", ""),
    ];
    for (label, answer) in answers {
        p.exp_string(label)
            .unwrap_or_else(|e| panic!("prompt {label:?}: {e}"));
        p.send_line(answer).expect("answer");
    }
}

#[test]
fn up_shows_the_values_and_the_preview_and_no_changes_nothing() {
    let s = Scratch::new();
    let emu = common::emulator::Emu::start(s.dir.path());
    // Every input answered: no prompt, only the question.
    let answers = format!(
        "{}subscription: {}\nrole_assignee: admin@twinup.local\nrole_assignee_type: ''\n\
         role: Azure Digital Twins Data Owner\ncreate_app_registration: true\n\
         grant_admin_consent: false\nmanaged_identity: None\npublic_network_access: Enabled\n\
         app_owners: []\nsign_in_audience: AzureADMyOrg\nweb_redirect_uris: []\n\
         spa_redirect_uris: []\nimplicit_grant: none\nuser_assigned_identities: []\n\
         private_endpoint_subnet_id: ''\nready_timeout: 10m\n",
        common::emulator::ANSWERS,
        emu.field("subscription_id")
    );
    s.write("answers.yaml", &answers);
    let up = |extra: &[&str]| {
        let mut cmd = s.pty_twinup();
        cmd.args(["up", "--answers", "answers.yaml"])
            .args(emu.cloud_args())
            .args(extra)
            .envs(emu.cloud_env());
        spawn_command(cmd, Some(60_000)).expect("spawn in a pty")
    };
    let mut p = up(&[]);
    let summary = p
        .exp_string("Deploy? [Y/n]")
        .expect("asks before deploying");
    for shown in [
        "location",
        "westus2  (answers file)",
        "+ resource_group",
        "+ app_registration",
        // The private link is asked for by no subnet: shown as making nothing, not counted.
        "- private_link      makes nothing: no subnet given",
        "Summary: 6 to create, 0 to update, 0 unchanged, 1 turned off.",
    ] {
        assert!(summary.contains(shown), "{shown:?} not shown: {summary}");
    }
    p.send("n").expect("no");
    p.flush().expect("flush");
    let rest = p.exp_eof().expect("run ends");
    assert!(
        rest.contains("not confirmed; nothing was changed"),
        "{rest}"
    );
    assert_eq!(exit_code(&mut p), 2);
    let writes: Vec<String> = emu
        .entries()
        .iter()
        .filter(|e| e.is_write())
        .map(|e| e.kind())
        .collect();
    assert!(writes.is_empty(), "declining wrote: {writes:?}");
    assert!(s.checkpoint_bytes().is_none(), "the checkpoint was written");

    // `--yes` deploys without asking.
    let mut p = up(&["--yes"]);
    let all = p.exp_eof().expect("run ends");
    assert!(!all.contains("Deploy?"), "{all}");
    assert!(all.contains("Deployment completed successfully"), "{all}");
    assert_eq!(exit_code(&mut p), 0);
}

fn exit_code(p: &mut rexpect::session::PtySession) -> i32 {
    match p.process().wait().expect("exit") {
        rexpect::process::WaitStatus::Exited(_, code) => code,
        other => panic!("expected an exit, got {other:?}"),
    }
}

#[test]
fn a_run_whose_preflight_fails_keeps_the_answers_and_the_next_asks_only_the_wrong_one() {
    let s = Scratch::new();
    let mut cmd = s.pty_twinup();
    cmd.args(["up", "--cloud", "local"]);
    let mut p = spawn_command(cmd, Some(60_000)).expect("spawn in a pty");
    answer_every_prompt(&mut p, "nobody@contoso.com");
    let rest = p.exp_eof().expect("run ends");
    assert!(rest.contains("was not found in the directory"), "{rest}");
    assert!(
        rest.contains("`twinup up` asks again only for `role_assignee`"),
        "the failure names the input to change: {rest}"
    );
    assert_eq!(exit_code(&mut p), 2);
    let checkpoint = s.checkpoint();
    assert_eq!(
        checkpoint["unconfirmed_inputs"]["values"]["instance_name"], "twins-kept",
        "{checkpoint}"
    );
    let status = common::run(s.twinup().arg("status"));
    assert!(
        status.stdout.contains("asks again for: role_assignee"),
        "{}",
        status.all_text()
    );

    // The rerun asks for the role assignee only, offering the answer given, and deploys with
    // the other answers kept.
    let mut cmd = s.pty_twinup();
    cmd.args(["up"]);
    let mut p = spawn_command(cmd, Some(60_000)).expect("spawn in a pty");
    let before = p
        .exp_string("User (UPN) or object id to give the data role")
        .expect("the failing input is asked again");
    for other in [
        "Azure region",
        "Resource group to create",
        "Name of the Azure Digital",
    ] {
        assert!(
            !before.contains(other),
            "{other:?} was asked again: {before}"
        );
    }
    p.exp_string("nobody@contoso.com")
        .expect("the last answer is offered");
    p.send_line("admin@twinup.local").expect("send");
    let summary = p
        .exp_string("Deploy? [Y/n]")
        .expect("asks before deploying");
    assert!(summary.contains("twins-kept  (checkpoint)"), "{summary}");
    p.send("y").expect("yes");
    p.flush().expect("flush");
    let rest = p.exp_eof().expect("run ends");
    assert!(
        !rest.contains("Reply (redirect) URL"),
        "asked again: {rest}"
    );
    assert!(rest.contains("Deployment completed successfully"), "{rest}");
    assert!(
        rest.contains("https://twins-kept.api.wus2.digitaltwins.azure.net"),
        "{rest}"
    );
    assert_eq!(exit_code(&mut p), 0);
    let checkpoint = s.checkpoint();
    assert!(
        checkpoint.get("unconfirmed_inputs").is_none(),
        "{checkpoint}"
    );
    assert_eq!(checkpoint["inputs"]["role_assignee"], "admin@twinup.local");
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
