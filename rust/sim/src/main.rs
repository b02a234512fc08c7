//! `poscore-sim`: runs seeds of the deterministic whole-terminal simulation and prints the
//! figures. See the crate documentation.
//!
//! ```text
//! poscore-sim [--seeds N] [--from S] [--steps N] [--jobs J]
//! POSCORE_SIM_SEED=S poscore-sim [--steps N]     # replay one seed, printing its steps
//! ```
//! Exits 1 when a violation was found.

use std::time::Instant;

use poscore_sim::{DEFAULT_STEPS, Plan, default_jobs, run_seed, run_seeds};

fn main() {
    let mut seeds = 2_000u64;
    let mut from = 0u64;
    let mut steps = DEFAULT_STEPS;
    let mut jobs = default_jobs();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> u64 {
            args.next()
                .and_then(|v| v.replace('_', "").parse().ok())
                .unwrap_or_else(|| {
                    eprintln!("{name} needs a number");
                    std::process::exit(2)
                })
        };
        match arg.as_str() {
            "--seeds" => seeds = value("--seeds"),
            "--from" => from = value("--from"),
            "--steps" => steps = value("--steps") as usize,
            "--jobs" => jobs = value("--jobs") as usize,
            "-h" | "--help" => {
                println!(
                    "poscore-sim [--seeds N] [--from S] [--steps N] [--jobs J]\nPOSCORE_SIM_SEED=S poscore-sim   replays one seed"
                );
                return;
            }
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    let started = Instant::now();
    let figures = if let Some(seed) = std::env::var("POSCORE_SIM_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        let plan = Plan::from_seed(seed, steps);
        println!(
            "seed {seed}: {} steps, final crash {}, config: {} copies, tear prompt {}, e-receipt after {} ms, {} reversal attempts",
            plan.steps.len(),
            plan.final_crash,
            plan.config.slip_copies,
            plan.config.printing.tear_prompt,
            plan.config.printing.e_receipt_after_ms,
            plan.config.reversal_max_attempts
        );
        for (i, s) in plan.steps.iter().enumerate() {
            println!("  {i:3}: {s:?}");
        }
        run_seed(seed, steps)
    } else {
        run_seeds(from, seeds, steps, jobs)
    };
    let elapsed = started.elapsed();
    print!("{}", figures.report());
    println!(
        "time {:.1} s on {jobs} threads ({:.1} seeds/s)",
        elapsed.as_secs_f64(),
        figures.seeds as f64 / elapsed.as_secs_f64()
    );
    if figures.violations > 0 {
        std::process::exit(1);
    }
}
