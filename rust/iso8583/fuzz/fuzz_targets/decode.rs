//! Fuzz target: any bytes through the UnionPay POS decoder; a decoded message must re-encode
//! and decode to itself (poscore_iso8583::fuzzing::check_decode).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    poscore_iso8583::fuzzing::check_decode(data, &poscore_iso8583::unionpay_pos());
});
