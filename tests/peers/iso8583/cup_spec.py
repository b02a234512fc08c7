"""The UnionPay (CUP) POS profile as a pyiso8583 spec.

Written by hand from reference/payments.md ("Framing and MAC", the field notes of section 1,
and the jPOS packager notes of section 3), NOT generated from the Rust table, so that the two
can disagree. Conventions:

- MTI: 2 bytes BCD. Bitmap: 8 binary bytes (no secondary bitmap in CUP POS).
- Numerics ("n") and track data ("z"): BCD, pyiso8583 `data_enc="b"` with
  `len_count="nibbles"`; LL/LLL prefixes are BCD and count digits. Fixed numerics with an
  odd number of digits are right-justified (filler `0` on the left), except F22 (POS entry
  mode), which CUP field descriptions have left-justified ("012" -> 01 20); variable BCD
  fields are left-justified (filler `0` on the right). Track data shows `=` as the nibble `D`.
- an/ans: ASCII, prefixes BCD counting bytes.
- F52, F64: 8 binary bytes. F55: LLLVAR binary. F62: LLLVAR binary (working keys).
"""


def _fixed_n(digits, desc):
    spec = {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": digits,
            "len_count": "nibbles", "desc": desc}
    if digits % 2:
        spec["left_pad"] = "0"
    return spec


def _fixed_n_left_justified(digits, desc):
    spec = {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": digits,
            "len_count": "nibbles", "desc": desc}
    if digits % 2:
        spec["right_pad"] = "0"
    return spec


def _var_n(len_type, max_digits, desc):
    return {"data_enc": "b", "len_enc": "bcd", "len_type": len_type, "max_len": max_digits,
            "len_count": "nibbles", "right_pad": "0", "desc": desc}


def _fixed_text(chars, desc):
    return {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0, "max_len": chars, "desc": desc}


def _var_text(len_type, max_chars, desc):
    return {"data_enc": "ascii", "len_enc": "bcd", "len_type": len_type, "max_len": max_chars,
            "desc": desc}


def _fixed_b(size, desc):
    return {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": size, "desc": desc}


def _var_b(len_type, max_bytes, desc):
    return {"data_enc": "b", "len_enc": "bcd", "len_type": len_type, "max_len": max_bytes,
            "desc": desc}


UNIONPAY_POS = {
    "h": {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": 0, "desc": "No header"},
    "t": {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": 2, "desc": "MTI (BCD)"},
    "p": {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": 8, "desc": "Bitmap"},
    "1": {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": 8, "desc": "Secondary bitmap"},
    "2": _var_n(1, 19, "PAN"),
    "3": _fixed_n(6, "Processing code"),
    "4": _fixed_n(12, "Amount"),
    "11": _fixed_n(6, "STAN"),
    "12": _fixed_n(6, "Local time hhmmss"),
    "13": _fixed_n(4, "Local date MMDD"),
    "14": _fixed_n(4, "Expiry YYMM"),
    "15": _fixed_n(4, "Settlement date"),
    "22": _fixed_n_left_justified(3, "POS entry mode"),
    "23": _fixed_n(3, "Card sequence number"),
    "25": _fixed_n(2, "POS condition code"),
    "26": _fixed_n(2, "PIN capture code"),
    "32": _var_n(1, 11, "Acquirer institution"),
    "35": _var_n(1, 37, "Track 2"),
    "36": _var_n(2, 104, "Track 3"),
    "37": _fixed_text(12, "RRN"),
    "38": _fixed_text(6, "Auth code"),
    "39": _fixed_text(2, "Response code"),
    "41": _fixed_text(8, "Terminal ID"),
    "42": _fixed_text(15, "Merchant ID"),
    "44": _var_text(1, 25, "Additional response data"),
    "48": _var_n(2, 322, "Settlement totals"),
    "49": _fixed_text(3, "Currency"),
    "52": _fixed_b(8, "PIN block"),
    "53": _fixed_n(16, "Security control"),
    "54": _var_text(2, 20, "Additional amounts"),
    "55": _var_b(2, 255, "ICC data"),
    "60": _var_n(2, 17, "Reserved private 60"),
    "61": _var_n(2, 29, "Original message"),
    "62": _var_b(2, 512, "Reserved private 62"),
    "63": _var_text(2, 163, "Reserved private 63"),
    "64": _fixed_b(8, "MAC"),
}

# Fields holding track data: pyiso8583 shows the separator as the hex digit D.
TRACK_FIELDS = ("35", "36")
