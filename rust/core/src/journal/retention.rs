//! Retention of card data (PCI DSS 3.2.1): at each settlement, card data of settled
//! transactions older than [`crate::Config::retention_days`] is purged.
//!
//! What a purge does to a transaction:
//! - the keyed PAN hash (`pan_hash`) is cleared, and so is its copy inside the idempotency
//!   fingerprint of a pre-auth (replaced by `purged`; a request id repeated after the purge
//!   is refused as a conflict, never authorized again);
//! - the masked PAN keeps only its last 4 digits, the rest `*`, at the same length
//!   (`622202*********0128` → `***************0128`): the merchant can still match a
//!   dispute to a card by its last 4, amount, date, trace, auth code and RRN, which are all
//!   kept;
//! - the electronic signature is deleted.
//!
//! Every purged transaction gets a `card_data` → `purged` row in the append-only event log,
//! and each purge that did anything one `retention` row.
//!
//! Never touched: transactions not settled; those whose outcome is not final (`queued`,
//! `sending`, `unknown`); those with a reversal not finished (`armed`, `pending`, `failed`)
//! or an advice not delivered; and an approved pre-auth that can still be completed (younger
//! than `preauth_valid_days`). The purge is idempotent: a purged transaction is not selected
//! again.
//!
//! The purge reads the settled rows older than the limit once per settlement (a scan of the
//! transactions table, there is no index on `created_at`); it runs inside the settlement's
//! journal transaction, so the batch closes and the purge happens together or not at all.

use rusqlite::params;

use super::Tx;
use crate::error::JournalError;

/// What one purge did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PurgeReport {
    /// Transactions whose card data was purged.
    pub transactions: u32,
    /// Signatures deleted.
    pub signatures: u32,
}

/// The transactions a purge may touch: settled, final, older than `?1`, nothing pending on
/// them, an approved pre-auth only once it can no longer be completed (older than `?2`),
/// and not purged yet.
const CANDIDATES: &str = "\
SELECT t.id, t.masked_pan, t.pan_hash, t.fingerprint, \
       EXISTS (SELECT 1 FROM signatures s WHERE s.txn_id = t.id) \
FROM transactions t \
WHERE t.settled = 1 \
  AND t.created_at < ?1 \
  AND t.state NOT IN ('queued', 'sending', 'unknown') \
  AND NOT (t.kind = 'preauth' AND t.state = 'approved' AND t.created_at >= ?2) \
  AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.txn_id = t.id \
                  AND r.state NOT IN ('done', 'disarmed', 'cancelled')) \
  AND NOT EXISTS (SELECT 1 FROM advices a WHERE a.txn_id = t.id AND a.state <> 'done') \
  AND (t.pan_hash <> '' OR substr(t.masked_pan, 1, 1) <> '*' \
       OR EXISTS (SELECT 1 FROM signatures s WHERE s.txn_id = t.id)) \
ORDER BY t.id";

/// The masked PAN cut to its last 4 digits, the rest `*`, at the same length.
pub fn last_four_only(masked: &str) -> String {
    let chars: Vec<char> = masked.chars().collect();
    let keep = chars.len().min(4);
    let mut out = "*".repeat(chars.len() - keep);
    out.extend(&chars[chars.len() - keep..]);
    out
}

/// Purges the card data of settled transactions created more than `retention_days` days
/// before the transaction's time (see the module's documentation for what is kept).
pub(crate) fn purge_expired(
    tx: &Tx<'_>,
    retention_days: u32,
    preauth_valid_days: u32,
) -> Result<PurgeReport, JournalError> {
    let cutoff = tx.at().plus_days(-i64::from(retention_days)).as_millis();
    let completable_since = tx
        .at()
        .plus_days(-i64::from(preauth_valid_days))
        .as_millis();
    type Row = (i64, String, String, String, bool);
    let candidates: Vec<Row> = tx
        .conn()
        .prepare_cached(CANDIDATES)
        .and_then(|mut s| {
            s.query_map(params![cutoff, completable_since], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect()
        })
        .map_err(JournalError::sqlite("finding card data past retention"))?;
    let mut report = PurgeReport::default();
    for (id, masked, hash, fingerprint, signed) in candidates {
        let fingerprint = if hash.is_empty() {
            fingerprint
        } else {
            fingerprint.replace(&hash, "purged")
        };
        tx.exec(
            "purging card data",
            "UPDATE transactions SET masked_pan = ?2, pan_hash = '', fingerprint = ?3 WHERE id = ?1",
            params![id, last_four_only(&masked), fingerprint],
        )?;
        if signed {
            tx.exec(
                "purging a signature",
                "DELETE FROM signatures WHERE txn_id = ?1",
                params![id],
            )?;
            report.signatures += 1;
        }
        tx.log(
            Some(id),
            "card_data",
            None,
            "purged",
            &format!(
                "retention: settled and older than {retention_days} days; PAN hash cleared, \
                 masked PAN cut to the last 4 digits{}",
                if signed { ", signature deleted" } else { "" }
            ),
        )?;
        report.transactions += 1;
    }
    if report.transactions > 0 {
        tx.log(
            None,
            "retention",
            None,
            "purged",
            &format!(
                "card data of {} settled transactions older than {retention_days} days purged \
                 ({} signatures deleted)",
                report.transactions, report.signatures
            ),
        )?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::last_four_only;

    #[test]
    fn keeps_the_last_four_at_the_same_length() {
        assert_eq!(last_four_only("622202*********0128"), "***************0128");
        assert_eq!(last_four_only("411111******1111"), "************1111");
        assert_eq!(last_four_only("***************0128"), "***************0128");
        assert_eq!(last_four_only("12"), "12");
    }
}
