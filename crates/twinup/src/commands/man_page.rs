//! The manual page of `twinup man`: one page, twinup(1), with the sections a man page has —
//! NAME, SYNOPSIS, DESCRIPTION and OPTIONS from the clap definition (clap_mangen), COMMANDS
//! with each command's synopsis and options, then EXIT STATUS, ENVIRONMENT, FILES and
//! EXAMPLES. It refers to no other page (there are no per-command pages to install).
//!
//! Contact point: [`render`].

use std::io;

/// Renders the page for `command` (the `twinup` command) into `out`.
pub fn render(command: &clap::Command, out: &mut Vec<u8>) -> io::Result<()> {
    let page = clap_mangen::Man::new(command.clone());
    page.render_title(out)?;
    page.render_name_section(out)?;
    page.render_synopsis_section(out)?;
    page.render_description_section(out)?;
    page.render_options_section(out)?;
    out.extend_from_slice(b".SH COMMANDS\n");
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        render_command(command.get_name(), sub, out)?;
    }
    out.extend_from_slice(SECTIONS.as_bytes());
    page.render_version_section(out)
}

/// One command as a subsection: its synopsis, what it does, its options.
fn render_command(parent: &str, sub: &clap::Command, out: &mut Vec<u8>) -> io::Result<()> {
    let name = format!("{parent} {}", sub.get_name());
    // clap names are `'static` without its `string` feature; a few bytes per command, once.
    let named = sub.clone().name(&*Box::leak(name.clone().into_boxed_str()));
    let page = clap_mangen::Man::new(named);
    out.extend_from_slice(format!(".SS \"{name}\"\n").as_bytes());
    let mut text = Vec::new();
    page.render_synopsis_section(&mut text)?;
    page.render_description_section(&mut text)?;
    page.render_options_section(&mut text)?;
    // Inside a subsection, the command's own sections are paragraphs: synopsis and description
    // untitled, an option group (OPTIONS, a help heading) under its title.
    for line in String::from_utf8_lossy(&text).lines() {
        let paragraph = match line.strip_prefix(".SH ") {
            Some("SYNOPSIS" | "DESCRIPTION") => ".PP".to_string(),
            Some("OPTIONS") => ".PP\nOptions:".to_string(),
            Some(heading) => format!(".PP\n{}:", as_in_help(sub, heading.trim_matches('"'))),
            None => line.to_string(),
        };
        out.extend_from_slice(paragraph.as_bytes());
        out.push(b'\n');
    }
    Ok(())
}

/// The help heading of `sub` that clap_mangen wrote in capitals, as the help writes it.
fn as_in_help(sub: &clap::Command, capitals: &str) -> String {
    sub.get_arguments()
        .filter_map(clap::Arg::get_help_heading)
        .find(|h| h.to_uppercase() == capitals)
        .unwrap_or(capitals)
        .to_string()
}

/// The sections after COMMANDS, in roff.
const SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Success (for \fBverify\fR: no drift).
.TP
\fB1\fR
A step failed; rerun the command to resume. For \fBverify\fR: drift was found.
.TP
\fB2\fR
Bad input or usage, or a confirmation was declined ("Deploy?", a replacement, \fBdown\fR);
nothing was changed.
.TP
\fB130\fR
Interrupted (Ctrl\-C); the checkpoint is saved and a rerun resumes.
.SH ENVIRONMENT
.TP
\fBTWINUP_\fR\fINAME\fR
The value of input \fIname\fR (e.g. \fBTWINUP_LOCATION\fR); \fB\-\-set\fR wins over it, it wins
over the answers file.
.TP
\fBAZURE_TENANT_ID\fR, \fBAZURE_CLIENT_ID\fR, \fBAZURE_CLIENT_SECRET\fR
Sign in as a service principal (\fBAZURE_FEDERATED_TOKEN_FILE\fR instead of the secret for
workload identity). Without them: managed identity, then the Azure CLI's sign\-in.
.TP
\fBAZURE_SUBSCRIPTION_ID\fR
The subscription, as \fB\-\-subscription\fR.
.TP
\fBAZURE_STORAGE_CONNECTION_STRING\fR
The account key for a blob checkpoint (\fB\-\-checkpoint https://...\fR).
.TP
\fBNO_COLOR\fR
Plain progress lines instead of the live view, without colour.
.TP
\fBSSL_CERT_FILE\fR
Extra trusted certificates (e.g. a private cloud's or the emulator's with \fB\-\-tls\fR).
.SH FILES
.TP
\fB.twinup/checkpoint.json\fR
The checkpoint (the default of \fB\-\-checkpoint\fR): every step's state, the inputs (never
secrets) and the cloud; mode 0600. A \fB.lock\fR file beside it holds the run's lock.
.TP
\fB.twinup/emulator.json\fR
The state of the local Azure of \fB\-\-cloud local\fR.
.SH EXAMPLES
.TP
\fBtwinup up \-\-cloud local\fR
A guided run against the built\-in local Azure: asks for each input, shows the values and what
it would do, asks "Deploy? [Y/n]".
.TP
\fBtwinup up \-\-answers answers.yaml \-\-non\-interactive \-o json\fR
An unattended run (CI): every input from the answers file, JSON events on stderr, the result on
stdout.
.TP
\fBtwinup init\fR, then \fBtwinup preview \-\-answers answers.yaml\fR
Write an answers file to fill in, then look at what \fBup\fR would do (reads only).
.TP
\fBtwinup status\fR
After a failure or Ctrl\-C: what is done and the command that resumes.
.TP
\fBtwinup down \-\-yes\fR
Delete what \fBup\fR created (the cloud comes from the checkpoint).
"#;
