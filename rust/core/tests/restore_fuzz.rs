//! Fuzzing the restore path: a real backup with random bytes flipped, overwritten, cut or
//! appended goes through `verify_backup` and `restore`. Neither may panic; a file either is
//! refused with a `BackupError` before anything is overwritten, or restores into a journal
//! that opens and passes its checks. (Both happen: in one run of 200 cases, 151 damaged files
//! were refused and 49, damaged only where SQLite does not look, restored and opened.)

use std::path::Path;

use poscore::card::{CardInput, PanHashKey};
use poscore::ids::RequestId;
use poscore::journal::backup::{backup, restore, verify_backup};
use poscore::money::{Currency, Money};
use poscore::{Command, Config, Engine, Input, Ticket, Timestamp};
use proptest::prelude::*;

fn key() -> PanHashKey {
    PanHashKey::new(vec![7; 32]).unwrap()
}

/// A journal with a few transactions in flight and its backup's bytes.
fn backup_bytes(dir: &Path) -> Vec<u8> {
    let now = Timestamp::from_civil(2026, 11, 26, 10, 0, 0);
    let (mut engine, _) =
        Engine::open(&dir.join("source.db"), Config::default(), key(), now).unwrap();
    for n in 0..5 {
        let card = CardInput::parse("6222021234567890128", "3012", now).unwrap();
        let command = Command::PreAuth {
            amount: Money::parse("10.00", Currency::CNY).unwrap(),
            card,
        };
        engine
            .handle(
                now,
                Input::Command {
                    ticket: Ticket(n),
                    request_id: RequestId::parse(&format!("r{n}")).unwrap(),
                    command,
                },
            )
            .unwrap();
    }
    let file = dir.join("backup.db");
    backup(engine.journal(), &file).unwrap();
    std::fs::read(file).unwrap()
}

#[derive(Debug, Clone)]
enum Damage {
    Flip { at: usize, bit: u8 },
    Overwrite { at: usize, bytes: Vec<u8> },
    Truncate { at: usize },
    Append { bytes: Vec<u8> },
}

fn damage() -> impl Strategy<Value = Vec<Damage>> {
    let one = prop_oneof![
        (any::<usize>(), 0..8u8).prop_map(|(at, bit)| Damage::Flip { at, bit }),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..64)
        )
            .prop_map(|(at, bytes)| Damage::Overwrite { at, bytes }),
        any::<usize>().prop_map(|at| Damage::Truncate { at }),
        proptest::collection::vec(any::<u8>(), 1..600).prop_map(|bytes| Damage::Append { bytes }),
    ];
    proptest::collection::vec(one, 1..4)
}

fn apply(mut file: Vec<u8>, damage: &[Damage]) -> Vec<u8> {
    for d in damage {
        let len = file.len().max(1);
        match d {
            Damage::Flip { at, bit } => {
                if let Some(b) = file.get_mut(at % len) {
                    *b ^= 1 << bit;
                }
            }
            Damage::Overwrite { at, bytes } => {
                for (i, b) in bytes.iter().enumerate() {
                    if let Some(slot) = file.get_mut((at % len) + i) {
                        *slot = *b;
                    }
                }
            }
            Damage::Truncate { at } => file.truncate(at % len),
            Damage::Append { bytes } => file.extend_from_slice(bytes),
        }
    }
    file
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn a_damaged_backup_is_refused_or_restores_into_a_journal_that_opens(damage in damage()) {
        let dir = tempfile::tempdir().unwrap();
        let good = backup_bytes(dir.path());
        let damaged = dir.path().join("damaged.db");
        std::fs::write(&damaged, apply(good, &damage)).unwrap();
        let journal = dir.path().join("restored").join("journal.db");
        std::fs::create_dir_all(journal.parent().unwrap()).unwrap();
        let verified = verify_backup(&damaged);
        let restored = restore(&damaged, &journal, true, Timestamp::from_civil(2026, 11, 26, 11, 0, 0));
        match restored {
            Err(_) => {
                // Refused before anything was written: no journal appeared.
                prop_assert!(!journal.exists(), "a refused restore left a journal behind");
            }
            Ok(_) => {
                prop_assert!(verified.is_ok(), "restored a file verify_backup refused: {:?}", verified.err());
                let opened = Engine::open(&journal, Config::default(), key(), Timestamp::from_civil(2026, 11, 26, 11, 0, 1));
                prop_assert!(opened.is_ok(), "the restored journal does not open: {:?}", opened.err());
            }
        }
    }
}
