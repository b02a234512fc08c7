//! The engine's host requests and replies as UnionPay POS ISO 8583 messages, field by field
//! (reference/payments.md §1).
//!
//! | request | MTI | F3 | F25 | F60.1 | F60.3 |
//! |---|---|---|---|---|---|
//! | sign-on | 0800 | – | – | 00 | 003 (double-length keys) |
//! | pre-auth | 0100 | 030000 | 06 | 10 | – |
//! | pre-auth void | 0100 | 200000 | 06 | 11 | – |
//! | completion request | 0200 | 000000 | 06 | 20 | – |
//! | completion void | 0200 | 200000 | 06 | 21 | – |
//! | completion advice | 0220 | 000000 | 06 | 24 | – |
//! | reversal | 0400 | as original | as original | as original | – |
//! | settlement | 0500 | – | – | 00 | 201 |
//! | batch upload / end | 0320 | – | – | 00 | 201 / 207 |
//!
//! F60 is `60.1 type (n2) | 60.2 batch (n6) | 60.3 network code (n3)`; F61 is the original's
//! `batch (n6) | trace (n6) | MMDD (n4)`. A reversal carries the original's F3, F4, F11, F22,
//! F25, F38, F60 and F61 plus F39 (the reason), and never F2, F35, F36 or F52.
//!
//! A reply is accepted only if its MTI is the request's + 10 and its F11, F41 and F42 are the
//! request's ([`from_message`]); anything else is a [`MappingError`], so a late or foreign
//! reply is recognized and never applied.

use poscore::card::CardInput;
use poscore::host::{
    AdviceRequest, BatchTotals, BatchUploadRecord, FinancialRequest, HostReply, HostRequest,
    OriginalRef, ResponseCode, ReversalRequest, SettlementRequest, TerminalIdentity,
};
use poscore::ids::{BatchNumber, TraceNumber};
use poscore::money::Money;
use poscore::txn::TxnKind;
use poscore_iso8583::{Message, Mti};

/// F22 for a keyed-in card without PIN (`01` manual, `2` no PIN capability used).
pub const ENTRY_MODE_KEYED: &str = "012";
/// F25 for the pre-authorization family.
pub const CONDITION_PREAUTH: &str = "06";
/// F60.3 of the sign-on: double-length (3DES) working keys.
pub const SIGN_ON_DOUBLE_LENGTH: &str = "003";
/// F60.3 of the settlement and of a batch-upload record.
pub const SETTLEMENT_NETWORK_CODE: &str = "201";
/// F60.3 of the batch-upload end message. The reference leaves 202 vs 207 open, so it is a
/// setting ([`WireOptions`]); confirm with the acquirer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BatchUploadEndCode {
    /// `207` (the default).
    #[default]
    Code207,
    /// `202`.
    Code202,
}

impl BatchUploadEndCode {
    /// Every code, for hosts that accept either.
    pub const ALL: [BatchUploadEndCode; 2] =
        [BatchUploadEndCode::Code207, BatchUploadEndCode::Code202];

    /// The three digits of F60.3.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchUploadEndCode::Code207 => "207",
            BatchUploadEndCode::Code202 => "202",
        }
    }
}

/// The parts of the wire format that differ between acquirers and that the reference leaves
/// unconfirmed. (F22/F35 padding lives in the codec's profile: `Profile::with_field`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WireOptions {
    /// F60.3 of the batch-upload end message.
    pub batch_upload_end_code: BatchUploadEndCode,
}

/// What went wrong mapping a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// The request lacks what its message needs (a pre-auth without a card, a void without
    /// its original). A bug in the caller: nothing was sent.
    #[error("cannot build the {what} message: {missing} is missing")]
    Incomplete {
        /// Which message.
        what: &'static str,
        /// What is missing.
        missing: &'static str,
    },
    /// The reply's MTI is not the request's + 10: a reply to another message. Ignore it.
    #[error(
        "reply MTI {actual} does not answer a {request} (expected {expected}); ignore the reply"
    )]
    UnexpectedMti {
        /// The request's MTI.
        request: String,
        /// The MTI expected.
        expected: String,
        /// The MTI received.
        actual: String,
    },
    /// A field that must echo the request's (F11, F41, F42) differs: a late reply to an
    /// earlier exchange or a reply meant for another terminal. Ignore it.
    #[error(
        "reply field {field} is {actual:?}, the request's is {expected:?}: a late or foreign reply; ignore it"
    )]
    Mismatch {
        /// The field number.
        field: u8,
        /// The request's value.
        expected: String,
        /// The reply's value (empty when absent).
        actual: String,
    },
    /// A field the reply must carry is absent or malformed (F39 not two letters or digits).
    #[error("reply field {field} is missing or malformed: {why}; treat the host as faulty")]
    BadField {
        /// The field number.
        field: u8,
        /// What is wrong.
        why: &'static str,
    },
}

impl MappingError {
    /// Whether this is a reply to something else (late, duplicate or foreign): the link logs it
    /// and keeps waiting for its own reply.
    pub fn is_foreign_reply(&self) -> bool {
        matches!(
            self,
            MappingError::UnexpectedMti { .. } | MappingError::Mismatch { .. }
        )
    }
}

fn mti(digits: &str) -> Mti {
    // Only called with the literal MTIs of this module.
    Mti::new(digits).unwrap_or_else(|| unreachable!("literal MTI {digits}"))
}

/// F3, F60.1 and the MTI of a transaction kind.
pub fn kind_codes(kind: TxnKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        TxnKind::PreAuth => ("0100", "030000", "10"),
        TxnKind::PreAuthVoid => ("0100", "200000", "11"),
        TxnKind::CompletionRequest => ("0200", "000000", "20"),
        TxnKind::CompletionVoid => ("0200", "200000", "21"),
        TxnKind::CompletionAdvice => ("0220", "000000", "24"),
    }
}

/// The kind a request message stands for, from its MTI, F3 and F60.1 (the host side).
pub fn kind_of(message: &Message) -> Option<TxnKind> {
    let f60 = message.get_text(60)?;
    let code = f60.get(..2)?;
    TxnKind::ALL.iter().copied().find(|&k| {
        let (m, _, c) = kind_codes(k);
        c == code && (message.mti.as_str() == m || message.mti.as_str() == "0400")
    })
}

fn identity_fields(m: &mut Message, identity: &TerminalIdentity) {
    m.set_text(41, identity.terminal_id.as_str())
        .set_text(42, identity.merchant_id.as_str());
}

fn amount_fields(m: &mut Message, amount: &Money) {
    m.set_number(4, amount.minor_units(), 12).set_number(
        49,
        u64::from(amount.currency().numeric()),
        3,
    );
}

fn f60(kind_code: &str, batch: BatchNumber, network: &str) -> String {
    format!("{kind_code}{batch}{network}")
}

/// F61: the original's batch, trace and MMDD.
pub fn f61(original: &OriginalRef) -> String {
    let (_, month, day) = original.at.civil_date();
    format!("{}{}{month:02}{day:02}", original.batch, original.trace)
}

fn card_fields(m: &mut Message, card: &CardInput) {
    m.set_numeric(2, card.pan.expose_digits())
        .set_numeric(14, &card.expiry.as_yymm());
}

fn original_fields(m: &mut Message, original: &OriginalRef, with_rrn: bool) {
    if let Some(auth) = &original.auth_code {
        m.set_text(38, auth);
    }
    if with_rrn && let Some(rrn) = &original.rrn {
        m.set_text(37, rrn);
    }
    m.set_numeric(61, &f61(original));
}

fn financial(r: &FinancialRequest) -> Result<Message, MappingError> {
    let (mti_digits, f3, f60_1) = kind_codes(r.kind);
    let mut m = Message::new(mti(mti_digits));
    m.set_numeric(3, f3)
        .set_number(11, u64::from(r.trace.value()), 6)
        .set_numeric(22, ENTRY_MODE_KEYED)
        .set_numeric(25, CONDITION_PREAUTH);
    amount_fields(&mut m, &r.amount);
    identity_fields(&mut m, &r.identity);
    m.set_numeric(60, &f60(f60_1, r.batch, ""));
    match r.kind {
        TxnKind::PreAuth => {
            let card = r.card.as_ref().ok_or(MappingError::Incomplete {
                what: "pre-auth",
                missing: "the card",
            })?;
            card_fields(&mut m, card);
        }
        kind => {
            if let Some(card) = &r.card {
                card_fields(&mut m, card);
            }
            let original = r.original.as_ref().ok_or(MappingError::Incomplete {
                what: "void or completion",
                missing: "the original",
            })?;
            let with_rrn = matches!(kind, TxnKind::PreAuthVoid | TxnKind::CompletionVoid);
            original_fields(&mut m, original, with_rrn);
        }
    }
    Ok(m)
}

fn advice(r: &AdviceRequest) -> Message {
    let (mti_digits, f3, f60_1) = kind_codes(TxnKind::CompletionAdvice);
    let mut m = Message::new(mti(mti_digits));
    m.set_numeric(3, f3)
        .set_number(11, u64::from(r.trace.value()), 6)
        .set_numeric(22, ENTRY_MODE_KEYED)
        .set_numeric(25, CONDITION_PREAUTH);
    amount_fields(&mut m, &r.amount);
    identity_fields(&mut m, &r.identity);
    m.set_numeric(60, &f60(f60_1, r.batch, ""));
    original_fields(&mut m, &r.original, false);
    m
}

fn reversal(r: &ReversalRequest) -> Message {
    let (_, f3, f60_1) = kind_codes(r.original_kind);
    let mut m = Message::new(mti("0400"));
    m.set_numeric(3, f3)
        .set_number(11, u64::from(r.original_trace.value()), 6)
        .set_numeric(22, ENTRY_MODE_KEYED)
        .set_numeric(25, CONDITION_PREAUTH);
    amount_fields(&mut m, &r.amount);
    m.set_text(39, r.reason.as_str());
    identity_fields(&mut m, &r.identity);
    m.set_numeric(60, &f60(f60_1, r.batch, ""));
    if let Some(original) = &r.original {
        // F38 and F61 as the original request carried them; F37 is not part of a reversal.
        original_fields(&mut m, original, false);
    }
    m
}

/// F48 of a settlement: domestic debit amount n12, count n3, credit amount n12, count n3,
/// reconciliation code n1, then the same five for foreign cards (all zero here).
pub fn settlement_f48(totals: &BatchTotals, reconciliation: char) -> String {
    format!(
        "{:012}{:03}{:012}{:03}{reconciliation}{:012}{:03}{:012}{:03}0",
        totals.amount_minor, totals.count, 0, 0, 0, 0, 0, 0
    )
}

/// Reads the domestic totals and reconciliation code back from a settlement F48.
pub fn parse_settlement_f48(f48: &str) -> Option<(BatchTotals, char)> {
    if f48.len() < 31 || !f48.is_ascii() {
        return None;
    }
    let amount_minor = f48.get(..12)?.parse().ok()?;
    let count = f48.get(12..15)?.parse().ok()?;
    let code = f48.as_bytes()[30] as char;
    Some((
        BatchTotals {
            count,
            amount_minor,
        },
        code,
    ))
}

fn settlement(r: &SettlementRequest) -> Message {
    let mut m = Message::new(mti("0500"));
    m.set_number(11, u64::from(r.trace.value()), 6);
    identity_fields(&mut m, &r.identity);
    m.set_numeric(48, &settlement_f48(&r.totals, '0'))
        .set_text(49, "156")
        .set_numeric(60, &f60("00", r.batch, SETTLEMENT_NETWORK_CODE))
        .set_text(63, &format!("{} ", r.identity.operator_id));
    m
}

/// The 0800 sign-on.
pub fn sign_on(trace: TraceNumber, identity: &TerminalIdentity, batch: BatchNumber) -> Message {
    let mut m = Message::new(mti("0800"));
    m.set_number(11, u64::from(trace.value()), 6);
    identity_fields(&mut m, identity);
    m.set_numeric(60, &f60("00", batch, SIGN_ON_DOUBLE_LENGTH))
        .set_text(63, &format!("{} ", identity.operator_id));
    m
}

/// The ISO 8583 message for `request` (without F64: the link adds the MAC).
pub fn to_message(request: &HostRequest, options: &WireOptions) -> Result<Message, MappingError> {
    Ok(match request {
        HostRequest::SignOn {
            trace,
            batch,
            identity,
        } => sign_on(*trace, identity, *batch),
        HostRequest::Financial(r) => financial(r)?,
        HostRequest::Reversal(r) => reversal(r),
        HostRequest::Advice(r) => advice(r),
        HostRequest::Settlement(r) => settlement(r),
        HostRequest::BatchUpload {
            batch,
            record,
            identity,
        } => batch_upload(record, *batch, identity),
        HostRequest::BatchUploadEnd {
            trace,
            batch,
            count,
            identity,
        } => batch_upload_end(
            *trace,
            *count,
            *batch,
            identity,
            options.batch_upload_end_code,
        ),
    })
}

/// A batch-upload record (0320, F60 `00 batch 201`, F3 as the transaction's).
pub fn batch_upload(
    record: &BatchUploadRecord,
    batch: BatchNumber,
    identity: &TerminalIdentity,
) -> Message {
    let (_, f3, _) = kind_codes(record.kind);
    let mut m = Message::new(mti("0320"));
    m.set_numeric(3, f3)
        .set_number(11, u64::from(record.trace.value()), 6)
        .set_numeric(25, CONDITION_PREAUTH);
    amount_fields(&mut m, &record.amount);
    if let Some(rrn) = &record.rrn {
        m.set_text(37, rrn);
    }
    if let Some(auth) = &record.auth_code {
        m.set_text(38, auth);
    }
    identity_fields(&mut m, identity);
    m.set_numeric(60, &f60("00", batch, SETTLEMENT_NETWORK_CODE));
    m
}

/// The batch-upload end message (0320, F48 = the record count n4, 60.3 `end_code`).
pub fn batch_upload_end(
    stan: TraceNumber,
    count: u32,
    batch: BatchNumber,
    identity: &TerminalIdentity,
    end_code: BatchUploadEndCode,
) -> Message {
    let mut m = Message::new(mti("0320"));
    m.set_number(11, u64::from(stan.value()), 6);
    identity_fields(&mut m, identity);
    m.set_number(48, u64::from(count), 4)
        .set_numeric(60, &f60("00", batch, end_code.as_str()));
    m
}

fn echo(request: &Message, reply: &Message, field: u8) -> Result<(), MappingError> {
    let expected = request.get_text(field).unwrap_or_default();
    let actual = reply.get_text(field).unwrap_or_default();
    if expected == actual {
        Ok(())
    } else {
        Err(MappingError::Mismatch {
            field,
            expected: expected.to_string(),
            actual: actual.to_string(),
        })
    }
}

/// Checks that `reply` answers `request` (MTI + 10, same F11/F41/F42) and reads the answer.
///
/// `mac_valid` comes back `true` and `sign_on_requested` `false`: the link sets them from
/// the MAC check and the frame header. For a settlement, `settlement_balanced` is read from
/// the reconciliation code of the reply's F48 (`1` balanced; `2` or `3` not; absent: `None`).
pub fn from_message(reply: &Message, request: &Message) -> Result<HostReply, MappingError> {
    let expected = request.mti.response();
    if expected != Some(reply.mti) {
        return Err(MappingError::UnexpectedMti {
            request: request.mti.to_string(),
            expected: expected.map(|m| m.to_string()).unwrap_or_default(),
            actual: reply.mti.to_string(),
        });
    }
    for field in [11, 41, 42] {
        echo(request, reply, field)?;
    }
    let code = reply.get_text(39).ok_or(MappingError::BadField {
        field: 39,
        why: "no response code",
    })?;
    let response_code = ResponseCode::new(code).ok_or(MappingError::BadField {
        field: 39,
        why: "not two letters or digits",
    })?;
    let text = |field| {
        reply
            .get_text(field)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    let settlement_balanced = if request.mti.as_str() == "0500" {
        reply
            .get_text(48)
            .and_then(parse_settlement_f48)
            .map(|(_, code)| code == '1')
    } else {
        None
    };
    Ok(HostReply {
        response_code,
        auth_code: text(38),
        rrn: text(37),
        mac_valid: true,
        sign_on_requested: false,
        settlement_balanced,
    })
}

/// The working keys of a sign-on reply's F62, still encrypted under the terminal master key:
/// PIK, MAK and (optionally) TDK, each followed by a 4-byte check value.
#[derive(Clone, PartialEq, Eq)]
pub struct WorkingKeys {
    /// The PIN key, encrypted.
    pub pin_key: Vec<u8>,
    /// The PIN key's check value.
    pub pin_check: [u8; 4],
    /// The MAC key, encrypted.
    pub mac_key: Vec<u8>,
    /// The MAC key's check value.
    pub mac_check: [u8; 4],
    /// The track-data key, encrypted, when sent.
    pub track_key: Option<(Vec<u8>, [u8; 4])>,
}

impl std::fmt::Debug for WorkingKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkingKeys")
            .field("pin_check", &self.pin_check)
            .field("mac_check", &self.mac_check)
            .finish_non_exhaustive()
    }
}

impl WorkingKeys {
    /// Parses F62: 24 bytes (single-length: 8 + 4 each), 40 bytes (double-length: 16 + 4
    /// each) or 60 bytes (double-length with a TDK). `None` for any other layout.
    pub fn parse(f62: &[u8]) -> Option<WorkingKeys> {
        let key_len = match f62.len() {
            24 => 8,
            40 | 60 => 16,
            _ => return None,
        };
        let part = |i: usize| -> Option<(Vec<u8>, [u8; 4])> {
            let start = i * (key_len + 4);
            let key = f62.get(start..start + key_len)?.to_vec();
            let check = f62
                .get(start + key_len..start + key_len + 4)?
                .try_into()
                .ok()?;
            Some((key, check))
        };
        let (pin_key, pin_check) = part(0)?;
        let (mac_key, mac_check) = part(1)?;
        let track_key = if f62.len() == 60 { part(2) } else { None };
        Some(WorkingKeys {
            pin_key,
            pin_check,
            mac_key,
            mac_check,
            track_key,
        })
    }

    /// The F62 bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(&self.pin_key);
        out.extend(self.pin_check);
        out.extend(&self.mac_key);
        out.extend(self.mac_check);
        if let Some((key, check)) = &self.track_key {
            out.extend(key);
            out.extend(check);
        }
        out
    }
}

/// The working keys of a sign-on reply (0810), if its F62 holds them.
pub fn working_keys(reply: &Message) -> Option<WorkingKeys> {
    WorkingKeys::parse(reply.get_binary(62)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use poscore::Timestamp;
    use poscore::ids::{MerchantId, OperatorId, TerminalId};
    use poscore::money::Currency;
    use poscore::txn::ReversalReason;
    use poscore_iso8583::{decode, encode, unionpay_pos};

    fn identity() -> TerminalIdentity {
        TerminalIdentity {
            merchant_id: MerchantId::parse("898310048990001").unwrap(),
            terminal_id: TerminalId::parse("10000001").unwrap(),
            operator_id: OperatorId::parse("01").unwrap(),
        }
    }

    fn cny(minor: u64) -> Money {
        Money::from_minor(minor, Currency::CNY).unwrap()
    }

    fn trace(n: u32) -> TraceNumber {
        TraceNumber::new(n).unwrap()
    }

    fn batch() -> BatchNumber {
        BatchNumber::new(7).unwrap()
    }

    fn original(kind: TxnKind) -> OriginalRef {
        OriginalRef {
            kind,
            trace: trace(12),
            batch: batch(),
            auth_code: Some("A12345".into()),
            rrn: Some("000000000042".into()),
            at: Timestamp::from_civil(2026, 11, 3, 10, 0, 0),
            amount: cny(10_000),
        }
    }

    fn financial_request(kind: TxnKind) -> HostRequest {
        let card = (kind == TxnKind::PreAuth).then(|| {
            CardInput::parse(
                "6222021234567890128",
                "3012",
                Timestamp::from_civil(2026, 11, 26, 0, 0, 0),
            )
            .unwrap()
        });
        let masked = poscore::card::Pan::parse("6222021234567890128")
            .unwrap()
            .masked();
        HostRequest::Financial(FinancialRequest {
            kind,
            trace: trace(13),
            batch: batch(),
            amount: cny(12_345),
            card,
            masked_pan: masked,
            original: (kind != TxnKind::PreAuth).then(|| original(TxnKind::PreAuth)),
            identity: identity(),
        })
    }

    /// Maps, then checks the message survives the codec unchanged.
    fn map(request: &HostRequest) -> Message {
        let m = to_message(request, &WireOptions::default()).unwrap();
        let profile = unionpay_pos();
        assert_eq!(decode(&encode(&m, &profile).unwrap(), &profile).unwrap(), m);
        m
    }

    fn fields(m: &Message) -> Vec<u8> {
        m.fields.keys().copied().collect()
    }

    #[test]
    fn sign_on_0800() {
        let m = map(&HostRequest::SignOn {
            trace: trace(5),
            batch: batch(),
            identity: identity(),
        });
        assert_eq!(m.mti.as_str(), "0800");
        assert_eq!(fields(&m), [11, 41, 42, 60, 63]);
        assert_eq!(m.get_text(11), Some("000005"));
        assert_eq!(m.get_text(41), Some("10000001"));
        assert_eq!(m.get_text(42), Some("898310048990001"));
        assert_eq!(m.get_text(60), Some("00000007003"));
        assert_eq!(m.get_text(63), Some("01 "));
    }

    #[test]
    fn pre_auth_0100() {
        let m = map(&financial_request(TxnKind::PreAuth));
        assert_eq!(m.mti.as_str(), "0100");
        assert_eq!(fields(&m), [2, 3, 4, 11, 14, 22, 25, 41, 42, 49, 60]);
        assert_eq!(m.get_text(2), Some("6222021234567890128"));
        assert_eq!(m.get_text(3), Some("030000"));
        assert_eq!(m.get_text(4), Some("000000012345"));
        assert_eq!(m.get_text(11), Some("000013"));
        assert_eq!(m.get_text(14), Some("3012"));
        assert_eq!(m.get_text(22), Some("012"));
        assert_eq!(m.get_text(25), Some("06"));
        assert_eq!(m.get_text(49), Some("156"));
        assert_eq!(m.get_text(60), Some("10000007"));
    }

    #[test]
    fn a_pre_auth_without_a_card_is_refused() {
        let HostRequest::Financial(mut r) = financial_request(TxnKind::PreAuth) else {
            unreachable!()
        };
        r.card = None;
        let err = to_message(&HostRequest::Financial(r), &WireOptions::default()).unwrap_err();
        assert!(
            matches!(
                err,
                MappingError::Incomplete {
                    what: "pre-auth",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn pre_auth_void_0100() {
        let m = map(&financial_request(TxnKind::PreAuthVoid));
        assert_eq!(m.mti.as_str(), "0100");
        assert_eq!(fields(&m), [3, 4, 11, 22, 25, 37, 38, 41, 42, 49, 60, 61]);
        assert_eq!(m.get_text(3), Some("200000"));
        assert_eq!(m.get_text(25), Some("06"));
        assert_eq!(m.get_text(37), Some("000000000042"));
        assert_eq!(m.get_text(38), Some("A12345"));
        assert_eq!(m.get_text(60), Some("11000007"));
        assert_eq!(m.get_text(61), Some("0000070000121103"));
    }

    #[test]
    fn completion_request_0200() {
        let m = map(&financial_request(TxnKind::CompletionRequest));
        assert_eq!(m.mti.as_str(), "0200");
        assert_eq!(fields(&m), [3, 4, 11, 22, 25, 38, 41, 42, 49, 60, 61]);
        assert_eq!(m.get_text(3), Some("000000"));
        assert_eq!(m.get_text(38), Some("A12345"));
        assert_eq!(m.get_text(60), Some("20000007"));
        assert_eq!(m.get_text(61), Some("0000070000121103"));
    }

    #[test]
    fn completion_void_0200() {
        let m = map(&financial_request(TxnKind::CompletionVoid));
        assert_eq!(m.mti.as_str(), "0200");
        assert_eq!(m.get_text(3), Some("200000"));
        assert_eq!(m.get_text(37), Some("000000000042"));
        assert_eq!(m.get_text(60), Some("21000007"));
        assert_eq!(m.get_text(61), Some("0000070000121103"));
    }

    #[test]
    fn completion_advice_0220() {
        let m = map(&HostRequest::Advice(AdviceRequest {
            trace: trace(14),
            batch: batch(),
            amount: cny(9_000),
            original: original(TxnKind::PreAuth),
            retransmission: false,
            identity: identity(),
        }));
        assert_eq!(m.mti.as_str(), "0220");
        assert_eq!(fields(&m), [3, 4, 11, 22, 25, 38, 41, 42, 49, 60, 61]);
        assert_eq!(m.get_text(3), Some("000000"));
        assert_eq!(m.get_text(4), Some("000000009000"));
        assert_eq!(m.get_text(60), Some("24000007"));
    }

    #[test]
    fn reversal_0400_carries_the_original_and_no_card_data() {
        let m = map(&HostRequest::Reversal(ReversalRequest {
            original_kind: TxnKind::CompletionRequest,
            original_trace: trace(13),
            batch: batch(),
            amount: cny(12_345),
            reason: ReversalReason::NoAnswer,
            original: Some(original(TxnKind::PreAuth)),
            identity: identity(),
        }));
        assert_eq!(m.mti.as_str(), "0400");
        assert_eq!(fields(&m), [3, 4, 11, 22, 25, 38, 39, 41, 42, 49, 60, 61]);
        for forbidden in [2, 35, 36, 52] {
            assert!(!m.has(forbidden), "field {forbidden}");
        }
        assert_eq!(m.get_text(3), Some("000000"));
        assert_eq!(m.get_text(11), Some("000013"));
        assert_eq!(m.get_text(39), Some("98"));
        assert_eq!(m.get_text(60), Some("20000007"));
        assert_eq!(m.get_text(61), Some("0000070000121103"));
    }

    #[test]
    fn settlement_0500_with_f48_totals() {
        let m = map(&HostRequest::Settlement(SettlementRequest {
            trace: trace(99),
            batch: batch(),
            totals: BatchTotals {
                count: 3,
                amount_minor: 45_600,
            },
            identity: identity(),
        }));
        assert_eq!(m.mti.as_str(), "0500");
        assert_eq!(fields(&m), [11, 41, 42, 48, 49, 60, 63]);
        assert_eq!(m.get_text(11), Some("000099"));
        let f48 = m.get_text(48).unwrap();
        assert_eq!(f48.len(), 62);
        assert_eq!(&f48[..31], "0000000456000030000000000000000");
        assert_eq!(
            parse_settlement_f48(f48),
            Some((
                BatchTotals {
                    count: 3,
                    amount_minor: 45_600
                },
                '0'
            ))
        );
        assert_eq!(m.get_text(60), Some("00000007201"));
    }

    #[test]
    fn batch_upload_0320() {
        let record = BatchUploadRecord {
            kind: TxnKind::CompletionAdvice,
            trace: trace(14),
            amount: cny(9_000),
            auth_code: Some("A12345".into()),
            rrn: None,
        };
        let m = batch_upload(&record, batch(), &identity());
        assert_eq!(m.mti.as_str(), "0320");
        assert_eq!(fields(&m), [3, 4, 11, 25, 38, 41, 42, 49, 60]);
        assert_eq!(m.get_text(60), Some("00000007201"));
        let end = batch_upload_end(
            trace(15),
            4,
            batch(),
            &identity(),
            BatchUploadEndCode::default(),
        );
        assert_eq!(end.get_text(48), Some("0004"));
        assert_eq!(end.get_text(60), Some("00000007207"));
        // The other code, for an acquirer that wants it: only F60.3 differs.
        let request = HostRequest::BatchUploadEnd {
            trace: trace(15),
            batch: batch(),
            count: 4,
            identity: identity(),
        };
        let options = WireOptions {
            batch_upload_end_code: BatchUploadEndCode::Code202,
        };
        let other = to_message(&request, &options).unwrap();
        assert_eq!(other.get_text(60), Some("00000007202"));
        assert_eq!(other.get_text(48), end.get_text(48));
        let profile = unionpay_pos();
        for m in [m, end] {
            assert_eq!(decode(&encode(&m, &profile).unwrap(), &profile).unwrap(), m);
        }
    }

    fn reply_to(request: &Message) -> Message {
        let mut r = Message::new(request.mti.response().unwrap());
        for f in [11, 41, 42] {
            r.set_text(f, request.get_text(f).unwrap());
        }
        r.set_text(39, "00")
            .set_text(38, "654321")
            .set_text(37, "000000000077");
        r
    }

    #[test]
    fn a_matching_reply_is_read() {
        let request = map(&financial_request(TxnKind::PreAuth));
        let reply = from_message(&reply_to(&request), &request).unwrap();
        assert_eq!(reply, HostReply::approved("654321", "000000000077"));
    }

    #[test]
    fn late_and_foreign_replies_are_recognized() {
        let request = map(&financial_request(TxnKind::PreAuth));
        let mut wrong_mti = reply_to(&request);
        wrong_mti.mti = Mti::new("0410").unwrap();
        let mut late = reply_to(&request);
        late.set_text(11, "000012");
        let mut foreign = reply_to(&request);
        foreign.set_text(41, "10000002");
        for (reply, field) in [(wrong_mti, 0), (late, 11), (foreign, 41)] {
            let err = from_message(&reply, &request).unwrap_err();
            assert!(err.is_foreign_reply(), "{err}");
            if field != 0 {
                assert!(
                    matches!(err, MappingError::Mismatch { field: f, .. } if f == field),
                    "{err}"
                );
            }
        }
        let mut no_code = reply_to(&request);
        no_code.remove(39);
        assert_eq!(
            from_message(&no_code, &request).unwrap_err(),
            MappingError::BadField {
                field: 39,
                why: "no response code"
            }
        );
    }

    #[test]
    fn settlement_reply_reports_balance() {
        let request = map(&HostRequest::Settlement(SettlementRequest {
            trace: trace(99),
            batch: batch(),
            totals: BatchTotals {
                count: 1,
                amount_minor: 100,
            },
            identity: identity(),
        }));
        for (code, balanced) in [('1', Some(true)), ('2', Some(false)), ('3', Some(false))] {
            let mut reply = reply_to(&request);
            reply.set_numeric(
                48,
                &settlement_f48(
                    &BatchTotals {
                        count: 1,
                        amount_minor: 100,
                    },
                    code,
                ),
            );
            assert_eq!(
                from_message(&reply, &request).unwrap().settlement_balanced,
                balanced
            );
        }
    }

    #[test]
    fn working_keys_from_f62() {
        let f62: Vec<u8> = (0u8..40).collect();
        let keys = WorkingKeys::parse(&f62).unwrap();
        assert_eq!(keys.pin_key, (0u8..16).collect::<Vec<_>>());
        assert_eq!(keys.pin_check, [16, 17, 18, 19]);
        assert_eq!(keys.mac_key, (20u8..36).collect::<Vec<_>>());
        assert_eq!(keys.mac_check, [36, 37, 38, 39]);
        assert_eq!(keys.to_bytes(), f62);
        assert!(WorkingKeys::parse(&f62[..39]).is_none());
        let mut reply = Message::new(Mti::new("0810").unwrap());
        reply.set_binary(62, &f62);
        assert_eq!(working_keys(&reply), Some(keys));
    }
}
