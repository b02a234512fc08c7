//! The fault taxonomy lives in the engine (`poscore::print::Condition`), because the
//! engine decides from it whether a job is retried or held; it is re-exported here, where
//! the driver maps ESC/POS status bits and vendor codes onto it.

pub use poscore::print::Condition;
