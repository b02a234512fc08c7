//! Fuzzing `Config::validate` with random values for every numeric setting: it never panics,
//! it accepts exactly the documented ranges, and every value out of range is refused with
//! the setting's name (and its value) in the error.
//!
//! The oracle below restates each range from `Config`'s documentation; a setting added later
//! keeps its default here (`..Config::default()`), so this file compiles as `Config` grows.

use poscore::config::{ConfigError, FeeChannel, FeeRate};
use poscore::{Bilingual, Config};
use proptest::prelude::*;

/// Values near the edges of every range (and of the types), mixed with any value at all.
fn edgy_u64(edges: &'static [u64]) -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => proptest::sample::select(edges),
        2 => proptest::sample::select(edges).prop_flat_map(|e| (e.saturating_sub(2))..=(e.saturating_add(2))),
        2 => any::<u64>(),
        1 => 0u64..10_000,
    ]
}

fn edgy_u32(edges: &'static [u64]) -> impl Strategy<Value = u32> {
    edgy_u64(edges).prop_map(|v| u32::try_from(v).unwrap_or(u32::MAX - (v % 7) as u32))
}

const EDGES: &[u64] = &[
    0,
    1,
    2,
    3,
    4,
    29,
    30,
    31,
    59,
    60,
    61,
    99,
    100,
    101,
    180,
    199,
    200,
    201,
    999,
    1_000,
    1_001,
    3_649,
    3_650,
    3_651,
    60_000,
    199_999,
    200_000,
    200_001,
    599_999,
    600_000,
    600_001,
    3_599_999,
    3_600_000,
    59_999,
    60_000,
    60_001,
    604_799_999,
    604_800_000,
    604_800_001,
    3_600_001,
    u32::MAX as u64,
    u64::MAX,
];

/// One random value for every numeric setting.
#[derive(Debug, Clone)]
struct Numbers {
    slip_copies: u8,
    completion_limit_percent: u32,
    preauth_valid_days: u32,
    reversal_max_attempts: u32,
    retry_base_delay_ms: u64,
    retry_max_delay_ms: u64,
    retention_days: u32,
    fee_basis_points: Vec<u32>,
    roll_length_mm: u32,
    utc_offset_minutes: i32,
    e_receipt_after_ms: u64,
    header_lines: usize,
    backup_every_ms: u64,
    backup_keep: u32,
}

fn numbers() -> impl Strategy<Value = Numbers> {
    (
        (
            any::<u8>(),
            edgy_u32(EDGES),
            edgy_u32(EDGES),
            edgy_u32(EDGES),
            edgy_u64(EDGES),
            edgy_u64(EDGES),
        ),
        (
            edgy_u32(EDGES),
            proptest::collection::vec(edgy_u32(EDGES), 0..=2),
            edgy_u32(EDGES),
            prop_oneof![
                any::<i32>(),
                -800i32..900,
                Just(-720),
                Just(-721),
                Just(840),
                Just(841)
            ],
            any::<u64>(),
            0usize..12,
        ),
        (edgy_u64(EDGES), edgy_u32(EDGES)),
    )
        .prop_map(
            |(
                (slip, percent, valid, attempts, base, max),
                (retention, fees, roll, offset, e_receipt, headers),
                (backup_every_ms, backup_keep),
            )| Numbers {
                slip_copies: slip,
                completion_limit_percent: percent,
                preauth_valid_days: valid,
                reversal_max_attempts: attempts,
                retry_base_delay_ms: base,
                retry_max_delay_ms: max,
                retention_days: retention,
                fee_basis_points: fees,
                roll_length_mm: roll,
                utc_offset_minutes: offset,
                e_receipt_after_ms: e_receipt,
                header_lines: headers,
                backup_every_ms,
                backup_keep,
            },
        )
}

fn config_of(n: &Numbers) -> Config {
    let mut config = Config {
        slip_copies: n.slip_copies,
        completion_limit_percent: n.completion_limit_percent,
        preauth_valid_days: n.preauth_valid_days,
        reversal_max_attempts: n.reversal_max_attempts,
        retry_base_delay_ms: n.retry_base_delay_ms,
        retry_max_delay_ms: n.retry_max_delay_ms,
        retention_days: n.retention_days,
        // One rate per channel (two rates on one channel is a different refusal).
        fee_rates: n
            .fee_basis_points
            .iter()
            .zip([FeeChannel::Card, FeeChannel::Qr])
            .map(|(&basis_points, channel)| FeeRate {
                channel,
                basis_points,
            })
            .collect(),
        ..Config::default()
    };
    config.printing.roll_length_mm = n.roll_length_mm;
    config.printing.utc_offset_minutes = n.utc_offset_minutes;
    config.printing.e_receipt_after_ms = n.e_receipt_after_ms;
    config.printing.header_lines = vec!["HEADER".to_string(); n.header_lines];
    config.backup.every_ms = n.backup_every_ms;
    config.backup.keep = n.backup_keep;
    config
}

/// The oracle: the name and value of every setting out of its documented range.
fn out_of_range(n: &Numbers) -> Vec<(&'static str, String)> {
    let mut bad = Vec::new();
    let mut check = |ok: bool, name: &'static str, value: String| {
        if !ok {
            bad.push((name, value));
        }
    };
    check(
        (1..=3).contains(&n.slip_copies),
        "slip_copies",
        n.slip_copies.to_string(),
    );
    check(
        (100..=200).contains(&n.completion_limit_percent),
        "completion_limit_percent",
        n.completion_limit_percent.to_string(),
    );
    check(
        (1..=60).contains(&n.preauth_valid_days),
        "preauth_valid_days",
        n.preauth_valid_days.to_string(),
    );
    check(
        (1..=3).contains(&n.reversal_max_attempts),
        "reversal_max_attempts",
        n.reversal_max_attempts.to_string(),
    );
    check(
        (1..=600_000).contains(&n.retry_base_delay_ms),
        "retry_base_delay_ms",
        n.retry_base_delay_ms.to_string(),
    );
    check(
        n.retry_max_delay_ms >= n.retry_base_delay_ms && n.retry_max_delay_ms <= 3_600_000,
        "retry_max_delay_ms",
        n.retry_max_delay_ms.to_string(),
    );
    check(
        (30..=3650).contains(&n.retention_days),
        "retention_days",
        n.retention_days.to_string(),
    );
    for bp in &n.fee_basis_points {
        check(*bp <= 1_000, "fee_rates.basis_points", bp.to_string());
    }
    check(
        (1_000..=200_000).contains(&n.roll_length_mm),
        "printing.roll_length_mm",
        n.roll_length_mm.to_string(),
    );
    check(
        (-720..=840).contains(&n.utc_offset_minutes),
        "printing.utc_offset_minutes",
        n.utc_offset_minutes.to_string(),
    );
    check(
        n.header_lines <= 8,
        "printing.header_lines",
        n.header_lines.to_string(),
    );
    check(
        (60_000..=604_800_000).contains(&n.backup_every_ms),
        "backup.every_ms",
        n.backup_every_ms.to_string(),
    );
    check(
        (1..=1_000).contains(&n.backup_keep),
        "backup.keep",
        n.backup_keep.to_string(),
    );
    // e_receipt_after_ms: any value (0 = only on request).
    bad
}

fn assert_names_itself(error: &ConfigError) {
    assert!(error.to_string().contains(error.name), "{error}");
    assert!(error.zh().contains(error.name), "{}", error.zh());
    assert!(error.to_string().contains(&error.value), "{error}");
    assert_eq!(error.code(), "CONFIG_RANGE");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// Every setting random at once: never panics; accepted exactly when all are in range;
    /// a refusal names one of the settings out of range, with its value.
    #[test]
    fn validate_accepts_exactly_the_documented_ranges(n in numbers()) {
        let config = config_of(&n);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.validate()));
        let result = result.expect("validate never panics");
        let bad = out_of_range(&n);
        match result {
            Ok(()) => prop_assert!(bad.is_empty(), "accepted although out of range: {bad:?}"),
            Err(error) => {
                assert_names_itself(&error);
                prop_assert!(
                    bad.iter().any(|(name, value)| *name == error.name && *value == error.value),
                    "refused {} = {} but out of range were {bad:?}", error.name, error.value
                );
            }
        }
    }

    /// One setting at a time on the default terminal: an out-of-range value is refused with
    /// exactly that setting's name.
    #[test]
    fn each_setting_alone_is_refused_by_its_name(n in numbers(), which in 0usize..14) {
        let mut one = Numbers {
            slip_copies: 2,
            completion_limit_percent: 115,
            preauth_valid_days: 30,
            reversal_max_attempts: 3,
            retry_base_delay_ms: 2_000,
            retry_max_delay_ms: 60_000,
            retention_days: 180,
            fee_basis_points: Vec::new(),
            roll_length_mm: 19_000,
            utc_offset_minutes: 480,
            e_receipt_after_ms: 120_000,
            header_lines: 0,
            backup_every_ms: 3_600_000,
            backup_keep: 24,
        };
        match which {
            0 => one.slip_copies = n.slip_copies,
            1 => one.completion_limit_percent = n.completion_limit_percent,
            2 => one.preauth_valid_days = n.preauth_valid_days,
            3 => one.reversal_max_attempts = n.reversal_max_attempts,
            // The base alone, with the max at its ceiling so only the base can be wrong.
            4 => {
                one.retry_base_delay_ms = n.retry_base_delay_ms;
                one.retry_max_delay_ms = 3_600_000;
            }
            5 => one.retry_max_delay_ms = n.retry_max_delay_ms,
            6 => one.retention_days = n.retention_days,
            7 => one.fee_basis_points = n.fee_basis_points.clone(),
            8 => one.roll_length_mm = n.roll_length_mm,
            9 => one.utc_offset_minutes = n.utc_offset_minutes,
            10 => one.e_receipt_after_ms = n.e_receipt_after_ms,
            11 => one.header_lines = n.header_lines,
            12 => one.backup_every_ms = n.backup_every_ms,
            _ => one.backup_keep = n.backup_keep,
        }
        let bad = out_of_range(&one);
        // The base alone can also put the max below it (then the base is refused first).
        prop_assert!(bad.len() <= 1 || which == 7 || which == 4, "one setting changed: {bad:?}");
        match config_of(&one).validate() {
            Ok(()) => prop_assert!(bad.is_empty(), "accepted {bad:?}"),
            Err(error) => {
                assert_names_itself(&error);
                prop_assert_eq!((error.name, error.value.clone()), bad[0].clone());
            }
        }
    }
}

#[test]
fn the_default_is_valid_and_the_edges_are_where_documented() {
    assert_eq!(Config::default().validate(), Ok(()));
    assert_eq!(Config::default().retention_days, 180);
    for (days, ok) in [(29, false), (30, true), (3650, true), (3651, false)] {
        let config = Config {
            retention_days: days,
            ..Config::default()
        };
        assert_eq!(config.validate().is_ok(), ok, "retention_days {days}");
    }
}
