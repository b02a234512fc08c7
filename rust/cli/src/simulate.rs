//! `poscore simulate`: a run of random commands against the simulated host, for soak and
//! crash tests. Amounts sometimes end in the simulated host's magic cents (declines, lost
//! answers, timeouts, bad MACs); request ids are sometimes repeated (double taps).

use std::path::Path;

use poscore::card::CardInput;
use poscore::ids::RequestId;
use poscore::money::{Currency, Money};
use poscore::txn::{TxnKind, TxnState};
use poscore::{Command, Lang, TxnRecord};
use poscore_terminal::{Clock, SystemClock, TerminalError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::Failure;
use crate::commands::finish;
use crate::output;
use crate::session::{self, LinkOptions};

const PANS: [&str; 4] = [
    "6222021234567890128",
    "4111111111111111",
    "5555555555554444",
    "6212261202011584340",
];

fn amount(rng: &mut StdRng) -> Money {
    let whole = rng.random_range(1..1000u64);
    let cents = match rng.random_range(0..20) {
        0 => 98,
        1 => 68,
        2 => 51,
        3 => 63,
        _ => rng.random_range(0..100u64),
    };
    Money::from_minor(whole * 100 + cents, Currency::CNY).expect("positive")
}

/// Runs `count` random commands with `seed`.
pub async fn run(
    db: &Path,
    links: &LinkOptions,
    lang: Lang,
    count: u32,
    seed: u64,
) -> Result<(), Failure> {
    let session = session::start(db, links, lang)?;
    let handle = session.terminal.handle();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut sent: Vec<(RequestId, Command)> = Vec::new();
    let (mut approved, mut other, mut refused) = (0u32, 0u32, 0u32);
    for i in 0..count {
        let recent: Vec<TxnRecord> = handle
            .read(|j| j.recent(100))
            .await
            .map_err(|e| Failure::journal(&e))?
            .map_err(|e| Failure::journal(&e))?;
        let pick = |kind: TxnKind, rng: &mut StdRng| {
            let choices: Vec<&TxnRecord> = recent
                .iter()
                .filter(|t| t.kind == kind && t.state == TxnState::Approved)
                .collect();
            (!choices.is_empty()).then(|| choices[rng.random_range(0..choices.len())].trace)
        };
        let roll = rng.random_range(0..100);
        let (request_id, command) = if roll < 5 && !sent.is_empty() {
            sent[rng.random_range(0..sent.len())].clone()
        } else {
            let command = match roll {
                5..=24 => pick(TxnKind::PreAuth, &mut rng).map(|t| Command::Complete {
                    original_trace: t,
                    amount: amount(&mut rng),
                }),
                25..=29 => pick(TxnKind::PreAuth, &mut rng).map(|t| Command::CompleteOffline {
                    original_trace: t,
                    amount: amount(&mut rng),
                }),
                30..=39 => {
                    pick(TxnKind::PreAuth, &mut rng).map(|t| Command::Void { original_trace: t })
                }
                40..=47 => pick(TxnKind::CompletionRequest, &mut rng)
                    .map(|t| Command::CompleteVoid { original_trace: t }),
                _ => None,
            };
            let command = command.unwrap_or_else(|| Command::PreAuth {
                amount: amount(&mut rng),
                card: CardInput::parse(
                    PANS[rng.random_range(0..PANS.len())],
                    "3012",
                    SystemClock.now(),
                )
                .expect("valid test card"),
            });
            let request_id = RequestId::parse(&format!("sim-{seed}-{i}")).expect("valid id");
            sent.push((request_id.clone(), command.clone()));
            (request_id, command)
        };
        match handle.submit(request_id.clone(), command).await {
            Ok(outcome) => {
                if matches!(&outcome, poscore::CommandOutcome::Transaction(t) if t.state == TxnState::Approved)
                {
                    approved += 1;
                } else {
                    other += 1;
                }
                println!("{request_id}: {}", output::outcome(&outcome, lang));
            }
            Err(TerminalError::Refused(e)) => {
                refused += 1;
                println!("{request_id}: {}", session::describe(&e, lang));
            }
            Err(e) => return Err(Failure::journal(&e)),
        }
    }
    finish(session, &handle).await?;
    println!(
        "simulated {count} commands: {approved} approved, {other} not approved, {refused} refused"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_test_card_is_valid() {
        for pan in PANS {
            assert!(
                CardInput::parse(pan, "3012", SystemClock.now()).is_ok(),
                "test card {pan} must pass the Luhn check"
            );
        }
    }
}
