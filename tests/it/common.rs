//! Helpers the modules that run the binary share: run it from the crate root, read its exit code
//! and streams, and a temp folder removed on drop.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The crate root (where the binary is run from).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary from the crate root.
pub fn scalesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the scalesim binary runs")
}

/// The exit code.
pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally, not by a signal")
}

/// Standard output, as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the exit code, showing both streams when it is wrong.
#[track_caller]
pub fn expect_code(o: &Output, want: i32) {
    assert_eq!(
        code(o),
        want,
        "exit code\n--- stdout\n{}\n--- stderr\n{}",
        stdout(o),
        stderr(o)
    );
}

/// A fresh folder under the system temp dir, named after the test and this process, removed on drop.
pub struct Tmp(pub PathBuf);

impl Tmp {
    /// A new empty folder for `test` (names must be unique across the test binary).
    pub fn new(test: &str) -> Self {
        let p = std::env::temp_dir().join(format!("scalesim-it-{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).expect("create temp dir");
        Tmp(p)
    }

    /// A path inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// A path inside it, as text.
    pub fn s(&self, name: &str) -> String {
        self.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Every file of a folder: name → bytes (to compare two reports byte for byte).
pub fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .expect("report folder")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).expect("file"),
            )
        })
        .collect()
}

/// Names in `dir` (hidden ones included), sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A GIF's width, height and number of frames (every frame decoded).
pub fn gif_frames(path: &Path) -> (u32, u32, usize) {
    let file = fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::Indexed);
    let mut dec = opts.read_info(file).expect("a GIF");
    let size = (u32::from(dec.width()), u32::from(dec.height()));
    let mut frames = 0;
    while let Some(f) = dec.read_next_frame().expect("frames decode") {
        assert!(f.width > 0 && f.height > 0);
        frames += 1;
    }
    (size.0, size.1, frames)
}
