//! `poscore e-receipt TRACE --out FILE [--copy C]`: the electronic receipt of one slip copy.
//!
//! A copy still waiting for the printer (queued or held) is delivered electronically
//! (`Command::DeliverElectronically`: the journal records it as delivered, and a paper copy
//! marked REPRINT is queued for when the printer works). A copy already printed is not
//! changed: its receipt is just produced, marked REPRINT since the paper original exists.
//! Either way the slip is rendered from the journal with its verification QR code, written
//! as a PNG, and the verification payload is printed.
//!
//! The payload's MAC key is derived from the journal's key file (`<db>.key`, the PAN-hash
//! key): `HMAC-SHA-256(key file bytes, "poscore e-receipt key v1")`, so the PAN-hash key
//! itself is never used for a second purpose. See [`receipt_key`].

use std::path::Path;

use hmac::{Hmac, Mac};
use poscore::ereceipt::{payload, with_verification_code};
use poscore::slip::{SlipConfig, SlipInput, SlipLanguage, slip_document, slip_png};
use poscore::txn::{Delivery, PrintJobState, PrintKind, SlipCopy};
use poscore::{Command, Lang, TxnRecord};
use poscore_terminal::TerminalError;
use sha2::Sha256;

use crate::Failure;
use crate::commands::{finish, parse_trace, report_waiting, request_id_or_fresh};
use crate::progress::{Progress, copy_name};
use crate::session::{self, LinkOptions, describe};

/// What the receipt key is derived with.
pub const RECEIPT_KEY_LABEL: &[u8] = b"poscore e-receipt key v1";

/// The e-receipt MAC key of a journal: HMAC-SHA-256 keyed with the key file's bytes over
/// [`RECEIPT_KEY_LABEL`].
pub fn receipt_key(key_file_bytes: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key_file_bytes) else {
        return Vec::new();
    };
    mac.update(RECEIPT_KEY_LABEL);
    mac.finalize().into_bytes().to_vec()
}

/// The copy to deliver: the one asked for, else the first copy still waiting, else the
/// cardholder copy, else the first.
fn pick_copy(record: &TxnRecord, asked: Option<SlipCopy>) -> Option<SlipCopy> {
    asked
        .or_else(|| {
            record
                .print_jobs
                .iter()
                .find(|j| waiting(j.state))
                .map(|j| j.copy)
        })
        .or_else(|| {
            record
                .print_jobs
                .iter()
                .find(|j| j.copy == SlipCopy::Cardholder)
                .map(|j| j.copy)
        })
        .or_else(|| record.print_jobs.first().map(|j| j.copy))
}

fn waiting(state: PrintJobState) -> bool {
    matches!(state, PrintJobState::Queued | PrintJobState::Held)
}

fn say(lang: Lang, zh: String, en: String) -> String {
    if lang == Lang::Zh { zh } else { en }
}

/// Runs the command (see the module documentation). Exit 2 for an unknown trace, 1 when the
/// transaction has no such slip copy.
pub async fn run(
    db: &Path,
    links: &LinkOptions,
    lang: Lang,
    trace: &str,
    out: &Path,
    asked: Option<SlipCopy>,
) -> Result<(), Failure> {
    let trace = parse_trace(trace, lang)?;
    let session = session::start(db, links, lang)?;
    let config = session.config.clone();
    let handle = session.terminal.handle();
    let progress = Progress::start(handle.events(), lang);

    let chosen = async {
        let record = handle
            .read(move |journal| journal.find_by_trace(trace))
            .await
            .map_err(|e| Failure::journal(&e))?
            .map_err(|e| Failure::journal(&e))?;
        let Some(record) = record else {
            return Err(Failure {
                exit_code: 2,
                message: describe(&poscore::CommandError::OriginalNotFound { trace }, lang),
            });
        };
        let Some(copy) = pick_copy(&record, asked) else {
            return Err(Failure {
                exit_code: 1,
                message: say(
                    lang,
                    format!("凭证号 {trace} 没有签购单（交易未成功）"),
                    format!("trace {trace} has no slip (it was not approved)"),
                ),
            });
        };
        let jobs: Vec<_> = record
            .print_jobs
            .iter()
            .filter(|j| j.copy == copy)
            .collect();
        if jobs.is_empty() {
            return Err(Failure {
                exit_code: 1,
                message: say(
                    lang,
                    format!("凭证号 {trace} 没有{}", copy_name(copy, lang)),
                    format!("trace {trace} has no {copy} copy"),
                ),
            });
        }
        let delivered_now = jobs.iter().any(|j| waiting(j.state));
        if delivered_now {
            let request_id = request_id_or_fresh(None, "e-receipt", lang)?;
            match handle
                .submit(
                    request_id,
                    Command::DeliverElectronically {
                        trace,
                        copy: Some(copy),
                    },
                )
                .await
            {
                Ok(_) => {}
                Err(TerminalError::Refused(e)) => return Err(Failure::refused(&e, lang)),
                Err(e) => return Err(Failure::journal(&e)),
            }
        }
        Ok((copy, delivered_now))
    }
    .await;
    let finished = finish(session, &handle).await;
    progress.stop().await;
    let health = finished?;
    let (copy, delivered_now) = chosen?;
    report_waiting(&health, lang);

    // Render from the journal as it is now.
    let (engine, _) = session::open_engine_with(db, config.clone())?;
    let journal = engine.journal();
    let record = journal
        .find_by_trace(trace)
        .map_err(|e| Failure::journal(&e))?
        .ok_or_else(|| Failure {
            exit_code: 3,
            message: format!("trace {trace} vanished from the journal"),
        })?;
    let original = match record.original_trace {
        Some(original) => journal
            .find_by_trace(original)
            .map_err(|e| Failure::journal(&e))?,
        None => None,
    };
    let on_paper = record
        .print_jobs
        .iter()
        .any(|j| j.copy == copy && j.state == PrintJobState::Printed);
    // The first rendition of a copy never printed is the original; anything else is a copy
    // of a slip that exists, so it says REPRINT.
    let kind = if delivered_now && !on_paper {
        PrintKind::Original
    } else {
        PrintKind::Reprint
    };
    let key = receipt_key(&session::load_or_create_key_bytes(db)?);
    let terminal_id = config.identity.terminal_id.to_string();
    let code = payload(&record, copy, &terminal_id, &key);
    let slip_config = SlipConfig::from_config(&config);
    let signature = journal
        .signature(record.id)
        .map_err(|e| Failure::journal(&e))?;
    let document = slip_document(
        &SlipInput {
            txn: &record,
            original: original.as_ref(),
            copy,
            kind,
            training: record.training,
            signature: signature.as_ref(),
        },
        &slip_config,
    );
    let document = with_verification_code(document, &code, SlipLanguage::Bilingual);
    let png = slip_png(&document, config.printing.paper)
        .map_err(|e| Failure::io(format!("drawing the receipt: {e}")))?;
    std::fs::write(out, &png)
        .map_err(|e| Failure::io(format!("writing {}: {e}", out.display())))?;

    let jobs: Vec<_> = record
        .print_jobs
        .iter()
        .filter(|j| j.copy == copy)
        .collect();
    let delivery = jobs
        .iter()
        .find_map(|j| j.delivered)
        .map(|d| match d {
            Delivery::Paper => "paper",
            Delivery::Electronic => "electronic",
        })
        .unwrap_or("none");
    println!(
        "{}",
        say(
            lang,
            format!(
                "电子签购单：凭证号 {trace} {}，图片 {}",
                copy_name(copy, lang),
                out.display()
            ),
            format!(
                "e-receipt: {copy} copy of trace {trace}, PNG {}",
                out.display()
            ),
        )
    );
    println!("payload: {code}");
    println!(
        "{}",
        say(
            lang,
            "验证密钥：HMAC-SHA-256(交易日志密钥文件, \"poscore e-receipt key v1\")".to_string(),
            "key: HMAC-SHA-256(the journal's key file, \"poscore e-receipt key v1\")".to_string(),
        )
    );
    println!("delivery: {delivery}");
    for job in jobs {
        println!(
            "  #{} {} {}{}",
            job.id,
            job.kind,
            job.state,
            job.delivered
                .map(|d| format!(" ({})", d.as_str()))
                .unwrap_or_default()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_receipt_key_is_derived_not_the_pan_key() {
        let key = receipt_key(&[7; 32]);
        assert_eq!(key.len(), 32);
        assert_ne!(key, vec![7; 32]);
        assert_eq!(
            key,
            receipt_key(&[7; 32]),
            "the same journal gives the same key"
        );
        assert_ne!(key, receipt_key(&[8; 32]));
    }
}
