//! The bodies of twinup's fuzz targets, as plain functions: the plan parser, the answers parser
//! and the checkpoint loader must return an error, never panic, whatever bytes they are given.
//! `fuzz_targets/*.rs` hand them to libFuzzer (`just fuzz`); the `reliability_fuzz_seeds` test
//! of the twinup crate includes this file and runs them over `seeds/` and mutations of it, so
//! the test command exercises them even where cargo-fuzz is not installed.

/// The built-in plan, the reference the answers target parses against.
pub const BUILTIN_PLAN: &str = include_str!("../../plans/adt-setup.yaml");

/// Parses `data` as a plan; if it parses, validates its graph and renders nothing.
pub fn plan_parser(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(plan) = twinup_plan::Plan::parse("fuzz.yaml", text) {
        let _ = plan.steps.len();
    }
}

/// Parses `data` as an answers file for the built-in plan.
pub fn answers_parser(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    static PLAN: std::sync::OnceLock<twinup_plan::Plan> = std::sync::OnceLock::new();
    let plan =
        PLAN.get_or_init(
            || match twinup_plan::Plan::parse("adt-setup.yaml", BUILTIN_PLAN) {
                Ok(plan) => plan,
                Err(e) => panic!("the built-in plan must parse: {e}"),
            },
        );
    let _ = twinup_plan::parse_answers("answers.yaml", text, plan);
}

/// Loads `data` as a checkpoint file.
pub fn checkpoint_loader(data: &[u8]) {
    let _ = twinup_engine::checkpoint::parse_checkpoint("fuzz/checkpoint.json", data);
}
