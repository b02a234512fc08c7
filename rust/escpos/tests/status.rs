//! Status replies: every bit of `DLE EOT 1–4`, ASB and `GS r 1`, process-ID replies, the
//! classification of a reply stream (split anywhere, with bad bytes), and round trips
//! between the parsers and the builders the virtual printer uses.

use poscore_escpos::status::{Paper, PrinterStatus, Reply, ReplyParser, StatusError};

/// A status with every field false / paper ok / offline (for checking single bits).
const BLANK: PrinterStatus = PrinterStatus {
    online: false,
    paper: Paper::Ok,
    cover_open: false,
    feed_button: false,
    recoverable_error: false,
    cutter_error: false,
    mechanical_error: false,
    unrecoverable_error: false,
    drawer_pin3: false,
};

fn apply(n: u8, reply: u8) -> PrinterStatus {
    let mut status = PrinterStatus::READY;
    status.apply_realtime(n, reply).unwrap();
    status
}

#[test]
fn ready_can_print_and_each_fault_cannot() {
    assert!(PrinterStatus::READY.can_print());
    assert_eq!(PrinterStatus::default(), PrinterStatus::READY);
    let faults: Vec<fn(&mut PrinterStatus)> = vec![
        |s| s.online = false,
        |s| s.paper = Paper::Out,
        |s| s.cover_open = true,
        |s| s.recoverable_error = true,
        |s| s.cutter_error = true,
        |s| s.mechanical_error = true,
        |s| s.unrecoverable_error = true,
    ];
    for fault in faults {
        let mut s = PrinterStatus::READY;
        fault(&mut s);
        assert!(!s.can_print(), "{s:?}");
    }
    let mut near = PrinterStatus::READY;
    near.paper = Paper::NearEnd;
    assert!(near.can_print(), "near end still prints");
    let mut drawer = PrinterStatus::READY;
    drawer.drawer_pin3 = true;
    assert!(drawer.can_print());
}

#[test]
fn dle_eot_1_bits() {
    assert_eq!(apply(1, 0x12), PrinterStatus::READY);
    let s = apply(1, 0x12 | 0x04);
    assert!(s.drawer_pin3 && s.online);
    let s = apply(1, 0x12 | 0x08);
    assert!(!s.online && !s.drawer_pin3);
    // An offline report clears again when the bit is gone.
    let mut s = apply(1, 0x1A);
    s.apply_realtime(1, 0x12).unwrap();
    assert!(s.online);
}

#[test]
fn dle_eot_2_bits() {
    assert_eq!(apply(2, 0x12), PrinterStatus::READY);
    assert!(apply(2, 0x12 | 0x04).cover_open);
    assert!(apply(2, 0x12 | 0x08).feed_button);
    assert_eq!(apply(2, 0x12 | 0x20).paper, Paper::Out);
    // Bit 6 alone says "an error", the cause comes with DLE EOT 3: nothing guessed.
    let s = apply(2, 0x12 | 0x40);
    assert_eq!(s, PrinterStatus::READY);
    // Bit 6 clear clears the error causes, bit 5 clear clears a paper-out.
    let mut s = PrinterStatus {
        recoverable_error: true,
        cutter_error: true,
        paper: Paper::Out,
        ..PrinterStatus::READY
    };
    s.apply_realtime(2, 0x12).unwrap();
    assert!(!s.recoverable_error && !s.cutter_error);
    assert_eq!(s.paper, Paper::Ok);
    // … but not a near-end it cannot see.
    let mut s = PrinterStatus {
        paper: Paper::NearEnd,
        ..PrinterStatus::READY
    };
    s.apply_realtime(2, 0x12).unwrap();
    assert_eq!(s.paper, Paper::NearEnd);
}

#[test]
fn dle_eot_3_bits() {
    assert_eq!(apply(3, 0x12), PrinterStatus::READY);
    assert_eq!(
        apply(3, 0x12 | 0x04),
        PrinterStatus {
            mechanical_error: true,
            ..PrinterStatus::READY
        }
    );
    assert_eq!(
        apply(3, 0x12 | 0x08),
        PrinterStatus {
            cutter_error: true,
            ..PrinterStatus::READY
        }
    );
    assert_eq!(
        apply(3, 0x12 | 0x20),
        PrinterStatus {
            unrecoverable_error: true,
            ..PrinterStatus::READY
        }
    );
    assert_eq!(
        apply(3, 0x12 | 0x40),
        PrinterStatus {
            recoverable_error: true,
            ..PrinterStatus::READY
        }
    );
    let all = apply(3, 0x7E);
    assert!(
        all.mechanical_error
            && all.cutter_error
            && all.unrecoverable_error
            && all.recoverable_error
    );
}

#[test]
fn dle_eot_4_bits() {
    assert_eq!(apply(4, 0x12).paper, Paper::Ok);
    for near in [0x04, 0x08, 0x0C] {
        assert_eq!(apply(4, 0x12 | near).paper, Paper::NearEnd, "{near:02X}");
    }
    for end in [0x20, 0x40, 0x60, 0x6C] {
        assert_eq!(apply(4, 0x12 | end).paper, Paper::Out, "{end:02X}");
    }
}

#[test]
fn fixed_bits_and_n_are_checked() {
    let mut s = PrinterStatus::READY;
    for bad in [0x00u8, 0x10, 0x02, 0x13, 0x92, 0x16 | 0x01, 0xFF] {
        for n in 1..=4 {
            let err = s.apply_realtime(n, bad).unwrap_err();
            assert!(
                matches!(err, StatusError::UnexpectedByte { byte, .. } if byte == bad),
                "{bad:02X}"
            );
        }
    }
    assert_eq!(
        s.apply_realtime(0, 0x12),
        Err(StatusError::NoSuchStatus { n: 0 })
    );
    assert_eq!(
        s.apply_realtime(5, 0x12),
        Err(StatusError::NoSuchStatus { n: 5 })
    );
    assert_eq!(s, PrinterStatus::READY, "errors change nothing");
    let message = StatusError::UnexpectedByte {
        byte: 0xFF,
        context: "x",
    }
    .to_string();
    assert!(message.contains("0xFF"), "{message}");
}

#[test]
fn asb_bits() {
    let ready = PrinterStatus::from_asb([0x10, 0, 0, 0]).unwrap();
    assert_eq!(ready, PrinterStatus::READY);
    assert!(
        PrinterStatus::from_asb([0x14, 0, 0, 0])
            .unwrap()
            .drawer_pin3
    );
    assert!(!PrinterStatus::from_asb([0x18, 0, 0, 0]).unwrap().online);
    assert!(PrinterStatus::from_asb([0x30, 0, 0, 0]).unwrap().cover_open);
    assert!(
        PrinterStatus::from_asb([0x50, 0, 0, 0])
            .unwrap()
            .feed_button
    );
    assert!(
        PrinterStatus::from_asb([0x10, 0x04, 0, 0])
            .unwrap()
            .mechanical_error
    );
    assert!(
        PrinterStatus::from_asb([0x10, 0x08, 0, 0])
            .unwrap()
            .cutter_error
    );
    assert!(
        PrinterStatus::from_asb([0x10, 0x20, 0, 0])
            .unwrap()
            .unrecoverable_error
    );
    assert!(
        PrinterStatus::from_asb([0x10, 0x40, 0, 0])
            .unwrap()
            .recoverable_error
    );
    assert_eq!(
        PrinterStatus::from_asb([0x10, 0, 0x03, 0]).unwrap().paper,
        Paper::NearEnd
    );
    assert_eq!(
        PrinterStatus::from_asb([0x10, 0, 0x0C, 0]).unwrap().paper,
        Paper::Out
    );
    assert_eq!(
        PrinterStatus::from_asb([0x10, 0, 0x0F, 0]).unwrap().paper,
        Paper::Out
    );
    // Byte 4 is ignored.
    assert_eq!(
        PrinterStatus::from_asb([0x10, 0, 0, 0xFF]).unwrap(),
        PrinterStatus::READY
    );
    for bad in [0x00u8, 0x12, 0x11, 0x90, 0x20] {
        assert!(matches!(
            PrinterStatus::from_asb([bad, 0, 0, 0]),
            Err(StatusError::UnexpectedByte { byte, .. }) if byte == bad
        ));
    }
}

#[test]
fn gs_r_paper_sensor() {
    let mut s = PrinterStatus::READY;
    s.apply_paper_sensor(0x03).unwrap();
    assert_eq!(s.paper, Paper::NearEnd);
    s.apply_paper_sensor(0x0C).unwrap();
    assert_eq!(s.paper, Paper::Out);
    s.apply_paper_sensor(0x0F).unwrap();
    assert_eq!(s.paper, Paper::Out);
    s.apply_paper_sensor(0x00).unwrap();
    assert_eq!(s.paper, Paper::Ok);
    assert!(s.apply_paper_sensor(0x10).is_err());
    assert!(s.apply_paper_sensor(0x83).is_err());
}

/// Every combination of the fields, as a printer would report it (faults imply offline).
fn all_states() -> Vec<PrinterStatus> {
    let mut out = Vec::new();
    for bits in 0u32..256 {
        for paper in [Paper::Ok, Paper::NearEnd, Paper::Out] {
            let b = |i: u32| bits & (1 << i) != 0;
            out.push(
                PrinterStatus {
                    online: b(0),
                    paper,
                    cover_open: b(1),
                    feed_button: b(2),
                    recoverable_error: b(3),
                    cutter_error: b(4),
                    mechanical_error: b(5),
                    unrecoverable_error: b(6),
                    drawer_pin3: b(7),
                }
                .settled(),
            );
        }
    }
    out
}

#[test]
fn settled_takes_faults_offline() {
    let s = PrinterStatus {
        paper: Paper::Out,
        ..PrinterStatus::READY
    }
    .settled();
    assert!(!s.online);
    let s = PrinterStatus {
        cover_open: true,
        ..PrinterStatus::READY
    }
    .settled();
    assert!(!s.online);
    let s = PrinterStatus {
        recoverable_error: true,
        ..PrinterStatus::READY
    }
    .settled();
    assert!(!s.online);
    let s = PrinterStatus {
        paper: Paper::NearEnd,
        ..PrinterStatus::READY
    }
    .settled();
    assert!(s.online);
    // The builders report the settled view even of an unsettled state.
    let raw = PrinterStatus {
        paper: Paper::Out,
        ..PrinterStatus::READY
    };
    assert_eq!(raw.realtime_reply(1) & 0x08, 0x08);
    assert_eq!(raw.realtime_reply(2) & 0x20, 0x20);
    let hot = PrinterStatus {
        recoverable_error: true,
        ..PrinterStatus::READY
    };
    assert_eq!(hot.realtime_reply(3) & 0x40, 0x40);
    assert_eq!(hot.realtime_reply(2) & 0x40, 0x40);
    assert_eq!(hot.realtime_reply(1) & 0x08, 0x08);
    let open = PrinterStatus {
        cover_open: true,
        ..PrinterStatus::READY
    };
    assert_eq!(open.realtime_reply(2) & 0x04, 0x04);
    assert_eq!(open.realtime_reply(1) & 0x08, 0x08);
}

#[test]
fn realtime_round_trip_for_every_state() {
    for s in all_states() {
        let mut read = BLANK;
        for n in [4, 2, 3, 1] {
            let byte = s.realtime_reply(n);
            assert_eq!(byte & 0x93, 0x12, "fixed bits of {byte:02X}");
            read.apply_realtime(n, byte).unwrap();
        }
        assert_eq!(read, s);
        assert_eq!(read.can_print(), s.can_print());
    }
}

#[test]
fn asb_and_gs_r_round_trip_for_every_state() {
    for s in all_states() {
        let asb = s.asb();
        assert_eq!(PrinterStatus::from_asb(asb).unwrap(), s);
        let mut read = BLANK;
        read.apply_paper_sensor(s.paper_sensor_reply()).unwrap();
        assert_eq!(read.paper, s.paper);
        // The reply stream tells them apart.
        let mut parser = ReplyParser::new();
        let replies = parser.feed(&asb);
        assert_eq!(replies, vec![Ok(Reply::Asb(asb))]);
        assert_eq!(
            parser.feed(&[s.realtime_reply(1)]),
            vec![Ok(Reply::Realtime(s.realtime_reply(1)))]
        );
        let sensor = s.paper_sensor_reply();
        assert_eq!(
            parser.feed(&[sensor]),
            vec![Ok(Reply::TransmitStatus(sensor))]
        );
    }
}

/// python-escpos 3.1 (`escpos/escpos.py`): `is_online` = `not status[0] & RT_MASK_ONLINE`,
/// `paper_status` by RT_MASK_NOPAPER / LOWPAPER / PAPER on the `DLE EOT 4` byte.
#[test]
fn python_escpos_reads_our_replies() {
    const RT_MASK_ONLINE: u8 = 8;
    const RT_MASK_PAPER: u8 = 18;
    const RT_MASK_LOWPAPER: u8 = 30;
    const RT_MASK_NOPAPER: u8 = 114;
    let paper_status = |b: u8| {
        if b & RT_MASK_NOPAPER == RT_MASK_NOPAPER {
            0
        } else if b & RT_MASK_LOWPAPER == RT_MASK_LOWPAPER {
            1
        } else if b & RT_MASK_PAPER == RT_MASK_PAPER {
            2
        } else {
            0
        }
    };
    for s in all_states() {
        let online = s.realtime_reply(1) & RT_MASK_ONLINE == 0;
        assert_eq!(online, s.online);
        let expected = match s.paper {
            Paper::Out => 0,
            Paper::NearEnd => 1,
            Paper::Ok => 2,
        };
        assert_eq!(paper_status(s.realtime_reply(4)), expected, "{s:?}");
    }
    assert_eq!(PrinterStatus::READY.realtime_reply(4), 0x12);
    assert_eq!(
        PrinterStatus {
            paper: Paper::NearEnd,
            ..PrinterStatus::READY
        }
        .realtime_reply(4),
        0x1E
    );
}

#[test]
fn process_id_replies() {
    let mut parser = ReplyParser::new();
    assert_eq!(
        parser.feed(&[0x37, 0x22, b'J', b'0', b'0', b'7', 0x00]),
        vec![Ok(Reply::ProcessId(*b"J007"))]
    );
    // Split anywhere: nothing until the last byte.
    let bytes = [0x37, 0x22, b'A', b'B', b'C', b'D', 0x00];
    for split in 1..bytes.len() {
        let mut parser = ReplyParser::new();
        assert!(parser.feed(&bytes[..split]).is_empty());
        assert_eq!(parser.pending().len(), split);
        assert_eq!(
            parser.feed(&bytes[split..]),
            vec![Ok(Reply::ProcessId(*b"ABCD"))]
        );
        assert!(parser.pending().is_empty());
    }
}

#[test]
fn malformed_process_id_is_an_error_and_parsing_resumes() {
    let mut parser = ReplyParser::new();
    // Not terminated by NUL: the bad byte is read again (0x12 is a DLE EOT reply).
    let out = parser.feed(&[0x37, 0x22, b'A', b'B', b'C', b'D', 0x12]);
    assert_eq!(out.len(), 2);
    assert!(matches!(&out[0], Err(StatusError::BadProcessId { bytes }) if bytes.len() == 7));
    assert_eq!(out[1], Ok(Reply::Realtime(0x12)));
    // A control byte inside the ID.
    let out = parser.feed(&[0x37, 0x22, 0x05]);
    assert!(matches!(&out[0], Err(StatusError::BadProcessId { .. })));
    assert_eq!(out[1], Ok(Reply::TransmitStatus(0x05)));
    // 0x37 followed by something else than 0x22.
    let out = parser.feed(&[0x37, 0x1A]);
    assert!(
        matches!(&out[0], Err(StatusError::BadProcessId { bytes }) if bytes == &vec![0x37, 0x1A])
    );
    assert_eq!(out[1], Ok(Reply::Realtime(0x1A)));
}

#[test]
fn classification_of_a_mixed_stream() {
    let stream = [
        0x11, // XON
        0x12, // DLE EOT: ready
        0x18, 0x00, 0x0C, 0x00, // ASB: offline, paper end
        0x0C, // GS r 1: paper end
        0x13, // XOFF
        0x37, 0x22, b'1', b'2', b'3', b'4', 0x00, // process ID
        0x80, // junk
        0x1A, // DLE EOT: offline
    ];
    let expected = vec![
        Ok(Reply::Xon),
        Ok(Reply::Realtime(0x12)),
        Ok(Reply::Asb([0x18, 0x00, 0x0C, 0x00])),
        Ok(Reply::TransmitStatus(0x0C)),
        Ok(Reply::Xoff),
        Ok(Reply::ProcessId(*b"1234")),
        Err(StatusError::UnexpectedByte {
            byte: 0x80,
            context: "reply stream",
        }),
        Ok(Reply::Realtime(0x1A)),
    ];
    let mut parser = ReplyParser::new();
    assert_eq!(parser.feed(&stream), expected);
    // One byte at a time, and every two-piece split: the same replies.
    let mut parser = ReplyParser::new();
    let one_by_one: Vec<_> = stream.iter().flat_map(|b| parser.feed(&[*b])).collect();
    assert_eq!(one_by_one, expected);
    for split in 0..=stream.len() {
        let mut parser = ReplyParser::new();
        let mut got = parser.feed(&stream[..split]);
        got.extend(parser.feed(&stream[split..]));
        assert_eq!(got, expected, "split at {split}");
    }
    let asb = PrinterStatus::from_asb([0x18, 0x00, 0x0C, 0x00]).unwrap();
    assert!(!asb.online && asb.paper == Paper::Out && !asb.can_print());
}

#[test]
fn every_byte_classifies_without_panic() {
    for byte in 0u8..=255 {
        let mut parser = ReplyParser::new();
        let out = parser.feed(&[byte]);
        let held = !parser.pending().is_empty();
        match byte {
            0x11 => assert_eq!(out, vec![Ok(Reply::Xon)]),
            0x13 => assert_eq!(out, vec![Ok(Reply::Xoff)]),
            0x37 => assert!(out.is_empty() && held),
            b if b & 0x93 == 0x12 => assert_eq!(out, vec![Ok(Reply::Realtime(b))]),
            b if b & 0x93 == 0x10 => assert!(out.is_empty() && held, "ASB start {b:02X} waits"),
            b if b & 0x90 == 0x00 => assert_eq!(out, vec![Ok(Reply::TransmitStatus(b))]),
            b => assert_eq!(
                out,
                vec![Err(StatusError::UnexpectedByte {
                    byte: b,
                    context: "reply stream"
                })]
            ),
        }
    }
}
