//! ISO 8583 without I/O, for UnionPay (CUP) POS hosts: a table-driven codec, the CUP framing
//! (length, TPDU, header) and the MACs. Sockets, timeouts and keys live elsewhere
//! (`poscore-host`); this crate only turns values into bytes and back.
//!
//! # The pieces
//!
//! - **[`spec`]**: a [`FieldSpec`] says what one field holds ([`Kind`]: `n`, `an`, `ans`, `b`,
//!   `z`), how long it is ([`Length`]: fixed, LLVAR, LLLVAR), how the length prefix is written
//!   ([`PrefixEncoding`]: BCD or ASCII) and how the content is written ([`Content`]: BCD padded
//!   left or right, ASCII, binary). A [`Profile`] is the table of those for fields 2..=128, plus
//!   the MTI encoding. [`unionpay_pos`] is the CUP POS profile of reference/payments.md. Where
//!   the reference is unconfirmed (F22/F35 nibble padding, F63's character set), the default is
//!   documented on [`unionpay_pos`] and a host that differs is served by
//!   [`Profile::with_field`], not by code changes.
//! - **[`message`]**: a [`Message`] is an [`Mti`] plus a `BTreeMap` of field number to
//!   [`FieldValue`] (text or bytes), with typed setters and getters. There is no stored bitmap:
//!   it is computed from the fields present, so it cannot disagree with them.
//! - **[`codec`]**: [`encode`] and [`decode`] walk the profile. Values are checked, never
//!   silently padded or truncated; an [`EncodeError`] names the field. Every [`DecodeError`]
//!   carries the field number (0 = MTI, 1 = bitmap), the byte offset and a typed reason.
//!   Decoding never panics, whatever the input (property-tested and fuzzed).
//! - **[`frame`]**: `len(2, big-endian) | TPDU(5) | header(6) | body`. [`frame::frame`] builds a
//!   frame, [`FrameReader`] splits a byte stream into frames (with a configurable maximum
//!   length), [`check_reply_tpdu`] checks the host swapped the TPDU addresses, and
//!   [`Header::processing_requirement`] exposes the 处理要求 nibble (3 = sign on again).
//! - **[`mac`]**: the CUP ECB MAC and ANSI X9.19 over MTI..F63, with DES/3DES from RustCrypto.
//!   [`mac::sign`] and [`mac::verify`] take the MAC as a closure, so a secure module can compute
//!   it without the key ever leaving it.
//!
//! ```
//! use poscore_iso8583::{Message, Mti, decode, encode, unionpay_pos};
//! let profile = unionpay_pos();
//! let mut m = Message::new(Mti::new("0800").unwrap());
//! m.set_numeric(11, "000001").set_text(41, "12345678").set_text(42, "123456789012345")
//!     .set_numeric(60, "00000001003");
//! let bytes = encode(&m, &profile)?;
//! assert_eq!(decode(&bytes, &profile)?, m);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Testing against others
//!
//! `tests/pyiso8583_peer.rs` checks the codec against pyiso8583 with an independent Python spec
//! of the profile (`tests/peers/iso8583/`): each side decodes the other's encodings to equal
//! fields. MAC vectors come from Python's `cryptography` (`tests/peers/iso8583/mac_vectors.py`).
//!
//! # Fuzzing
//!
//! `tests/fuzz_smoke.rs` runs a bounded smoke run on stable in CI: 20 000 random and mutated
//! inputs each through [`decode`] and [`FrameReader`], with the checks of [`fuzzing`]. For
//! longer runs use the cargo-fuzz project in `rust/iso8583/fuzz` (its own workspace, nightly
//! Rust and `cargo install cargo-fuzz`):
//!
//! ```sh
//! cd rust/iso8583/fuzz
//! cargo +nightly fuzz run decode -- -max_total_time=600
//! cargo +nightly fuzz run frame_reader -- -max_total_time=600
//! ```
//!
//! A crash leaves its input in `fuzz/artifacts/<target>/`; replay it with
//! `cargo +nightly fuzz run <target> <file>` and add it as a regression test.

#![warn(missing_docs)]

pub mod codec;
pub mod frame;
pub mod fuzzing;
pub mod mac;
pub mod message;
pub mod spec;

pub use codec::{DecodeError, DecodeReason, EncodeError, decode, encode, encode_into};
pub use frame::{
    Frame, FrameError, FrameReader, Header, ProcessingRequirement, Tpdu, check_reply_tpdu,
};
pub use mac::{MacAlgorithm, MacError, compute_mac, cup_ecb_mac, x919_mac};
pub use message::{FieldValue, Message, Mti};
pub use spec::{
    Content, FieldSpec, Kind, Length, MtiEncoding, Pad, PrefixEncoding, Profile, unionpay_pos,
};
