//! The chapter scenarios, embedded in the binary so `scalesim journey` and `scalesim run chapter:N`
//! work after a bare `cargo install`.

/// One embedded chapter scenario.
#[derive(Clone, Copy, Debug)]
pub struct Chapter {
    /// Chapter number in the journey.
    pub number: u32,
    /// File name under `scenarios/`.
    pub file: &'static str,
    /// The TOML text.
    pub text: &'static str,
}

/// Every chapter scenario written so far, in journey order.
pub const CHAPTERS: &[Chapter] = &[
    Chapter {
        number: 1,
        file: "01-single-server.toml",
        text: include_str!("../../scenarios/01-single-server.toml"),
    },
    Chapter {
        number: 3,
        file: "03-vertical-scaling.toml",
        text: include_str!("../../scenarios/03-vertical-scaling.toml"),
    },
];

/// The embedded chapter `n`, if there is one.
pub fn chapter(n: u32) -> Option<&'static Chapter> {
    CHAPTERS.iter().find(|c| c.number == n)
}
