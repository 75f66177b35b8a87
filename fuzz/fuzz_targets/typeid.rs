#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| typed_id_fuzz::typeid(data));
