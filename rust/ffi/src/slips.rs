//! Slips drawn for the screen: a preview PNG of any slip, the electronic receipt (the slip
//! with its verification QR code), and the cardholder's signature from the pad's strokes.
//!
//! Everything is rendered from the journal, as the engine renders what it prints
//! (`poscore::slip::slip_document`), and drawn with `poscore::slip::slip_png` (poscore's
//! `render` feature: GNU Unifont glyphs).

use poscore::Bilingual;
use poscore::ids::TraceNumber;
use poscore::journal::Journal;
use poscore::signature::Signature;
use poscore::slip::{SlipConfig, SlipInput, slip_document, slip_png};
use poscore::txn::{PrintJobState, PrintKind, SlipCopy};
use poscore::{JournalError, TxnRecord};

use crate::error::PosError;
use crate::records::Stroke;

/// What a slip is drawn from, read from the journal.
pub(crate) struct SlipSource {
    /// The transaction.
    pub txn: TxnRecord,
    /// The transaction it refers to (for the remarks).
    pub original: Option<TxnRecord>,
    /// Its stored signature, if one reads.
    pub signature: Option<Signature>,
}

impl SlipSource {
    /// Reads the transaction with this trace, its original (the newest transaction with the
    /// original's trace) and its stored signature; `None` when there is no such transaction.
    pub fn read(journal: &Journal, trace: TraceNumber) -> Result<Option<SlipSource>, JournalError> {
        let Some(txn) = journal.find_by_trace(trace)? else {
            return Ok(None);
        };
        let original = match txn.original_trace {
            Some(original) => journal.find_by_trace(original)?,
            None => None,
        };
        let signature = journal.signature(txn.id)?;
        Ok(Some(SlipSource {
            txn,
            original,
            signature,
        }))
    }

    /// The copy asked for: `None` is the merchant copy.
    pub fn copy(copy: Option<&str>) -> Result<SlipCopy, PosError> {
        match copy {
            None => Ok(SlipCopy::Merchant),
            Some(text) => SlipCopy::from_text(text).ok_or_else(|| PosError::InvalidInput {
                code: "SLIP_COPY".into(),
                message_zh: format!("未知的存根联 {text}：应为 merchant、cardholder 或 bank"),
                message_en: format!("unknown slip copy {text:?}: use merchant, cardholder or bank"),
            }),
        }
    }

    /// The slip of `copy` as it would print now: marked REPRINT when that copy was already
    /// printed or delivered (any new print of it is a reprint).
    pub fn document(&self, copy: SlipCopy, config: &SlipConfig) -> poscore_escpos::Document {
        let done = self.txn.print_jobs.iter().any(|j| {
            j.copy == copy && matches!(j.state, PrintJobState::Printed | PrintJobState::Delivered)
        });
        let kind = if done {
            PrintKind::Reprint
        } else {
            PrintKind::Original
        };
        let input = SlipInput {
            txn: &self.txn,
            original: self.original.as_ref(),
            copy,
            kind,
            training: self.txn.training,
            signature: self.signature.as_ref(),
        };
        slip_document(&input, config)
    }

    /// Whether `copy` was delivered electronically.
    pub fn delivered_electronically(&self, copy: SlipCopy) -> bool {
        self.txn.print_jobs.iter().any(|j| {
            j.copy == copy
                && (j.state == PrintJobState::Delivered
                    || j.delivered == Some(poscore::txn::Delivery::Electronic))
        })
    }
}

/// A document drawn as a PNG on the configured paper.
pub(crate) fn png(
    document: &poscore_escpos::Document,
    config: &SlipConfig,
) -> Result<Vec<u8>, PosError> {
    slip_png(document, config.paper)
        .map_err(|e| PosError::internal(&format!("the slip cannot be drawn: {e}")))
}

/// The signature of a pad `width` × `height` pixels from its strokes, checked. Points a
/// finger dragged off the pad are clamped to its edge; empty strokes are dropped.
pub(crate) fn signature(
    strokes: &[Stroke],
    width: i32,
    height: i32,
) -> Result<Signature, PosError> {
    let side = |v: i32| u16::try_from(v).ok().filter(|&v| v > 0);
    let (Some(w), Some(h)) = (side(width), side(height)) else {
        let error = poscore::signature::SignatureError::ZeroSize {
            width: width.max(0) as u32,
            height: height.max(0) as u32,
        };
        return Err(PosError::invalid(&error));
    };
    let clamp = |v: i32, max: u16| v.clamp(0, i32::from(max) - 1) as u16;
    let strokes: Vec<Vec<(u16, u16)>> = strokes
        .iter()
        .filter(|s| !s.points.is_empty())
        .map(|s| {
            s.points
                .iter()
                .map(|p| (clamp(p.x, w), clamp(p.y, h)))
                .collect()
        })
        .collect();
    let signature = Signature::Strokes {
        width: w,
        height: h,
        strokes,
    };
    signature
        .validate()
        .map_err(|e| PosError::invalid(&e as &dyn Bilingual))?;
    Ok(signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Point;

    #[test]
    fn strokes_become_a_checked_signature() {
        let strokes = vec![
            Stroke {
                points: vec![
                    Point { x: 10, y: 10 },
                    Point { x: 200, y: 90 },
                    Point { x: 420, y: -5 },
                ],
            },
            Stroke { points: vec![] },
        ];
        let Signature::Strokes {
            width,
            height,
            strokes: kept,
        } = signature(&strokes, 400, 100).unwrap()
        else {
            panic!("strokes")
        };
        assert_eq!((width, height), (400, 100));
        assert_eq!(
            kept,
            vec![vec![(10, 10), (200, 90), (399, 0)]],
            "clamped to the pad, the empty stroke dropped"
        );
        let empty = signature(&[Stroke { points: vec![] }], 400, 100).unwrap_err();
        assert_eq!(empty.code(), "SIGNATURE_EMPTY");
        assert_eq!(
            signature(&strokes, 0, 100).unwrap_err().code(),
            "SIGNATURE_ZERO_SIZE"
        );
        assert_eq!(
            signature(&strokes, 70_000, 100).unwrap_err().code(),
            "SIGNATURE_ZERO_SIZE"
        );
    }

    #[test]
    fn copies_are_named() {
        assert_eq!(SlipSource::copy(None).unwrap(), SlipCopy::Merchant);
        assert_eq!(
            SlipSource::copy(Some("cardholder")).unwrap(),
            SlipCopy::Cardholder
        );
        assert_eq!(
            SlipSource::copy(Some("customer")).unwrap_err().code(),
            "SLIP_COPY"
        );
    }
}
