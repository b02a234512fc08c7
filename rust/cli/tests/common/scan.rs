//! A scanner for sensitive card data at rest and in logs (DESIGN.md promise 6, PCI DSS
//! 3.3.1 / 3.5.1): full PANs, track-2 data, PIN blocks, keys and CVV-like fields in any file
//! (journal, WAL, backup, export) or log text. Used by `security_scan.rs`; the chaos test can
//! use it too (`#[path = "common/scan.rs"] mod scan;`).
//!
//! What it looks for, in bytes (so a binary SQLite page is scanned as well as a log line):
//!
//! 1. **The known PANs** ([`Secrets::pans`]), each as ASCII digits anywhere (even inside a
//!    longer digit run) and packed as BCD (as on the ISO 8583 wire). Exact and certain.
//! 2. **Any other PAN-like number**: a maximal run of 13–19 ASCII digits that passes the Luhn
//!    check *and* starts with a card-brand prefix (ISO/IEC 7812 major industry identifiers
//!    of payment cards: 3 Amex/JCB/Diners, 4 Visa, 5 Mastercard, 6 UnionPay/Discover/Maestro,
//!    2221–2720 Mastercard 2-series, 81 UnionPay 8-series), unless it is listed in
//!    [`Secrets::allowed`]. This is the net for PANs the test did not know about. False
//!    positives are kept out by: the run must be *maximal* (a 13–19 digit window inside a
//!    longer number, e.g. concatenated fields, is not a PAN); the run must not touch a hex
//!    letter `a-f`/`A-F` on either side (a digit stretch inside a hex hash or key is not a
//!    PAN); the brand prefix excludes the long numeric fields poscore writes: Unix-epoch
//!    millisecond timestamps (`17…`/`18…`), the merchant id (`898…`, 15 digits), field 60
//!    (`22…`), field 61 (`0…`, batch first), zero-padded traces and batches; RRNs (12
//!    digits), auth codes (6), amounts and dates are shorter than 13. What is left and still
//!    matches has a 1-in-10 Luhn chance, so a real hit is reported with its context for a
//!    person to judge, and a justified exception goes in `allowed`.
//! 3. **Track-2 data**: 13–19 digits, then `=` or `D`, then 4 digits (`\d{13,19}[=D]\d{4}`).
//! 4. **Keys and PIN blocks** ([`Secrets::binary`]): each as raw bytes, as upper- and
//!    lower-case hex.
//! 5. **CVV-like fields**: `cvv`, `cvv2`, `cvc`, `cvc2`, `cvn`, `cvn2`, `csc` (any case) followed
//!    within three non-alphanumeric characters by 3 or 4 digits (`"cvv":"123"`, `CVN2=456`).

#![allow(dead_code)] // each test file uses a part

use std::fmt;
use std::path::Path;

/// What must not appear.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// Full card numbers used by the test (ASCII digits).
    pub pans: Vec<String>,
    /// Keys, PIN blocks and other secret byte strings, with a name for the report.
    pub binary: Vec<(String, Vec<u8>)>,
    /// Luhn-valid brand-prefixed numbers known not to be card numbers (each with a reason
    /// in the test), never reported by check 2.
    pub allowed: Vec<String>,
}

/// One thing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where: a file name, or a log's name and line number.
    pub source: String,
    /// What: `pan`, `pan-bcd`, `pan-like`, `track2`, `secret <name>`, `cvv`.
    pub kind: String,
    /// Byte offset in the source.
    pub offset: usize,
    /// The bytes around it, printable (digits of a PAN-like match are kept so a person can
    /// judge; this is test data).
    pub context: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {}+{}: …{}…",
            self.kind, self.source, self.offset, self.context
        )
    }
}

/// Whether a digit string passes the Luhn check.
pub fn luhn_valid(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.iter().rev().enumerate() {
        if !b.is_ascii_digit() {
            return false;
        }
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum % 10 == 0
}

/// Whether a digit string starts like a payment card number (see the module's notes).
pub fn has_card_prefix(digits: &[u8]) -> bool {
    match digits.first() {
        Some(b'3' | b'4' | b'5' | b'6') => true,
        Some(b'2') => {
            let four: u32 = std::str::from_utf8(&digits[..4.min(digits.len())])
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            (2221..=2720).contains(&four)
        }
        Some(b'8') => digits.get(1) == Some(&b'1'),
        _ => false,
    }
}

/// Packs digits as BCD (two per byte, left-justified, a trailing odd digit padded with 0).
pub fn bcd(digits: &str) -> Vec<u8> {
    let nibbles: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
    nibbles
        .chunks(2)
        .map(|p| (p[0] << 4) | p.get(1).copied().unwrap_or(0))
        .collect()
}

/// The ISO 9564 format-0 PIN block of `pin` for `pan`, in the clear (what an unencrypted
/// field 52 would hold).
pub fn pin_block_format0(pin: &str, pan: &str) -> Vec<u8> {
    let mut pin_field = format!("0{}{pin}", pin.len());
    while pin_field.len() < 16 {
        pin_field.push('F');
    }
    let body = &pan[..pan.len() - 1];
    let pan_field = format!("0000{}", &body[body.len() - 12..]);
    let a = hex_decode(&pin_field);
    let b = hex_decode(&pan_field);
    a.iter().zip(&b).map(|(x, y)| x ^ y).collect()
}

/// Decodes hex text (test constants only).
pub fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Upper-case hex of bytes.
pub fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    let mut found = Vec::new();
    let Some(&first) = needle.first() else {
        return found;
    };
    if needle.len() > haystack.len() {
        return found;
    }
    let last_start = haystack.len() - needle.len();
    let mut i = 0;
    while i <= last_start {
        match haystack[i..=last_start].iter().position(|&b| b == first) {
            None => break,
            Some(p) => {
                let at = i + p;
                if &haystack[at..at + needle.len()] == needle {
                    found.push(at);
                }
                i = at + 1;
            }
        }
    }
    found
}

fn context(bytes: &[u8], at: usize, len: usize) -> String {
    let start = at.saturating_sub(24);
    let end = (at + len + 24).min(bytes.len());
    bytes[start..end]
        .iter()
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            }
        })
        .collect()
}

/// Scans `bytes` (named `source` in findings) for everything in the module's list.
pub fn scan_bytes(source: &str, bytes: &[u8], secrets: &Secrets) -> Vec<Finding> {
    let mut found = Vec::new();
    let mut push = |kind: String, offset: usize, len: usize| {
        found.push(Finding {
            source: source.to_string(),
            kind,
            offset,
            context: context(bytes, offset, len),
        })
    };
    // 1. The known PANs, as text and as BCD.
    for pan in &secrets.pans {
        for at in find_all(bytes, pan.as_bytes()) {
            push("pan".into(), at, pan.len());
        }
        for at in find_all(bytes, &bcd(pan)) {
            push("pan-bcd".into(), at, pan.len() / 2);
        }
    }
    // 2 and 3: maximal digit runs.
    let is_hex_letter = |b: u8| matches!(b, b'a'..=b'f' | b'A'..=b'F');
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let run = &bytes[start..i];
        // Track 2: the run (its last 13–19 digits) then `=`/`D` and 4 digits.
        if run.len() >= 13
            && i + 5 <= bytes.len()
            && matches!(bytes[i], b'=' | b'D')
            && bytes[i + 1..i + 5].iter().all(u8::is_ascii_digit)
        {
            push("track2".into(), start, i + 5 - start);
        }
        // A digit stretch touching a hex letter is part of a hash or key, not a PAN (a
        // track-2 `D` separator is caught above).
        let in_hex = (start > 0 && is_hex_letter(bytes[start - 1]))
            || (i < bytes.len() && is_hex_letter(bytes[i]));
        if (13..=19).contains(&run.len())
            && !in_hex
            && luhn_valid(run)
            && has_card_prefix(run)
            && !secrets.pans.iter().any(|p| p.as_bytes() == run)
            && !secrets.allowed.iter().any(|a| a.as_bytes() == run)
        {
            push("pan-like".into(), start, run.len());
        }
    }
    // 4. Keys and PIN blocks: raw, upper and lower hex.
    for (name, secret) in &secrets.binary {
        let upper = hex_upper(secret);
        for form in [
            secret.clone(),
            upper.clone().into_bytes(),
            upper.to_ascii_lowercase().into_bytes(),
        ] {
            for at in find_all(bytes, &form) {
                push(format!("secret {name}"), at, form.len());
            }
        }
    }
    // 5. CVV-like fields.
    let lower = bytes.to_ascii_lowercase();
    for word in [&b"cvv"[..], b"cvc", b"cvn", b"csc"] {
        for at in find_all(&lower, word) {
            let before_ok = at == 0 || !lower[at - 1].is_ascii_alphanumeric();
            let mut j = at + word.len();
            if j < lower.len() && lower[j] == b'2' {
                j += 1;
            }
            let mut gap = 0;
            while j < lower.len() && gap < 3 && !lower[j].is_ascii_alphanumeric() {
                j += 1;
                gap += 1;
            }
            let digits = lower[j..].iter().take_while(|b| b.is_ascii_digit()).count();
            if before_ok && (3..=4).contains(&digits) {
                push("cvv".into(), at, j + digits - at);
            }
        }
    }
    found
}

/// Scans a file, if it exists (a missing `-wal` is not a finding).
pub fn scan_file(path: &Path, secrets: &Secrets) -> Vec<Finding> {
    match std::fs::read(path) {
        Ok(bytes) => scan_bytes(&path.display().to_string(), &bytes, secrets),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("reading {}: {e}", path.display()),
    }
}

/// Scans log text line by line (findings name the line).
pub fn scan_log(name: &str, text: &str, secrets: &Secrets) -> Vec<Finding> {
    text.lines()
        .enumerate()
        .flat_map(|(n, line)| scan_bytes(&format!("{name}:{}", n + 1), line.as_bytes(), secrets))
        .collect()
}

/// Checks the scanner itself on planted data: it must find each kind, and nothing in text
/// full of the near misses a POS journal has.
pub fn self_test(secrets: &Secrets) {
    let pan = secrets.pans.first().expect("a test PAN").clone();
    let planted = format!("x {pan} y {pan}=30121010000 z \"cvv\":\"123\" w 4111111111111111\n");
    let kinds: Vec<String> = scan_bytes("planted", planted.as_bytes(), secrets)
        .into_iter()
        .map(|f| f.kind)
        .collect();
    for kind in ["pan", "track2", "cvv"] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "the scanner finds {kind}: {kinds:?}"
        );
    }
    let mut with_bcd = b"\x00\x01".to_vec();
    with_bcd.extend(bcd(&pan));
    assert!(
        scan_bytes("bcd", &with_bcd, secrets)
            .iter()
            .any(|f| f.kind == "pan-bcd")
    );
    if let Some((name, key)) = secrets.binary.first() {
        let mut blob = b"abc".to_vec();
        blob.extend(key);
        assert!(
            scan_bytes("raw", &blob, secrets)
                .iter()
                .any(|f| f.kind == format!("secret {name}")),
            "raw {name} found"
        );
        let text = format!("key={}", hex_upper(key).to_ascii_lowercase());
        assert!(
            !scan_bytes("hex", text.as_bytes(), secrets).is_empty(),
            "hex {name} found"
        );
    }
    // An unknown PAN-like number is found; the near misses are not.
    let unknown = "5105105105105100"; // a Mastercard test number not in the list
    assert!(
        scan_bytes("u", unknown.as_bytes(), secrets)
            .iter()
            .any(|f| f.kind == "pan-like")
    );
    let near_misses = "at 1764147600000 ms; mid 898310048990001; f60 2200000100050; f61 0000010000122611; \
        rrn 202611260001; masked 622202*********0128 and 411111******1111; amount 100.98; \
        hash 3f5a9c45678901234567890e2b and 64-digit 0123456789012345678901234567890123456789";
    let misses = scan_bytes("near", near_misses.as_bytes(), secrets);
    assert!(misses.is_empty(), "no false positives: {misses:?}");
}
