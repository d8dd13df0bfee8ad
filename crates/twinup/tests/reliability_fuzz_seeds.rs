//! The fuzz targets (issue 6, suite 6) run in the test command: each target's body from
//! `fuzz/src/lib.rs` over its seed corpus in `fuzz/seeds/<target>/` and over deterministic
//! mutations of the seeds (bit flips, insertions, deletions, truncations, splices). None may
//! panic. `just fuzz` runs the same bodies under libFuzzer for a bounded time.

#[path = "../../../fuzz/src/lib.rs"]
mod fuzz_bodies;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// Mutants per seed.
const MUTANTS: usize = 100;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let seeds: Vec<Vec<u8>> = files
        .iter()
        .map(|p| std::fs::read(p).expect("seed"))
        .collect();
    assert!(seeds.len() >= 4, "{target}: only {} seeds", seeds.len());
    seeds
}

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(6) {
            0 if !data.is_empty() => {
                let i = at.min(data.len() - 1);
                data[i] ^= 1 << rng.below(8);
            }
            1 => {
                const TOKENS: &[&[u8]] = &[
                    b":",
                    b"-",
                    b"\n",
                    b" ",
                    b"{",
                    b"}",
                    b"[",
                    b"]",
                    b"\"",
                    b"'",
                    b"${",
                    b"&a",
                    b"*a",
                    b"!!",
                    b"\t",
                    b"#",
                    b"\xff",
                    b"0",
                    b"null",
                    b"version: 2",
                ];
                let token = TOKENS[rng.below(TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            2 if !data.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(data.len());
                data.drain(at.min(end)..end);
            }
            3 => data.truncate(at),
            4 if !other.is_empty() => {
                let from = rng.below(other.len());
                let len = rng.below(64).min(other.len() - from);
                data.splice(at..at, other[from..from + len].iter().copied());
            }
            _ => {
                if let Some(b) = data.get_mut(at) {
                    *b = b'\n';
                }
            }
        }
    }
    data
}

fn exercise(target: &str, body: fn(&[u8])) -> usize {
    let seeds = seeds(target);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut runs = 0;
    let mut check = |data: &[u8]| {
        runs += 1;
        if catch_unwind(AssertUnwindSafe(|| body(data))).is_err() {
            panic!(
                "{target} panicked on input:\n{}",
                String::from_utf8_lossy(data)
            );
        }
    };
    for (i, seed) in seeds.iter().enumerate() {
        check(seed);
        let other = &seeds[(i + 1) % seeds.len()];
        for _ in 0..MUTANTS {
            let data = mutate(&mut rng, seed, other);
            check(&data);
        }
    }
    runs
}

#[test]
fn the_plan_parser_never_panics_on_seeds_or_their_mutations() {
    let runs = exercise("plan_parser", fuzz_bodies::plan_parser);
    eprintln!("plan_parser: {runs} inputs");
}

#[test]
fn the_answers_parser_never_panics_on_seeds_or_their_mutations() {
    let runs = exercise("answers_parser", fuzz_bodies::answers_parser);
    eprintln!("answers_parser: {runs} inputs");
}

#[test]
fn the_checkpoint_loader_never_panics_on_seeds_or_their_mutations() {
    let runs = exercise("checkpoint_loader", fuzz_bodies::checkpoint_loader);
    eprintln!("checkpoint_loader: {runs} inputs");
}
