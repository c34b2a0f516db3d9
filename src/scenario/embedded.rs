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

impl Chapter {
    /// Its short title, from the file's first line (`# Chapter 5 — The load balancer: …`): the
    /// words after the dash, up to a colon — "The load balancer".
    pub fn title(&self) -> &'static str {
        let first = self.text.lines().next().unwrap_or("");
        let after = first.split_once('—').map_or(first, |(_, t)| t).trim();
        after.split_once(':').map_or(after, |(t, _)| t).trim()
    }

    /// The embedded chapter numbered `n`.
    pub fn number(n: u32) -> Option<&'static Chapter> {
        CHAPTERS.iter().find(|c| c.number == n)
    }
}

macro_rules! chapter {
    ($n:expr, $file:literal) => {
        Chapter {
            number: $n,
            file: $file,
            text: include_str!(concat!("../../scenarios/", $file)),
        }
    };
}

/// Every chapter scenario written so far, in journey order.
pub const CHAPTERS: &[Chapter] = &[
    chapter!(1, "01-single-server.toml"),
    chapter!(2, "02-dns.toml"),
    chapter!(3, "03-vertical-scaling.toml"),
    chapter!(4, "04-horizontal-scaling.toml"),
    chapter!(5, "05-load-balancer.toml"),
    chapter!(6, "06-microservices.toml"),
    chapter!(7, "07-batch-jobs.toml"),
    chapter!(8, "08-queues.toml"),
    chapter!(9, "09-pub-sub.toml"),
    chapter!(10, "10-fan-out.toml"),
    chapter!(11, "11-rate-limiting.toml"),
    chapter!(12, "12-read-replicas.toml"),
    chapter!(13, "13-cache.toml"),
    chapter!(14, "14-cdn.toml"),
];

/// One embedded exercise (`scalesim new --exercise NAME`, docs/exercises.md).
#[derive(Clone, Copy, Debug)]
pub struct Exercise {
    /// Its name, as `[exercise] name` and `--exercise` write it.
    pub name: &'static str,
    /// File name under `scenarios/`.
    pub file: &'static str,
    /// The TOML text as handed out.
    pub text: &'static str,
}

impl Exercise {
    /// Its one-line summary, from the file's first line (`# Exercise shop-10k — …`): the words
    /// after the dash.
    pub fn summary(&self) -> &'static str {
        let first = self.text.lines().next().unwrap_or("");
        first.split_once('—').map_or(first, |(_, t)| t).trim()
    }
}

macro_rules! exercise {
    ($name:literal, $file:literal) => {
        Exercise {
            name: $name,
            file: $file,
            text: include_str!(concat!("../../scenarios/", $file)),
        }
    };
}

/// Every embedded exercise; the first is `new --exercise`'s default.
pub const EXERCISES: &[Exercise] = &[exercise!("shop-10k", "exercises/shop-10k.toml")];

/// The embedded exercise named `name`, if there is one.
pub fn exercise(name: &str) -> Option<&'static Exercise> {
    EXERCISES.iter().find(|e| e.name == name)
}

/// The embedded chapter `n`, if there is one.
pub fn chapter(n: u32) -> Option<&'static Chapter> {
    CHAPTERS.iter().find(|c| c.number == n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chapter_has_a_short_title() {
        assert_eq!(Chapter::number(5).unwrap().title(), "The load balancer");
        assert_eq!(
            Chapter::number(1).unwrap().title(),
            "One server runs everything"
        );
        for c in CHAPTERS {
            assert!(
                !c.title().is_empty() && !c.title().starts_with('#'),
                "{}",
                c.file
            );
        }
    }
}
