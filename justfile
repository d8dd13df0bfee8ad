# Developer recipes. CI runs only `.ci/run` (the `test` recipe's command).

# Run the whole test suite, as CI does.
test:
    cargo test --workspace --locked

# Format check and lints, as required before every commit.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --locked -- -D warnings

# Run the built-in setup against the local emulator, unattended.
run:
    cargo run --release -- up --cloud local --answers plans/examples/answers.yaml --non-interactive

# Benchmarks; figures go to docs/benchmarks.md. Issue 8's four (critical path, request economy,
# overhead, fleet) drive the release binary against the emulator; BENCH_SCALE sets the time scale.
bench:
    cargo build --release -p twinup
    python3 bench/issue8.py
    python3 bench/checkpoint_scale.py
    cargo bench -p twinup-emulator --bench arm_reads

# Fuzz the plan parser, answers parser and checkpoint loader for SECS seconds each (needs
# cargo-fuzz and a nightly toolchain). The test command runs the same bodies over the committed seeds (fuzz/seeds).
fuzz SECS="60":
    cd fuzz && mkdir -p corpus/plan_parser && cargo +nightly fuzz run plan_parser corpus/plan_parser seeds/plan_parser -- -max_total_time={{SECS}}
    cd fuzz && mkdir -p corpus/answers_parser && cargo +nightly fuzz run answers_parser corpus/answers_parser seeds/answers_parser -- -max_total_time={{SECS}}
    cd fuzz && mkdir -p corpus/checkpoint_loader && cargo +nightly fuzz run checkpoint_loader corpus/checkpoint_loader seeds/checkpoint_loader -- -max_total_time={{SECS}}

# The crash matrix at every k (the test command runs it too; this runs it alone, verbosely).
crash-matrix:
    cargo test -p twinup --test reliability_crash -- --nocapture
