"""pyiso8583 as a peer of rust/iso8583: decode and encode with the independent spec in
cup_spec.py.

    python3 iso8583_peer.py decode < hex.json     # ["0100...", ...] -> [{"t": "0100", "2": ...}, ...]
    python3 iso8583_peer.py encode < fields.json  # [{"t": "0100", ...}, ...] -> ["0100...", ...]

Messages are JSON objects: "t" is the MTI, other keys are field numbers. Numeric, track and
text fields are strings (track data with "="); binary fields (52, 55, 62, 64) are uppercase hex.
The bitmap is computed by pyiso8583 and not part of the JSON.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import iso8583  # noqa: E402

from cup_spec import TRACK_FIELDS, UNIONPAY_POS  # noqa: E402


def to_json(decoded):
    out = {}
    for key, value in decoded.items():
        if key in ("h", "p", "1"):
            continue
        if key in TRACK_FIELDS:
            value = value.replace("D", "=")
        out[key] = value
    return out


def from_json(message):
    doc = {}
    for key, value in message.items():
        if key in TRACK_FIELDS:
            value = value.replace("=", "D")
        doc[key] = value
    return doc


def decode(hex_messages):
    result = []
    for h in hex_messages:
        decoded, _ = iso8583.decode(bytes.fromhex(h), UNIONPAY_POS)
        result.append(to_json(decoded))
    return result


def encode(messages):
    result = []
    for message in messages:
        raw, _ = iso8583.encode(from_json(message), UNIONPAY_POS)
        result.append(bytes(raw).hex().upper())
    return result


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("decode", "encode"):
        sys.exit(__doc__)
    data = json.load(sys.stdin)
    out = decode(data) if sys.argv[1] == "decode" else encode(data)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
