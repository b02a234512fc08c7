//! The CI run of the simulation: `POSCORE_SIM_SEEDS` seeds (2,000 by default) from
//! `POSCORE_SIM_FROM` (0), every promise checked after every step; the figures go to
//! stderr (`cargo test -p poscore-sim -- --nocapture`).

use std::time::Instant;

use poscore_sim::{DEFAULT_STEPS, default_jobs, run_seeds};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn every_promise_holds_for_every_seed() {
    let seeds = env("POSCORE_SIM_SEEDS", 2_000);
    let from = env("POSCORE_SIM_FROM", 0);
    let steps = env("POSCORE_SIM_STEPS", DEFAULT_STEPS as u64) as usize;
    let jobs = default_jobs();
    let started = Instant::now();
    let figures = run_seeds(from, seeds, steps, jobs);
    eprint!("{}", figures.report());
    eprintln!(
        "time {:.1} s on {jobs} threads",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(figures.seeds, seeds);
    assert_eq!(
        figures.violations, 0,
        "violations found; replay with POSCORE_SIM_SEED=<seed> cargo run -p poscore-sim"
    );
}

#[test]
fn a_seed_replays_exactly() {
    let a = poscore_sim::run_seed(42, DEFAULT_STEPS);
    let b = poscore_sim::run_seed(42, DEFAULT_STEPS);
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}
