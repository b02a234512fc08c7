//! TODO(helper): qr
