//! Field specifications and profiles: the table that says, for every field number, what the
//! field holds and how it is written on the wire. The codec ([`crate::encode`],
//! [`crate::decode`]) is driven entirely by this table.

/// What a field holds, which decides the characters it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `n`: decimal digits only.
    Numeric,
    /// `a`: ASCII letters and space.
    Alpha,
    /// `an`: ASCII letters, digits and space.
    AlphaNum,
    /// `ans`: any printable ASCII character (0x20..=0x7E).
    AlphaNumSpecial,
    /// `b`: raw bytes.
    Binary,
    /// `z`: track data, digits and the separator `=` (written as the nibble `D` in BCD).
    Track,
}

impl Kind {
    /// Whether `c` is allowed in a field of this kind (binary fields accept any byte and are not
    /// checked here).
    pub fn allows(self, c: u8) -> bool {
        match self {
            Kind::Numeric => c.is_ascii_digit(),
            Kind::Alpha => c.is_ascii_alphabetic() || c == b' ',
            Kind::AlphaNum => c.is_ascii_alphanumeric() || c == b' ',
            Kind::AlphaNumSpecial => (0x20..=0x7E).contains(&c),
            Kind::Binary => true,
            Kind::Track => c.is_ascii_digit() || c == b'=',
        }
    }

    /// The ISO 8583 abbreviation (`n`, `a`, `an`, `ans`, `b`, `z`), for error messages.
    pub fn abbreviation(self) -> &'static str {
        match self {
            Kind::Numeric => "n",
            Kind::Alpha => "a",
            Kind::AlphaNum => "an",
            Kind::AlphaNumSpecial => "ans",
            Kind::Binary => "b",
            Kind::Track => "z",
        }
    }
}

/// How long a field is. The unit is the unit of the content: digits for BCD content,
/// characters for ASCII content, bytes for binary content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// Always exactly this many units; no length prefix.
    Fixed(usize),
    /// A 2-digit length prefix, then at most this many units.
    LlVar(usize),
    /// A 3-digit length prefix, then at most this many units.
    LllVar(usize),
}

impl Length {
    /// The largest number of units the field may hold.
    pub fn max(self) -> usize {
        match self {
            Length::Fixed(n) | Length::LlVar(n) | Length::LllVar(n) => n,
        }
    }
}

/// How a length prefix is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefixEncoding {
    /// Packed BCD: LL in 1 byte, LLL in 2 bytes (`0x01 0x23` = 123).
    Bcd,
    /// ASCII digits: LL in 2 bytes, LLL in 3 bytes.
    Ascii,
}

/// Which side of an odd number of BCD digits gets the filler nibble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pad {
    /// Right-justified, filler nibble first (`123` → `01 23`).
    Left,
    /// Left-justified, filler nibble last (`123` → `12 30`).
    Right,
}

/// How the content of a field is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// Packed BCD, two digits per byte; an odd count is padded with a `0` nibble on the given
    /// side (on decode the filler nibble's value is ignored: some hosts use `F`).
    Bcd(Pad),
    /// One ASCII byte per character.
    Ascii,
    /// Bytes as they are.
    Binary,
}

/// The specification of one field: number, kind, length and encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The field number, 2..=128.
    pub number: u8,
    /// A short English name, for documentation and error messages.
    pub name: &'static str,
    /// What the field holds.
    pub kind: Kind,
    /// Fixed or variable length, in content units.
    pub length: Length,
    /// How the length prefix of a variable field is written (ignored for fixed fields).
    pub prefix: PrefixEncoding,
    /// How the content is written.
    pub content: Content,
}

impl FieldSpec {
    /// A numeric field in BCD with BCD length prefix.
    pub const fn bcd(number: u8, name: &'static str, kind: Kind, length: Length, pad: Pad) -> Self {
        FieldSpec {
            number,
            name,
            kind,
            length,
            prefix: PrefixEncoding::Bcd,
            content: Content::Bcd(pad),
        }
    }

    /// A text field in ASCII with BCD length prefix.
    pub const fn ascii(number: u8, name: &'static str, kind: Kind, length: Length) -> Self {
        FieldSpec {
            number,
            name,
            kind,
            length,
            prefix: PrefixEncoding::Bcd,
            content: Content::Ascii,
        }
    }

    /// A binary field with BCD length prefix (the length counts bytes).
    pub const fn binary(number: u8, name: &'static str, length: Length) -> Self {
        FieldSpec {
            number,
            name,
            kind: Kind::Binary,
            length,
            prefix: PrefixEncoding::Bcd,
            content: Content::Binary,
        }
    }

    /// The number of bytes the content takes for `units` content units.
    pub fn content_bytes(&self, units: usize) -> usize {
        match self.content {
            Content::Bcd(_) => units.div_ceil(2),
            Content::Ascii | Content::Binary => units,
        }
    }
}

/// How the message type indicator is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtiEncoding {
    /// 2 bytes of packed BCD (UnionPay POS).
    Bcd,
    /// 4 ASCII digits.
    Ascii,
}

/// A complete table: the MTI encoding and a spec for every field the host may send.
/// Bitmaps are always binary (8 bytes, plus 8 more when bit 1 announces a secondary bitmap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// A name for logs and error messages.
    pub name: &'static str,
    /// How the MTI is written.
    pub mti: MtiEncoding,
    fields: [Option<FieldSpec>; 129],
}

impl Profile {
    /// An empty profile (no field defined).
    pub fn empty(name: &'static str, mti: MtiEncoding) -> Self {
        Profile {
            name,
            mti,
            fields: [None; 129],
        }
    }

    /// The spec of field `number`, if the profile defines it.
    pub fn field(&self, number: u8) -> Option<&FieldSpec> {
        self.fields
            .get(usize::from(number))
            .and_then(Option::as_ref)
    }

    /// Defines (or redefines) a field, e.g. to follow a host whose F22 padding or F63
    /// encoding differs: `unionpay_pos().with_field(FieldSpec::binary(63, "...", Length::LllVar(163)))`.
    /// Numbers 0, 1 (the bitmap) and above 128 are ignored.
    pub fn with_field(mut self, spec: FieldSpec) -> Self {
        if (2..=128).contains(&spec.number) {
            self.fields[usize::from(spec.number)] = Some(spec);
        }
        self
    }

    /// Removes a field from the profile.
    pub fn without_field(mut self, number: u8) -> Self {
        if let Some(slot) = self.fields.get_mut(usize::from(number)) {
            *slot = None;
        }
        self
    }

    /// All defined fields, in number order.
    pub fn fields(&self) -> impl Iterator<Item = &FieldSpec> {
        self.fields.iter().flatten()
    }
}

/// The UnionPay (CUP) POS profile, fields 2..=64, per reference/payments.md "Framing and MAC"
/// and the CUP field list of section 1:
///
/// - numerics in BCD; LL/LLL prefixes in BCD, counting digits for BCD content and bytes
///   otherwise; an/ans in ASCII;
/// - fixed numerics with an odd digit count are right-justified ([`Pad::Left`]; F23 n3),
///   except F22 n3, which the CUP field description has left-justified (`012` → `01 20`, as
///   jPOS's CUP packager reads it); variable BCD fields (F2, F32, F35, F36, F48, F60, F61)
///   are left-justified ([`Pad::Right`]). The reference leaves the F22/F35 padding
///   unconfirmed: override it with [`Profile::with_field`] when the host says otherwise;
/// - F35 `z..37` LLVAR and F36 `z..104` LLLVAR: track data in BCD, `=` as the nibble `D`;
/// - F48 `n..322` LLLVAR BCD (settlement totals, batch-upload count);
/// - F52 and F64 8 binary bytes; F55 LLLVAR binary (`b..255`);
/// - F60 `n..17` and F61 `n..29`, LLLVAR BCD;
/// - F62 LLLVAR binary (`b..512`: the working keys of the sign-on reply are binary);
/// - F63 LLLVAR ASCII `ans..163` (operator number; a host that sends GBK text here needs
///   F63 redefined as binary).
pub fn unionpay_pos() -> Profile {
    use Kind::*;
    use Length::*;
    let n = |num, name, len| FieldSpec::bcd(num, name, Numeric, len, Pad::Left);
    let nv = |num, name, len| FieldSpec::bcd(num, name, Numeric, len, Pad::Right);
    let text = |num, name, kind, len| FieldSpec::ascii(num, name, kind, len);
    let specs = [
        nv(2, "primary account number", LlVar(19)),
        n(3, "processing code", Fixed(6)),
        n(4, "amount, transaction", Fixed(12)),
        n(5, "amount, settlement", Fixed(12)),
        n(6, "amount, cardholder billing", Fixed(12)),
        n(7, "transmission date and time", Fixed(10)),
        n(8, "amount, cardholder billing fee", Fixed(8)),
        n(9, "conversion rate, settlement", Fixed(8)),
        n(10, "conversion rate, cardholder billing", Fixed(8)),
        n(11, "system trace audit number", Fixed(6)),
        n(12, "time, local transaction", Fixed(6)),
        n(13, "date, local transaction", Fixed(4)),
        n(14, "date, expiration", Fixed(4)),
        n(15, "date, settlement", Fixed(4)),
        n(16, "date, conversion", Fixed(4)),
        n(17, "date, capture", Fixed(4)),
        n(18, "merchant type", Fixed(4)),
        n(19, "acquiring institution country code", Fixed(3)),
        n(20, "PAN extended country code", Fixed(3)),
        n(21, "forwarding institution country code", Fixed(3)),
        nv(22, "point of service entry mode", Fixed(3)),
        n(23, "card sequence number", Fixed(3)),
        n(24, "network international identifier", Fixed(3)),
        n(25, "point of service condition code", Fixed(2)),
        n(26, "point of service PIN capture code", Fixed(2)),
        n(27, "authorization identification response length", Fixed(1)),
        text(28, "amount, transaction fee", AlphaNumSpecial, Fixed(9)),
        text(29, "amount, settlement fee", AlphaNumSpecial, Fixed(9)),
        text(
            30,
            "amount, transaction processing fee",
            AlphaNumSpecial,
            Fixed(9),
        ),
        text(
            31,
            "amount, settlement processing fee",
            AlphaNumSpecial,
            Fixed(9),
        ),
        nv(32, "acquiring institution identification code", LlVar(11)),
        nv(33, "forwarding institution identification code", LlVar(11)),
        text(
            34,
            "primary account number, extended",
            AlphaNumSpecial,
            LlVar(28),
        ),
        FieldSpec::bcd(35, "track 2 data", Track, LlVar(37), Pad::Right),
        FieldSpec::bcd(36, "track 3 data", Track, LllVar(104), Pad::Right),
        text(37, "retrieval reference number", AlphaNum, Fixed(12)),
        text(
            38,
            "authorization identification response",
            AlphaNum,
            Fixed(6),
        ),
        text(39, "response code", AlphaNum, Fixed(2)),
        text(40, "service restriction code", AlphaNum, Fixed(3)),
        text(
            41,
            "card acceptor terminal identification",
            AlphaNumSpecial,
            Fixed(8),
        ),
        text(
            42,
            "card acceptor identification code",
            AlphaNumSpecial,
            Fixed(15),
        ),
        text(
            43,
            "card acceptor name/location",
            AlphaNumSpecial,
            Fixed(40),
        ),
        text(44, "additional response data", AlphaNumSpecial, LlVar(25)),
        text(45, "track 1 data", AlphaNumSpecial, LlVar(76)),
        text(46, "additional data - ISO", AlphaNumSpecial, LllVar(999)),
        text(
            47,
            "additional data - national",
            AlphaNumSpecial,
            LllVar(999),
        ),
        nv(
            48,
            "additional data - private (settlement totals)",
            LllVar(322),
        ),
        text(49, "currency code, transaction", AlphaNum, Fixed(3)),
        text(50, "currency code, settlement", AlphaNum, Fixed(3)),
        text(51, "currency code, cardholder billing", AlphaNum, Fixed(3)),
        FieldSpec::binary(52, "PIN data", Fixed(8)),
        n(53, "security related control information", Fixed(16)),
        text(54, "additional amounts", AlphaNumSpecial, LllVar(20)),
        FieldSpec::binary(55, "ICC data", LllVar(255)),
        text(56, "reserved ISO", AlphaNumSpecial, LllVar(999)),
        text(57, "reserved national", AlphaNumSpecial, LllVar(999)),
        text(
            58,
            "reserved national (PBOC electronic cash)",
            AlphaNumSpecial,
            LllVar(100),
        ),
        text(59, "reserved national", AlphaNumSpecial, LllVar(999)),
        nv(
            60,
            "reserved private (60.1 type, 60.2 batch, 60.3 network code, ...)",
            LllVar(17),
        ),
        nv(61, "original message (batch, trace, date)", LllVar(29)),
        FieldSpec::binary(62, "reserved private (working keys, ...)", LllVar(512)),
        text(
            63,
            "reserved private (operator, ...)",
            AlphaNumSpecial,
            LllVar(163),
        ),
        FieldSpec::binary(64, "message authentication code", Fixed(8)),
    ];
    specs.into_iter().fold(
        Profile::empty("UnionPay POS", MtiEncoding::Bcd),
        Profile::with_field,
    )
}
