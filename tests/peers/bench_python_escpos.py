#!/usr/bin/env python3
"""python-escpos's time per slip, for rust/escpos/benches/vs_python.rs.

The Rust bench encodes its pre-auth slip, decodes the bytes back into printed lines, and writes
them to a JSON spec (every printed line with its runs, styles and alignment, the signature image
as a PNG, the QR code, feeds and the cut). This script builds the same slip with python-escpos's
own API into ``escpos.printer.Dummy``, in a loop, and prints one JSON line:

    {"per_slip_s": median over batches, "batches_s": [...], "iterations": N, "bytes": len(output)}

and, with ``--out``, writes one slip's bytes there, so the Rust bench can check with its decoder
that python-escpos printed the same text.

What python-escpos does per slip (what is timed): ``clear()`` of one ``Dummy(profile="Sunmi-V2")``
made once (a 58 mm, 384-dot smart-POS profile with native QR; with a profile of unknown width
``image()`` prints a warning on every call), then for every run ``set(align, bold, underline, double_width,
double_height, normal_textsize)`` and ``text(run)``, ``text("\\n")`` per line, ``image(PIL image,
impl="bitImageRaster")`` for the signature (the PNG is loaded once, outside the timing, as our
``Document`` holds a ready ``Bitmap``), ``qr(data, size, ec=M, native=True)`` (``GS ( k``, as our
default profile), ``print_and_feed(n)`` for feeds, ``cut()``, and ``.output``.

Text encoding: python-escpos's default "magic encode". A run containing a CJK ideograph is sent
as GB18030 as a whole (no ``FS &``, the printer's power-on Chinese mode is assumed, as with ours);
other runs go through its code-page search (``ESC t 0``, PC437, for ASCII). Every line of the
slip that holds Chinese holds an ideograph, so this is exact for this slip.
"""

import argparse
import json
import statistics
import sys
import time

try:
    from escpos.constants import QR_ECLEVEL_M
    from escpos.printer import Dummy
    from PIL import Image
except ImportError as error:
    sys.stderr.write(
        f"python-escpos is not installed ({error}): run "
        "`pip install -r tests/peers/requirements.txt`\n"
    )
    sys.exit(3)


def build(printer, spec, images):
    printer.clear()
    for item in spec["items"]:
        kind = item["kind"]
        if kind == "line":
            for run in item["runs"]:
                big = run["double_width"] or run["double_height"]
                printer.set(
                    align=item["align"],
                    bold=run["bold"],
                    underline=1 if run["underline"] else 0,
                    double_width=run["double_width"],
                    double_height=run["double_height"],
                    normal_textsize=not big,
                )
                printer.text(run["text"])
            printer.text("\n")
        elif kind == "image":
            printer.set(align=item["align"])
            printer.image(images[item["png"]], impl="bitImageRaster", center=False)
        elif kind == "qr":
            printer.set(align=item["align"])
            printer.qr(item["data"], size=item["module_size"], ec=QR_ECLEVEL_M, native=True)
        elif kind == "feed":
            printer.print_and_feed(item["lines"])
        elif kind == "cut":
            printer.cut()
        else:
            raise ValueError(f"unknown spec item {kind!r}")
    return printer.output


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True, help="the slip, from vs_python.rs")
    parser.add_argument("--iterations", type=int, default=200, help="slips per batch")
    parser.add_argument("--batches", type=int, default=7)
    parser.add_argument("--out", help="write one slip's bytes here")
    args = parser.parse_args()

    with open(args.spec, encoding="utf-8") as handle:
        spec = json.load(handle)
    images = {}
    for item in spec["items"]:
        if item["kind"] == "image":
            with Image.open(item["png"]) as img:
                img.load()
                images[item["png"]] = img.copy()

    # One printer for all slips, as an application keeps its printer object: python-escpos's
    # code-page tables are built once, and only the first slip carries ESC t.
    printer = Dummy(profile="Sunmi-V2")
    output = build(printer, spec, images)  # warm-up
    if args.out:
        with open(args.out, "wb") as handle:
            handle.write(output)

    batches = []
    for _ in range(args.batches):
        start = time.perf_counter()
        for _ in range(args.iterations):
            build(printer, spec, images)
        batches.append((time.perf_counter() - start) / args.iterations)
    print(
        json.dumps(
            {
                "per_slip_s": statistics.median(batches),
                "batches_s": batches,
                "iterations": args.iterations,
                "bytes": len(output),
                "python": sys.version.split()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
