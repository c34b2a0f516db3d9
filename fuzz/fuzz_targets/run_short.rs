//! What `validate` accepts, `run` must handle: an input that loads is cut to a short run
//! (`scalesim::fuzzing::Limits::SHORT`: 3 simulated seconds, at most 2,000 users) and run with the
//! checks the in-process fuzzer (`tests/it/fuzz.rs`) applies — no panic, requests started = ended
//! + open at the end, the outcomes add up to the requests ended — then its reports are rendered.

#![no_main]

use libfuzzer_sys::fuzz_target;
use scalesim::fuzzing::{self, Limits};
use scalesim::scenario;

/// A smaller event budget than the tests', so each input takes milliseconds.
const EVENTS: u64 = 200_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(scn) = scenario::parse("fuzz.toml", text, &[]) else {
        return;
    };
    let Some(scn) = fuzzing::shorten(&scn, &Limits::SHORT) else {
        return;
    };
    match fuzzing::run_checked(&scn, EVENTS) {
        Ok(Some(out)) => fuzzing::render(&scn, &out),
        Ok(None) => {} // the event budget ran out: a crowd or a livelock, not a crash
        Err(broken) => panic!("{broken}"),
    }
});
