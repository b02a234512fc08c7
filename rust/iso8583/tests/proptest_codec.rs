//! Property tests: decode never panics on any bytes, and random valid messages round-trip.

use poscore_iso8583::fuzzing::{check_decode, check_frame_reader};
use poscore_iso8583::{FieldSpec, Kind, Length, Message, Mti, decode, encode, unionpay_pos};
use proptest::prelude::*;

/// A value for `spec` made from random material: the length from `len_seed`, the characters
/// from `bytes` mapped into the kind's alphabet.
fn value_for(spec: &FieldSpec, len_seed: usize, bytes: &[u8], m: &mut Message) {
    let units = match spec.length {
        Length::Fixed(n) => n,
        Length::LlVar(max) | Length::LllVar(max) => len_seed % (max + 1),
    };
    let byte = |i: usize| {
        bytes
            .get(i % bytes.len().max(1))
            .copied()
            .unwrap_or(i as u8)
            .wrapping_add((i / 7) as u8)
    };
    let alphabet: &[u8] = match spec.kind {
        Kind::Numeric => b"0123456789",
        Kind::Track => b"0123456789=",
        Kind::Alpha => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz ",
        Kind::AlphaNum => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ",
        Kind::AlphaNumSpecial => b" !\"#$%&'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~",
        Kind::Binary => {
            let data: Vec<u8> = (0..units).map(byte).collect();
            m.set_binary(spec.number, &data);
            return;
        }
    };
    let text: String = (0..units)
        .map(|i| char::from(alphabet[usize::from(byte(i)) % alphabet.len()]))
        .collect();
    m.set_text(spec.number, &text);
}

fn arb_message() -> impl Strategy<Value = Message> {
    let profile = unionpay_pos();
    let numbers: Vec<u8> = profile.fields().map(|s| s.number).collect();
    (
        prop::sample::select(vec![
            "0100", "0110", "0200", "0220", "0320", "0400", "0500", "0800", "0810",
        ]),
        prop::collection::vec(
            (
                prop::sample::select(numbers),
                any::<usize>(),
                prop::collection::vec(any::<u8>(), 0..40),
            ),
            0..25,
        ),
    )
        .prop_map(move |(mti, fields)| {
            let mut m = Message::new(Mti::new(mti).unwrap());
            for (n, len_seed, bytes) in fields {
                value_for(profile.field(n).unwrap(), len_seed, &bytes, &mut m);
            }
            m
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn decode_never_panics_on_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check_decode(&bytes, &unionpay_pos());
    }

    #[test]
    fn decode_never_panics_after_a_valid_header(tail in prop::collection::vec(any::<u8>(), 0..300), bitmap in any::<u64>()) {
        // A valid MTI and a random bitmap get past the first checks into the fields.
        let mut bytes = vec![0x02, 0x00];
        bytes.extend((bitmap & !(1 << 63)).to_be_bytes());
        bytes.extend(tail);
        check_decode(&bytes, &unionpay_pos());
    }

    #[test]
    fn random_valid_messages_round_trip(m in arb_message()) {
        let profile = unionpay_pos();
        let bytes = encode(&m, &profile).unwrap();
        prop_assert_eq!(decode(&bytes, &profile).unwrap(), m);
        // Every strict prefix fails to decode, with an offset inside the input.
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            if cut < bytes.len() {
                let err = decode(&bytes[..cut], &profile).unwrap_err();
                prop_assert!(err.offset <= cut);
            }
        }
    }

    #[test]
    fn frame_reader_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        check_frame_reader(&bytes);
    }
}
