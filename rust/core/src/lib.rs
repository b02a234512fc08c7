//! # poscore — the engine of a pre-authorization terminal
//!
//! This crate is the sans-IO centre of poscore. It holds:
//!
//! - the **domain**: [`money`] (integer minor units, strict parsing), [`card`] (PAN with
//!   Luhn check, masked BIN + last 4, keyed hash; card data in memory only), [`ids`]
//!   (trace and batch numbers, merchant/terminal/operator ids, request ids), [`txn`]
//!   (kinds and explicit states), [`host`] (host messages as domain values);
//! - the **engine** ([`Engine`]): `handle(time, input) -> outputs`, deterministic, with no
//!   sockets, threads or clock;
//! - the **journal** ([`journal`]): a SQLite write-ahead journal (WAL, `synchronous=FULL`,
//!   versioned schema) that is the terminal's whole state, with recovery on open.
//!
//! ## The promise it keeps
//! 1. No approved transaction is lost: the approval is committed before anything else.
//! 3. An uncertain outcome is never left hanging: a lost answer becomes `unknown` with a
//!    pending reversal, sent before the next financial message; a reversal that keeps
//!    failing is kept as `failed`, never deleted.
//! 4. One request, one transaction: request ids are idempotent; trace numbers are durable
//!    before they are sent.
//! 6. No sensitive card data at rest: the journal keeps the masked PAN and a keyed hash only.
//!
//! ## A first use
//! ```
//! use poscore::{Command, Config, Engine, Input, Output, Ticket, Timestamp};
//! use poscore::card::{CardInput, PanHashKey};
//! use poscore::host::HostReply;
//! use poscore::ids::RequestId;
//! use poscore::money::{Currency, Money};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let now = Timestamp::from_civil(2026, 11, 26, 9, 0, 0);
//! let key = PanHashKey::new(vec![7; 32]).unwrap();
//! let (mut engine, _) = Engine::open(&dir.path().join("journal.db"), Config::default(), key, now).unwrap();
//!
//! let card = CardInput::parse("6222021234567890128", "3012", now).unwrap();
//! let amount = Money::parse("100.00", Currency::CNY).unwrap();
//! let command = Command::PreAuth { amount, card };
//! let mut outputs = engine
//!     .handle(now, Input::Command { ticket: Ticket(1), request_id: RequestId::parse("r1").unwrap(), command })
//!     .unwrap();
//! // A fresh terminal signs on first; answer every request with an approval.
//! while let Some(Output::Send { exchange, .. }) = outputs.iter().find(|o| matches!(o, Output::Send { .. })).map(|o| match o {
//!     Output::Send { exchange, request } => Output::Send { exchange: *exchange, request: request.clone() },
//!     _ => unreachable!(),
//! }) {
//!     outputs = engine.handle(now, Input::HostReply { exchange, reply: HostReply::approved("123456", "000000000001") }).unwrap();
//! }
//! let txn = engine.journal().find_by_request_id(&RequestId::parse("r1").unwrap()).unwrap().unwrap();
//! assert_eq!(txn.state, poscore::txn::TxnState::Approved);
//! assert_eq!(txn.masked_pan.as_str(), "622202*********0128");
//! ```

pub mod card;
pub mod config;
mod engine;
pub mod ereceipt;
pub mod error;
pub mod host;
pub mod ids;
pub mod journal;
pub mod lang;
pub mod money;
pub mod print;
pub mod record;
pub mod runbook;
pub mod signature;
pub mod slip;
pub mod time;
pub mod txn;

pub use config::{Config, FeeChannel, FeeRate};
pub use engine::{
    Command, CommandDone, CommandOutcome, Engine, Event, Input, OpenError, Output, PrintJob,
    ReportJob, SettlementSummary, Ticket,
};
pub use error::{CommandError, JournalError};
pub use lang::{Bilingual, Lang};
pub use record::TxnRecord;
pub use time::Timestamp;
