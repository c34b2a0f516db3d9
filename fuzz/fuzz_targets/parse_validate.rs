//! Bytes → UTF-8 → parse + validate, as `scalesim validate` loads a file: whatever the input, the
//! loader answers `Ok` or a located `Err`, and never panics (nor does printing the error).

#![no_main]

use libfuzzer_sys::fuzz_target;
use scalesim::scenario;

fuzz_target!(|data: &[u8]| {
    // Non-UTF-8 input is refused by `read_source` before parsing; the parser takes text.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = scenario::parse("fuzz.toml", text, &[]) {
        assert!(!e.diagnostics.is_empty(), "an Err without diagnostics");
        let _ = e.to_string();
    }
});
