//! Representative CUP POS messages (reference/payments.md section 1), shared by the tests and
//! the benches, and their JSON form for the pyiso8583 peer.
#![allow(dead_code)]

use poscore_iso8583::{Content, FieldValue, Message, Mti, Profile};
use serde_json::{Map, Value};

fn message(mti: &str, text: &[(u8, &str)], binary: &[(u8, &[u8])]) -> Message {
    let mut m = Message::new(Mti::new(mti).expect("a valid MTI"));
    for &(n, t) in text {
        m.set_text(n, t);
    }
    for &(n, b) in binary {
        m.set_binary(n, b);
    }
    m
}

const PAN: &str = "6225880123456789012";
const TRACK2: &str = "6225880123456789012=25122010000012345";
const TID: &str = "12345678";
const MID: &str = "898310048161234";
const MAC: &[u8] = &[0x41, 0x42, 0x43, 0x44, 0x31, 0x32, 0x33, 0x34];

/// 0800 sign-on: F60 = 00 (type), 000001 (batch), 003 (double-length keys).
pub fn sign_on() -> Message {
    message(
        "0800",
        &[
            (11, "000001"),
            (41, TID),
            (42, MID),
            (60, "00000001003"),
            (63, "01 "),
        ],
        &[],
    )
}

/// 0810 sign-on reply with the working keys in F62.
pub fn sign_on_reply() -> Message {
    let keys: Vec<u8> = (0u8..40).map(|i| i.wrapping_mul(37) ^ 0x5A).collect();
    message(
        "0810",
        &[
            (11, "000001"),
            (12, "101530"),
            (13, "0512"),
            (32, "01020000"),
            (37, "051210153001"),
            (39, "00"),
            (41, TID),
            (42, MID),
            (60, "00000001003"),
        ],
        &[(62, &keys)],
    )
}

/// 0100 pre-auth request (F3 030000, F25 06, F60.1 10), swiped with PIN.
pub fn preauth() -> Message {
    message(
        "0100",
        &[
            (2, PAN),
            (3, "030000"),
            (4, "000000012345"),
            (11, "000123"),
            (14, "2512"),
            (22, "021"),
            (25, "06"),
            (26, "12"),
            (35, TRACK2),
            (41, TID),
            (42, MID),
            (49, "156"),
            (60, "1000000100060"),
        ],
        &[
            (52, &[0x9A, 0x3B, 0x11, 0xC4, 0x00, 0x7E, 0xF2, 0x08]),
            (64, MAC),
        ],
    )
}

/// 0110 pre-auth approval with F38 and F39.
pub fn preauth_reply() -> Message {
    message(
        "0110",
        &[
            (2, PAN),
            (3, "030000"),
            (4, "000000012345"),
            (11, "000123"),
            (12, "101533"),
            (13, "0512"),
            (14, "2512"),
            (25, "06"),
            (32, "01020000"),
            (37, "051210153301"),
            (38, "A1B2C3"),
            (39, "00"),
            (41, TID),
            (42, MID),
            (44, "0102000001030000"),
            (49, "156"),
            (60, "1000000100060"),
            (63, "CUP"),
        ],
        &[(64, MAC)],
    )
}

/// 0400 reversal of the pre-auth: the original's fields plus F39, never F35/F36/F52.
pub fn reversal() -> Message {
    message(
        "0400",
        &[
            (2, PAN),
            (3, "030000"),
            (4, "000000012345"),
            (11, "000123"),
            (14, "2512"),
            (22, "021"),
            (25, "06"),
            (39, "98"),
            (41, TID),
            (42, MID),
            (49, "156"),
            (60, "1000000100060"),
        ],
        &[(64, MAC)],
    )
}

/// 0220 completion advice (F60.1 24) with the original in F61 and F38.
pub fn advice() -> Message {
    message(
        "0220",
        &[
            (2, PAN),
            (3, "000000"),
            (4, "000000012000"),
            (11, "000131"),
            (14, "2512"),
            (22, "012"),
            (25, "06"),
            (38, "A1B2C3"),
            (41, TID),
            (42, MID),
            (49, "156"),
            (60, "24000001000"),
            (61, "0000010001230512"),
        ],
        &[(64, MAC)],
    )
}

/// 0500 settlement with the F48 totals (domestic then foreign: debit amount/count, credit
/// amount/count, reconciliation code).
pub fn settlement() -> Message {
    let f48 = concat!(
        "000000123450",
        "003",
        "000000000000",
        "000",
        "0",
        "000000000000",
        "000",
        "000000000000",
        "000",
        "0"
    );
    message(
        "0500",
        &[
            (11, "000140"),
            (41, TID),
            (42, MID),
            (48, f48),
            (49, "156"),
            (60, "00000001201"),
            (63, "01 "),
        ],
        &[],
    )
}

/// 0320 batch upload of an IC transaction (60.3 203) with F55.
pub fn batch_upload() -> Message {
    let icc: Vec<u8> = [0x9F, 0x26, 0x08]
        .iter()
        .copied()
        .chain(0u8..8)
        .chain([0x9F, 0x27, 0x01, 0x40])
        .collect();
    message(
        "0320",
        &[
            (2, PAN),
            (3, "000000"),
            (4, "000000012000"),
            (11, "000141"),
            (22, "051"),
            (23, "001"),
            (25, "06"),
            (41, TID),
            (42, MID),
            (49, "156"),
            (60, "00000001203"),
        ],
        &[(55, &icc)],
    )
}

/// 0320 end of batch upload: F48 = count n4, 60.3 207.
pub fn batch_upload_end() -> Message {
    message(
        "0320",
        &[
            (11, "000142"),
            (41, TID),
            (42, MID),
            (48, "0003"),
            (60, "00000001207"),
        ],
        &[],
    )
}

/// All of the above, named.
pub fn all() -> Vec<(&'static str, Message)> {
    vec![
        ("0800 sign-on", sign_on()),
        ("0810 sign-on reply", sign_on_reply()),
        ("0100 pre-auth", preauth()),
        ("0110 pre-auth reply", preauth_reply()),
        ("0400 reversal", reversal()),
        ("0220 advice", advice()),
        ("0500 settlement", settlement()),
        ("0320 batch upload", batch_upload()),
        ("0320 batch upload end", batch_upload_end()),
    ]
}

/// The JSON form of the pyiso8583 peer: "t" the MTI, binary fields in uppercase hex.
pub fn to_json(m: &Message) -> Value {
    let mut map = Map::new();
    map.insert("t".into(), Value::String(m.mti.to_string()));
    for (n, v) in &m.fields {
        let s = match v {
            FieldValue::Text(t) => t.clone(),
            FieldValue::Binary(b) => hex(b),
        };
        map.insert(n.to_string(), Value::String(s));
    }
    Value::Object(map)
}

/// A message from the peer's JSON, using the profile to tell binary fields from text.
pub fn from_json(v: &Value, profile: &Profile) -> Message {
    let obj = v.as_object().expect("a JSON object");
    let mut m = Message::new(Mti::new(obj["t"].as_str().expect("t")).expect("an MTI"));
    for (k, v) in obj {
        if k == "t" {
            continue;
        }
        let n: u8 = k.parse().expect("a field number");
        let s = v.as_str().expect("a string value");
        match profile.field(n).expect("a field of the profile").content {
            Content::Binary => m.set_binary(n, &unhex(s)),
            _ => m.set_text(n, s),
        };
    }
    m
}

/// Uppercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Bytes from hex.
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}
