//! Transaction kinds and the explicit states of transactions, reversals, advices and print
//! jobs, with the text each is stored and exported as.

use serde::Serialize;

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text stored in the journal and written in exports.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Reads the stored text back.
            pub fn from_text(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// What a transaction is (UnionPay pre-authorization family, reference/payments.md §1).
    TxnKind {
        /// 预授权: places a hold on the cardholder's funds (0100, 60.1 = 10).
        PreAuth => "preauth",
        /// 预授权撤销: releases a pre-auth's hold (0100, 60.1 = 11).
        PreAuthVoid => "preauth_void",
        /// 预授权完成请求: online completion, moves the money (0200, 60.1 = 20).
        CompletionRequest => "completion",
        /// 预授权完成通知: offline completion, store-and-forward, never reversed (0220, 60.1 = 24).
        CompletionAdvice => "completion_advice",
        /// 预授权完成撤销: undoes an unsettled completion (0200, 60.1 = 21).
        CompletionVoid => "completion_void",
    }
);

impl TxnKind {
    /// The Chinese name printed on slips and screens.
    pub fn zh_name(self) -> &'static str {
        match self {
            TxnKind::PreAuth => "预授权",
            TxnKind::PreAuthVoid => "预授权撤销",
            TxnKind::CompletionRequest => "预授权完成",
            TxnKind::CompletionAdvice => "预授权完成(离线)",
            TxnKind::CompletionVoid => "预授权完成撤销",
        }
    }

    /// The English name printed on slips and screens.
    pub fn en_name(self) -> &'static str {
        match self {
            TxnKind::PreAuth => "PRE-AUTH",
            TxnKind::PreAuthVoid => "PRE-AUTH VOID",
            TxnKind::CompletionRequest => "AUTH COMPLETE",
            TxnKind::CompletionAdvice => "AUTH COMPLETE (OFFLINE)",
            TxnKind::CompletionVoid => "AUTH COMPLETE VOID",
        }
    }

    /// Whether this kind refers to an original transaction (everything but a pre-auth).
    pub fn has_original(self) -> bool {
        self != TxnKind::PreAuth
    }

    /// Whether a lost answer to this kind is reversed. Offline advices never are.
    pub fn is_reversible(self) -> bool {
        self != TxnKind::CompletionAdvice
    }
}

text_enum!(
    /// Where a transaction is. Final states: `declined`, `not_sent`, `reversed`, `voided`,
    /// `completed` (and `approved` for anything not voided or completed later).
    TxnState {
        /// Journaled and waiting for the link (behind a reversal or sign-on). Not sent.
        Queued => "queued",
        /// Journaled with an armed reversal and handed to the link: it may have been sent.
        Sending => "sending",
        /// The host approved it (or, for an offline advice, the terminal approved it).
        Approved => "approved",
        /// The host declined it.
        Declined => "declined",
        /// Nothing was sent (the link failed before sending, or the terminal restarted
        /// before sending). No money moved.
        NotSent => "not_sent",
        /// The answer was lost or untrusted: the outcome is uncertain and a reversal is due.
        Unknown => "unknown",
        /// The uncertain transaction was reversed: no money moved.
        Reversed => "reversed",
        /// An approved pre-auth or completion that a later approved void cancelled.
        Voided => "voided",
        /// An approved pre-auth that an approved completion finished.
        Completed => "completed",
    }
);

text_enum!(
    /// Where a transaction's reversal (冲正) is.
    ReversalState {
        /// Written before the request left; not needed unless the answer is lost.
        Armed => "armed",
        /// Due: goes out before the next financial message or settlement.
        Pending => "pending",
        /// The host confirmed the reversal (reply 00, 12 or 25).
        Done => "done",
        /// Retries ran out. Kept for the operator, who can retry it; never deleted.
        Failed => "failed",
        /// Not needed: an answer (approval or decline) arrived.
        Disarmed => "disarmed",
        /// Not needed: nothing was sent.
        Cancelled => "cancelled",
    }
);

impl ReversalState {
    /// Whether the reversal still has work to do or needs the operator.
    pub fn is_open(self) -> bool {
        matches!(self, ReversalState::Pending | ReversalState::Failed)
    }
}

text_enum!(
    /// Why a reversal is sent (ISO 8583 field 39 of the 0400).
    ReversalReason {
        /// 98: no answer in time.
        NoAnswer => "98",
        /// 06: an answer came but the terminal could not finish.
        TerminalError => "06",
        /// A0: the answer's MAC was wrong; a sign-on is forced too.
        BadMac => "A0",
        /// 96: the host approved but the card refused afterwards.
        CardRefused => "96",
    }
);

text_enum!(
    /// Where a completion advice (0220, store-and-forward) is.
    AdviceState {
        /// Waiting to be sent (after the next online transaction, or before settlement).
        Queued => "queued",
        /// Handed to the link.
        Sending => "sending",
        /// The host acknowledged it.
        Done => "done",
    }
);

text_enum!(
    /// Which copy of a slip (联).
    SlipCopy {
        /// 商户存根, the merchant's copy.
        Merchant => "merchant",
        /// 持卡人存根, the cardholder's copy.
        Cardholder => "cardholder",
        /// 银行存根, the bank's copy (third copy).
        Bank => "bank",
    }
);

impl SlipCopy {
    /// The copies printed for a given copy count (1–3): merchant, then cardholder, then bank.
    pub fn for_count(count: u8) -> &'static [SlipCopy] {
        match count {
            0 | 1 => &[SlipCopy::Merchant],
            2 => &[SlipCopy::Merchant, SlipCopy::Cardholder],
            _ => &[SlipCopy::Merchant, SlipCopy::Cardholder, SlipCopy::Bank],
        }
    }
}

text_enum!(
    /// Whether a slip is the original or a reprint (marked 重打印 / REPRINT).
    PrintKind {
        /// The first print of a copy.
        Original => "original",
        /// Printed again on request.
        Reprint => "reprint",
    }
);

text_enum!(
    /// Where a print job is.
    PrintJobState {
        /// Waiting for the printer (or for its retry time after a failure).
        Queued => "queued",
        /// Handed to the printer, not yet confirmed.
        Sending => "sending",
        /// The printer confirmed it.
        Printed => "printed",
        /// Waiting for the operator (paper out, cover open, tear the paper off); it resumes by
        /// itself when the printer reports it is ready again.
        Held => "held",
        /// Delivered as an electronic receipt instead of paper.
        Delivered => "delivered",
    }
);

text_enum!(
    /// How a slip copy reached the cardholder or merchant.
    Delivery {
        /// Printed on paper, confirmed by the printer.
        Paper => "paper",
        /// An electronic receipt (a PNG and a verification QR code on screen).
        Electronic => "electronic",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_round_trip() {
        for k in TxnKind::ALL {
            assert_eq!(TxnKind::from_text(k.as_str()), Some(*k));
        }
        for s in TxnState::ALL {
            assert_eq!(TxnState::from_text(s.as_str()), Some(*s));
        }
        for s in ReversalState::ALL {
            assert_eq!(ReversalState::from_text(s.as_str()), Some(*s));
        }
        assert_eq!(TxnState::from_text("bogus"), None);
        assert_eq!(
            SlipCopy::for_count(2),
            &[SlipCopy::Merchant, SlipCopy::Cardholder]
        );
        assert_eq!(SlipCopy::for_count(3).len(), 3);
    }
}
