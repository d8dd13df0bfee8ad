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

# Benchmarks; figures go to docs/benchmarks.md.
bench:
    cargo bench -p twinup-emulator --bench arm_reads
