//! ISO 8583 without I/O, for UnionPay-style POS hosts (being written: codec, profile,
//! framing, MAC).
