//! The real host link: the engine's host requests as UnionPay-style ISO 8583 messages over
//! TCP ([`TcpHostLink`]), and a host simulator speaking the same framing ([`HostSim`]).
//!
//! - [`mapping`]: [`poscore::host::HostRequest`] ↔ [`poscore_iso8583::Message`], field by field.
//! - [`keys`]: the [`MacKey`] trait and a software key; working-key decryption.
//! - [`link`]: [`TcpHostLink`], a [`poscore_terminal::HostLink`].
//! - [`sim`]: [`HostSim`], with fault switches settable at runtime, from a script or a control
//!   port.
//! - [`script`]: the simulator's fault script (`mti 0100 #2 drop`, …).
//! - [`tls`]: [`TlsSettings`] for the link; with the feature `tls`, TLS (rustls, ring) for the
//!   link and [`HostSim::serve_tls`].

#![warn(missing_docs)]

pub mod keys;
pub mod link;
pub mod mapping;
pub mod script;
pub mod sim;
pub mod tls;

pub use keys::{KeyError, MacKey, SoftwareMacKey};
pub use link::{LinkConfig, TcpHostLink};
pub use mapping::{
    BatchUploadEndCode, MappingError, WireOptions, WorkingKeys, from_message, to_message,
};
pub use script::{Action, Script, ScriptError, ScriptErrorKind};
pub use sim::{HostSim, SimConfig, control_reply};
pub use tls::{TlsRoots, TlsSettings};
