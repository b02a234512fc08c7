#!/usr/bin/env python3
"""python-escpos as a third-party peer of poscore's ESC/POS encoder, decoder and virtual printer.

Driven by rust/printer/tests/python_escpos_peer.rs. It uses python-escpos's own classes only:
``escpos.printer.Network`` to talk to the virtual printer over TCP, ``escpos.printer.Dummy`` to
capture the bytes python-escpos produces.

Subcommands:

  print   --host H --port P --text-file F --image PNG [--qr DATA] [--native-qr]
          Prints every line of F with ``text(line + "\\n")``, then the image with
          ``image(PNG, impl="bitImageRaster")`` (that is ``GS v 0``), then the QR code (rendered to
          an image by python-escpos, or ``native=True``: ``GS ( k``), then ``cut()``.
          Writes one JSON line to stdout: {"lines": N, "qr": DATA, "native_qr": bool}.

  raster  --image PNG
          Writes to stdout, as hex, the bytes python-escpos produces (into a Dummy printer) for
          ``image(PNG, impl="bitImageRaster", center=False)``.

  status  [--host H] --port P
          Calls ``query_status(RT_STATUS_ONLINE)``, ``query_status(RT_STATUS_PAPER)``,
          ``is_online()`` and ``paper_status()`` and writes one JSON line with the results.

What python-escpos emits (read from its 3.1 source, escpos/escpos.py and magicencode.py):

- ``text()`` goes through "magic encode": a string that contains a CJK ideograph
  (U+4E00..U+9FA5) is sent as GB18030 bytes as a whole, *without* ``FS &`` (the printer must
  already be in Chinese mode, as most Chinese printers are at power-on). Any other string is
  encoded in a single-byte code page picked from the printer profile; the first one is
  preceded by ``ESC t n`` (``ESC t 0``, PC437, with the default profile).
- ``image(impl="bitImageRaster")`` sends exactly ``GS v 0 m xL xH yL yH`` + the rows (MSB =
  leftmost dot, 1 = black), with m = 0 for high density both ways; images taller than
  ``fragment_height`` (960) are split into several ``GS v 0`` commands. ``center=True`` pads the
  image to the profile's width first (the default profile has no width, so it does nothing).
  Pillow converts the image to 1 bit with ``convert("1")`` (Floyd-Steinberg), so a pure
  black-and-white PNG comes through dot for dot.
- ``qr(native=False)`` renders with the ``qrcode`` package (box size ``size``, border 1) and
  sends ``text("\\n")``, the image, ``text("\\n")``, ``text("\\n")``. ``qr(native=True)`` sends
  ``GS ( k`` model 2, module size, error level, store (UTF-8 data), print.
- ``cut()`` sends ``ESC d 6`` then ``GS V 0``.
- ``query_status(mode)`` sends ``DLE EOT n`` and returns one ``recv(16)``; ``is_online()`` is
  ``not (byte & 8)``; ``paper_status()`` is 0 when ``byte & 0x72 == 0x72`` (paper end),
  1 when ``byte & 0x1E == 0x1E`` (near end), else 2.
"""

import argparse
import contextlib
import json
import sys

try:
    import escpos
    from escpos.constants import RT_STATUS_ONLINE, RT_STATUS_PAPER
    from escpos.printer import Dummy, Network
except ImportError as error:  # pragma: no cover - reported to the Rust test
    sys.stderr.write(
        f"python-escpos is not installed ({error}): run "
        "`pip install -r tests/peers/requirements.txt`\n"
    )
    sys.exit(3)


def library_output_to_stderr():
    """python-escpos prints warnings to stdout (e.g. "media.width.pixel ... not set"); keep
    stdout for our one result line."""
    return contextlib.redirect_stdout(sys.stderr)


def cmd_print(args):
    with open(args.text_file, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    printer = Network(host=args.host, port=args.port, timeout=args.timeout)
    with library_output_to_stderr():
        for line in lines:
            printer.text(line + "\n")
        printer.image(args.image, impl="bitImageRaster", center=False)
        if args.qr is not None:
            printer.qr(args.qr, size=args.qr_size, native=args.native_qr)
        printer.cut()
    printer.close()
    print(json.dumps({"lines": len(lines), "qr": args.qr, "native_qr": args.native_qr}))


def cmd_raster(args):
    printer = Dummy()
    with library_output_to_stderr():
        printer.image(args.image, impl="bitImageRaster", center=False)
    print(printer.output.hex())


def cmd_status(args):
    printer = Network(host=args.host, port=args.port, timeout=args.timeout)
    with library_output_to_stderr():
        online_raw = printer.query_status(RT_STATUS_ONLINE)
        paper_raw = printer.query_status(RT_STATUS_PAPER)
        online = printer.is_online()
        paper = printer.paper_status()
    printer.close()
    print(
        json.dumps(
            {
                "online_raw": online_raw.hex(),
                "paper_raw": paper_raw.hex(),
                "is_online": online,
                "paper_status": paper,
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"python-escpos {escpos.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("print", help="print text, an image and a QR code over TCP")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--text-file", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--qr")
    p.add_argument("--qr-size", type=int, default=4)
    p.add_argument("--native-qr", action="store_true")
    p.set_defaults(run=cmd_print)

    r = sub.add_parser("raster", help="python-escpos's GS v 0 bytes for an image, as hex")
    r.add_argument("--image", required=True)
    r.set_defaults(run=cmd_raster)

    s = sub.add_parser("status", help="python-escpos's status calls against a printer")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--timeout", type=float, default=10.0)
    s.set_defaults(run=cmd_status)

    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
