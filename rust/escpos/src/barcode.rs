//! TODO(helper): barcode
