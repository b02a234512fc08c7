"""pyiso8583's side of rust/iso8583/benches/vs_pyiso8583.rs: encode + decode of a pre-auth
request and its reply, with the independent spec of cup_spec.py.

Reads {"messages": [request, reply], "batches": N, "per_batch": M} (messages in the JSON form of
iso8583_peer.py) on stdin; prints {"hex": [...], "median_us": ..., "min_us": ...}, the time of
one iteration (encode request, decode it, encode reply, decode it) in microseconds.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import iso8583  # noqa: E402

from cup_spec import UNIONPAY_POS  # noqa: E402
from iso8583_peer import from_json  # noqa: E402


def main():
    job = json.load(sys.stdin)
    docs = [from_json(m) for m in job["messages"]]
    spec = UNIONPAY_POS
    encode, decode = iso8583.encode, iso8583.decode
    hexes = [bytes(encode(dict(d), spec)[0]).hex().upper() for d in docs]
    times = []
    for _ in range(job["batches"]):
        start = time.perf_counter()
        for _ in range(job["per_batch"]):
            for d in docs:
                raw, _ = encode(d, spec)
                decode(raw, spec)
        times.append((time.perf_counter() - start) / job["per_batch"] * 1e6)
    times.sort()
    json.dump({"hex": hexes, "median_us": times[len(times) // 2], "min_us": times[0]}, sys.stdout)


if __name__ == "__main__":
    main()
