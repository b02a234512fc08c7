//! Fuzz target: any byte stream, fed in pieces, through the FrameReader; frames read must be
//! exactly the bytes consumed (poscore_iso8583::fuzzing::check_frame_reader).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    poscore_iso8583::fuzzing::check_frame_reader(data);
});
