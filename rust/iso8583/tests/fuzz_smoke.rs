//! The bounded fuzz smoke run for CI (stable Rust, no cargo-fuzz): 20 000 random and mutated
//! inputs each through `decode` and the `FrameReader`, with the same checks as the cargo-fuzz
//! targets in `fuzz/`. `POSCORE_FUZZ_RUNS=2000000` runs longer on stable Rust;
//! `POSCORE_FUZZ_SEED` picks another seed. Coverage-guided runs: see `fuzz/Cargo.toml`.

#[path = "support/messages.rs"]
mod messages;

use poscore_iso8583::frame::frame;
use poscore_iso8583::fuzzing::{check_decode, check_frame_reader};
use poscore_iso8583::{Header, ProcessingRequirement, Tpdu, decode, encode, unionpay_pos};

/// Inputs per target by default (CI).
const DEFAULT_RUNS: usize = 20_000;

/// `POSCORE_FUZZ_SEED` (non-zero), or `default`.
fn seed(default: u64) -> u64 {
    std::env::var("POSCORE_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&s| s != 0)
        .unwrap_or(default)
}

/// `POSCORE_FUZZ_RUNS`, or [`DEFAULT_RUNS`].
fn runs() -> usize {
    std::env::var("POSCORE_FUZZ_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_RUNS)
}

/// xorshift64*: deterministic, so a failure reproduces (the seed and run are printed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if at < out.len() => out[at] ^= 1 << rng.below(8),
            1 if at < out.len() => out[at] = rng.next() as u8,
            2 => out.insert(at, rng.next() as u8),
            3 if at < out.len() => {
                out.remove(at);
            }
            4 => out.truncate(at),
            _ => {
                let len = rng.below(8);
                let start = rng.below(out.len().saturating_sub(len) + 1);
                let chunk: Vec<u8> = out.iter().skip(start).take(len).copied().collect();
                out.splice(at..at, chunk);
            }
        }
    }
    out
}

fn seeds() -> Vec<Vec<u8>> {
    let profile = unionpay_pos();
    messages::all()
        .iter()
        .map(|(_, m)| encode(m, &profile).unwrap())
        .collect()
}

#[test]
fn decode_survives_random_and_mutated_inputs() {
    let profile = unionpay_pos();
    let seeds = seeds();
    let mut rng = Rng(seed(0x9E37_79B9_7F4A_7C15));
    let mut decoded = 0;
    for run in 0..runs() {
        let input = if run % 4 == 0 {
            (0..rng.below(300)).map(|_| rng.next() as u8).collect()
        } else {
            mutate(&mut rng, &seeds[run % seeds.len()])
        };
        let result = std::panic::catch_unwind(|| check_decode(&input, &profile));
        assert!(result.is_ok(), "run {run}: input {}", messages::hex(&input));
        decoded += usize::from(decode(&input, &profile).is_ok());
    }
    // The mutations are small: some inputs must still decode, or the run tested nothing deep.
    assert!(
        decoded > runs() / 50,
        "only {decoded} of {} inputs decoded",
        runs()
    );
}

#[test]
fn frame_reader_survives_random_and_mutated_streams() {
    let tpdu = Tpdu::new([0x00, 0x03], [0x00, 0x00]);
    let header = Header::new(0x61, 0x31, 0, ProcessingRequirement::None, [0, 0, 0]);
    let stream: Vec<u8> = seeds()
        .iter()
        .flat_map(|b| frame(&tpdu, &header, b).unwrap())
        .collect();
    let mut rng = Rng(seed(0xD1B5_4A32_D192_ED03));
    for run in 0..runs() {
        let mut input = vec![rng.next() as u8];
        if run % 4 == 0 {
            input.extend((0..rng.below(400)).map(|_| rng.next() as u8));
        } else {
            let start = rng.below(stream.len());
            let len = rng.below(stream.len() - start + 1);
            input.extend(mutate(&mut rng, &stream[start..start + len]));
        }
        let result = std::panic::catch_unwind(|| check_frame_reader(&input));
        assert!(result.is_ok(), "run {run}: input {}", messages::hex(&input));
    }
}
