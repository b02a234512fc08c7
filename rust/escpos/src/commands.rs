//! TODO(helper): commands
