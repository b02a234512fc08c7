//! Checks shared by the cargo-fuzz targets (`fuzz/`) and the bounded smoke test
//! (`tests/fuzz_smoke.rs`). They panic when an invariant breaks, which is what a fuzzer
//! reports; they are not meant for production paths.

use crate::frame::{FrameReader, frame};
use crate::spec::Profile;
use crate::{decode, encode};

/// Decodes arbitrary bytes. Decoding must not panic; when it succeeds, the message must encode
/// again and decode to the same message.
pub fn check_decode(data: &[u8], profile: &Profile) {
    if let Ok(message) = decode(data, profile) {
        let again = match encode(&message, profile) {
            Ok(bytes) => bytes,
            Err(e) => panic!("a decoded message does not encode: {e}"),
        };
        assert_eq!(again.len(), data.len(), "re-encoding changed the length");
        assert_eq!(
            decode(&again, profile).ok(),
            Some(message),
            "re-encoding changed the message"
        );
    }
}

/// Feeds arbitrary bytes to a [`FrameReader`] in pieces whose sizes come from the data itself.
/// Must not panic; the frames returned, framed again, must be exactly the bytes consumed.
pub fn check_frame_reader(data: &[u8]) {
    let Some((&step, stream)) = data.split_first() else {
        return;
    };
    let step = usize::from(step % 31) + 1;
    let max = 64 + step * 17;
    let mut reader = FrameReader::new(max);
    let mut rebuilt = Vec::new();
    let mut failed = false;
    for piece in stream.chunks(step) {
        reader.push(piece);
        loop {
            match reader.next_frame() {
                Ok(Some(f)) => {
                    assert!(
                        f.body.len() + 11 <= max,
                        "a frame above the maximum was returned"
                    );
                    match frame(&f.tpdu, &f.header, &f.body) {
                        Ok(bytes) => rebuilt.extend(bytes),
                        Err(e) => panic!("a frame read does not frame again: {e}"),
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        if failed {
            assert!(
                reader.next_frame().is_err(),
                "the reader recovered after an error"
            );
            break;
        }
    }
    assert_eq!(
        &stream[..rebuilt.len()],
        &rebuilt[..],
        "frames differ from the bytes consumed"
    );
    if !failed {
        assert_eq!(reader.pending(), stream.len() - rebuilt.len());
    }
}
