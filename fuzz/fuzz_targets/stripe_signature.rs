#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qskip_fuzz::entries::stripe_signature(data));
