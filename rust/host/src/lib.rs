//! The real host link (being written).
