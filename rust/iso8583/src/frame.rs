//! Framing on the socket: `len(2, binary big-endian) | TPDU(5) | header(6) | body`, where the
//! length counts everything after itself (reference/payments.md "Framing and MAC").
//!
//! [`frame`] builds a frame; [`FrameReader`] takes bytes as they arrive and yields whole
//! frames; [`check_reply_tpdu`] checks that the host swapped the TPDU addresses;
//! [`Header::processing_requirement`] exposes the 处理要求 nibble (3 = sign on again).

use thiserror::Error;

/// Bytes of the length prefix.
pub const LENGTH_BYTES: usize = 2;
/// Bytes of the TPDU.
pub const TPDU_BYTES: usize = 5;
/// Bytes of the CUP header.
pub const HEADER_BYTES: usize = 6;
/// The default largest frame length accepted by [`FrameReader`] (the value of the length
/// prefix). CUP POS messages are a few hundred bytes; 8 KiB leaves room for F55/F62.
pub const DEFAULT_MAX_FRAME: usize = 8192;

/// The transport protocol data unit: ID (`0x60`), destination address, source address.
/// The host answers with destination and source swapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tpdu {
    /// The TPDU ID, `0x60` for CUP.
    pub id: u8,
    /// The destination address (NII), 2 bytes.
    pub destination: [u8; 2],
    /// The source address, 2 bytes.
    pub source: [u8; 2],
}

impl Tpdu {
    /// A CUP TPDU (`60 dest src`).
    pub fn new(destination: [u8; 2], source: [u8; 2]) -> Tpdu {
        Tpdu {
            id: 0x60,
            destination,
            source,
        }
    }

    /// The five bytes on the wire.
    pub fn to_bytes(&self) -> [u8; TPDU_BYTES] {
        [
            self.id,
            self.destination[0],
            self.destination[1],
            self.source[0],
            self.source[1],
        ]
    }

    /// From the five bytes on the wire.
    pub fn from_bytes(b: [u8; TPDU_BYTES]) -> Tpdu {
        Tpdu {
            id: b[0],
            destination: [b[1], b[2]],
            source: [b[3], b[4]],
        }
    }

    /// The TPDU the host should answer with: destination and source swapped.
    pub fn swapped(&self) -> Tpdu {
        Tpdu {
            id: self.id,
            destination: self.source,
            source: self.destination,
        }
    }
}

/// The response's 处理要求 (processing requirement), the low nibble of header byte 3
/// (Newland `CommHead`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessingRequirement {
    /// 0: nothing to do.
    None,
    /// 1: download parameters.
    DownloadParameters,
    /// 2: upload status.
    UploadStatus,
    /// 3: sign on again (new working keys) before the next message.
    SignOnAgain,
    /// 4: download CA public keys.
    DownloadCaKeys,
    /// 5: download IC parameters.
    DownloadIcParameters,
    /// 6: TMS (terminal management) download.
    Tms,
    /// Any other value.
    Other(u8),
}

impl ProcessingRequirement {
    /// From the nibble.
    pub fn from_nibble(n: u8) -> ProcessingRequirement {
        match n & 0xF {
            0 => Self::None,
            1 => Self::DownloadParameters,
            2 => Self::UploadStatus,
            3 => Self::SignOnAgain,
            4 => Self::DownloadCaKeys,
            5 => Self::DownloadIcParameters,
            6 => Self::Tms,
            other => Self::Other(other),
        }
    }

    /// The nibble.
    pub fn nibble(self) -> u8 {
        match self {
            Self::None => 0,
            Self::DownloadParameters => 1,
            Self::UploadStatus => 2,
            Self::SignOnAgain => 3,
            Self::DownloadCaKeys => 4,
            Self::DownloadIcParameters => 5,
            Self::Tms => 6,
            Self::Other(n) => n & 0xF,
        }
    }
}

/// The 6-byte CUP header (BCD): 应用类别 (`60` magnetic / `61` IC), 软件总版本号, one byte
/// 终端状态 (high nibble) / 处理要求 (low nibble), 3 bytes 软件分版本号.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header(pub [u8; HEADER_BYTES]);

impl Header {
    /// A header from its parts.
    pub fn new(
        application: u8,
        version: u8,
        terminal_status: u8,
        requirement: ProcessingRequirement,
        sub_version: [u8; 3],
    ) -> Header {
        Header([
            application,
            version,
            ((terminal_status & 0xF) << 4) | requirement.nibble(),
            sub_version[0],
            sub_version[1],
            sub_version[2],
        ])
    }

    /// 应用类别: `0x60` magnetic stripe, `0x61` IC.
    pub fn application(&self) -> u8 {
        self.0[0]
    }

    /// 终端状态, the high nibble of byte 3.
    pub fn terminal_status(&self) -> u8 {
        self.0[2] >> 4
    }

    /// 处理要求, the low nibble of byte 3 (meaningful in responses).
    pub fn processing_requirement(&self) -> ProcessingRequirement {
        ProcessingRequirement::from_nibble(self.0[2])
    }

    /// Whether the host asks the terminal to sign on again (处理要求 = 3).
    pub fn requires_sign_on(&self) -> bool {
        self.processing_requirement() == ProcessingRequirement::SignOnAgain
    }
}

/// One frame: TPDU, header and the 8583 body (MTI onwards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The TPDU.
    pub tpdu: Tpdu,
    /// The CUP header.
    pub header: Header,
    /// The 8583 message body, for [`crate::decode`].
    pub body: Vec<u8>,
}

/// What went wrong with a frame.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// The body does not fit the 2-byte length.
    #[error("frame body of {body} bytes is too long for the 2-byte length (at most {max})")]
    BodyTooLong {
        /// The body's length.
        body: usize,
        /// The largest body that fits.
        max: usize,
    },
    /// The peer announced a frame longer than the configured maximum; the link is out of step
    /// or the peer is not a CUP host. Close the connection.
    #[error(
        "the peer announced a {length}-byte frame, above the maximum {max}; close the connection"
    )]
    LengthTooLarge {
        /// The announced length.
        length: usize,
        /// The configured maximum.
        max: usize,
    },
    /// The announced length cannot even hold the TPDU and header.
    #[error(
        "the peer announced a {length}-byte frame, shorter than TPDU + header (11); close the connection"
    )]
    LengthTooSmall {
        /// The announced length.
        length: usize,
    },
    /// The reply's TPDU is not the request's with the addresses swapped: a reply meant for
    /// someone else, or a misconfigured host. Drop the reply.
    #[error("reply TPDU {actual:02x?} is not the request's swapped ({expected:02x?})")]
    TpduMismatch {
        /// The TPDU expected.
        expected: [u8; TPDU_BYTES],
        /// The TPDU received.
        actual: [u8; TPDU_BYTES],
    },
}

/// Builds a frame: the 2-byte big-endian length of what follows, the TPDU, the header, the body.
pub fn frame(tpdu: &Tpdu, header: &Header, body: &[u8]) -> Result<Vec<u8>, FrameError> {
    let max = usize::from(u16::MAX) - TPDU_BYTES - HEADER_BYTES;
    if body.len() > max {
        return Err(FrameError::BodyTooLong {
            body: body.len(),
            max,
        });
    }
    let length = (TPDU_BYTES + HEADER_BYTES + body.len()) as u16;
    let mut out = Vec::with_capacity(LENGTH_BYTES + usize::from(length));
    out.extend(length.to_be_bytes());
    out.extend(tpdu.to_bytes());
    out.extend(header.0);
    out.extend_from_slice(body);
    Ok(out)
}

/// Checks that a reply's TPDU is the request's with destination and source swapped.
pub fn check_reply_tpdu(request: &Tpdu, reply: &Tpdu) -> Result<(), FrameError> {
    let expected = request.swapped();
    if *reply == expected {
        Ok(())
    } else {
        Err(FrameError::TpduMismatch {
            expected: expected.to_bytes(),
            actual: reply.to_bytes(),
        })
    }
}

/// Splits a byte stream into frames. Feed it what the socket returns with [`FrameReader::push`],
/// then call [`FrameReader::next_frame`] until it returns `Ok(None)`.
///
/// After an error the stream is out of step and the reader stays failed (every later call
/// returns the same error): close the connection and start a new reader.
#[derive(Debug, Clone)]
pub struct FrameReader {
    buffer: Vec<u8>,
    start: usize,
    max_frame: usize,
    failed: Option<FrameError>,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader::new(DEFAULT_MAX_FRAME)
    }
}

impl FrameReader {
    /// A reader refusing frames whose length prefix is above `max_frame` (at most 65535
    /// can be announced anyway).
    pub fn new(max_frame: usize) -> FrameReader {
        FrameReader {
            buffer: Vec::new(),
            start: 0,
            max_frame,
            failed: None,
        }
    }

    /// Appends bytes received from the peer.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buffer.len() {
            self.buffer.clear();
            self.start = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete frame, `Ok(None)` if more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let pending = &self.buffer[self.start..];
        let Some(&[hi, lo]) = pending.get(..LENGTH_BYTES) else {
            return Ok(None);
        };
        let length = usize::from(u16::from_be_bytes([hi, lo]));
        if length > self.max_frame {
            return Err(self.fail(FrameError::LengthTooLarge {
                length,
                max: self.max_frame,
            }));
        }
        if length < TPDU_BYTES + HEADER_BYTES {
            return Err(self.fail(FrameError::LengthTooSmall { length }));
        }
        let Some(content) = pending.get(LENGTH_BYTES..LENGTH_BYTES + length) else {
            return Ok(None);
        };
        let mut tpdu = [0u8; TPDU_BYTES];
        tpdu.copy_from_slice(&content[..TPDU_BYTES]);
        let mut header = [0u8; HEADER_BYTES];
        header.copy_from_slice(&content[TPDU_BYTES..TPDU_BYTES + HEADER_BYTES]);
        let frame = Frame {
            tpdu: Tpdu::from_bytes(tpdu),
            header: Header(header),
            body: content[TPDU_BYTES + HEADER_BYTES..].to_vec(),
        };
        self.start += LENGTH_BYTES + length;
        if self.start == self.buffer.len() {
            self.buffer.clear();
            self.start = 0;
        } else if self.start > 64 * 1024 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        Ok(Some(frame))
    }

    /// Bytes received but not yet returned as a frame. Non-zero when the peer closes means
    /// the connection was closed mid-frame.
    pub fn pending(&self) -> usize {
        self.buffer.len() - self.start
    }

    fn fail(&mut self, error: FrameError) -> FrameError {
        self.failed = Some(error.clone());
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Tpdu, Header, Vec<u8>) {
        let tpdu = Tpdu::new([0x00, 0x03], [0x00, 0x00]);
        let header = Header::new(0x61, 0x31, 0, ProcessingRequirement::None, [0, 0, 0]);
        (tpdu, header, vec![0x08, 0x00, 1, 2, 3])
    }

    #[test]
    fn frame_layout_matches_the_reference() {
        let (tpdu, header, body) = sample();
        let bytes = frame(&tpdu, &header, &body).unwrap();
        assert_eq!(
            bytes,
            [
                0x00, 0x10, 0x60, 0x00, 0x03, 0x00, 0x00, 0x61, 0x31, 0x00, 0x00, 0x00, 0x00, 0x08,
                0x00, 1, 2, 3
            ]
        );
        assert!(matches!(
            frame(&tpdu, &header, &vec![0; 65535]),
            Err(FrameError::BodyTooLong { .. })
        ));
    }

    #[test]
    fn reader_yields_frames_from_any_split() {
        let (tpdu, header, body) = sample();
        let one = frame(&tpdu, &header, &body).unwrap();
        let two = frame(&tpdu.swapped(), &header, &[0x08, 0x10]).unwrap();
        let stream: Vec<u8> = one.iter().chain(&two).copied().collect();
        for split in 0..=stream.len() {
            let mut reader = FrameReader::default();
            let mut frames = Vec::new();
            for part in [&stream[..split], &stream[split..]] {
                reader.push(part);
                while let Some(f) = reader.next_frame().unwrap() {
                    frames.push(f);
                }
            }
            assert_eq!(frames.len(), 2, "split at {split}");
            assert_eq!(
                frames[0],
                Frame {
                    tpdu,
                    header,
                    body: body.clone()
                }
            );
            assert_eq!(frames[1].body, vec![0x08, 0x10]);
            assert_eq!(reader.pending(), 0);
        }
        let mut reader = FrameReader::default();
        reader.push(&one[..7]);
        assert_eq!(reader.next_frame(), Ok(None));
        assert_eq!(reader.pending(), 7);
    }

    #[test]
    fn reader_rejects_bad_lengths_and_stays_failed() {
        let mut reader = FrameReader::new(100);
        reader.push(&[0x00, 0x65]);
        let err = reader.next_frame().unwrap_err();
        assert_eq!(
            err,
            FrameError::LengthTooLarge {
                length: 101,
                max: 100
            }
        );
        reader.push(&[0; 200]);
        assert_eq!(reader.next_frame(), Err(err));
        let mut reader = FrameReader::default();
        reader.push(&[0x00, 0x0A, 0x60]);
        assert_eq!(
            reader.next_frame(),
            Err(FrameError::LengthTooSmall { length: 10 })
        );
    }

    #[test]
    fn reply_tpdu_must_be_swapped_and_header_nibbles_are_exposed() {
        let request = Tpdu::new([0x01, 0x23], [0x04, 0x56]);
        assert_eq!(
            check_reply_tpdu(&request, &Tpdu::new([0x04, 0x56], [0x01, 0x23])),
            Ok(())
        );
        assert!(matches!(
            check_reply_tpdu(&request, &request),
            Err(FrameError::TpduMismatch { .. })
        ));
        let header = Header([0x60, 0x31, 0x53, 0x00, 0x00, 0x00]);
        assert_eq!(header.terminal_status(), 5);
        assert_eq!(
            header.processing_requirement(),
            ProcessingRequirement::SignOnAgain
        );
        assert!(header.requires_sign_on());
        assert!(!Header([0x60, 0x31, 0x01, 0, 0, 0]).requires_sign_on());
        for n in 0..16 {
            assert_eq!(ProcessingRequirement::from_nibble(n).nibble(), n);
        }
    }
}
