//! Single output files (`check --junit FILE`) and the rules every output path follows:
//!
//! - a **symlink** is followed to its target, and the target is replaced atomically (a temporary
//!   file beside the *target*, renamed over it), so the link itself stays a link;
//! - a **regular file** (or a new one) is written atomically the same way, keeping its permissions;
//! - a **device or pipe** (`/dev/stdout`, `/dev/null`, a FIFO) is written directly — renaming a file
//!   over `/dev/stdout` would replace the device node, not write to it; `/dev/stdout`,
//!   `/dev/stderr` and `/dev/fd/N` go to the open stream, after what was already printed;
//! - a **folder** is refused.
//!
//! Temporary files and staging folders carry the writer's process id (`.NAME.tmp-PID`,
//! `.NAME.partial-PID`, `.NAME.old-PID`); ones left by a process that no longer runs (killed
//! mid-write) are removed by the next writer in the same folder (see [`clean_stale`]).

use std::io::Write;
use std::path::{Path, PathBuf};

/// Most symlinks followed before giving up (as the kernel's `ELOOP`).
const MAX_LINKS: usize = 40;

/// Where writing to `path` really goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A regular file, existing or not, at this (symlink-free at its last part) path: write atomically.
    File(PathBuf),
    /// An already-open stream of this process: 1 stdout, 2 stderr, or another descriptor's path.
    Stream(u32, PathBuf),
    /// A device, pipe or socket: open and write in place.
    Device(PathBuf),
}

fn err(kind: std::io::ErrorKind, msg: String) -> std::io::Error {
    std::io::Error::new(kind, msg)
}

/// The descriptor number of `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N`.
fn stream_fd(p: &Path) -> Option<u32> {
    let s = p.to_str()?;
    match s {
        "/dev/stdout" => return Some(1),
        "/dev/stderr" => return Some(2),
        "/dev/stdin" => return Some(0),
        _ => {}
    }
    ["/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/"]
        .iter()
        .find_map(|pre| s.strip_prefix(pre))
        .and_then(|n| n.parse().ok())
}

/// Follows symlinks at the last part of `path` (each hop relative to the link's folder) to the
/// path a write would reach; stops at `/dev/stdout`-style descriptor paths, whose "links" name
/// open streams, not files.
pub fn follow_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        if stream_fd(&p).is_some() {
            return Ok(p);
        }
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(err(
        std::io::ErrorKind::InvalidInput,
        format!(
            "{}: more than {MAX_LINKS} symbolic links in a row (a loop?)",
            path.display()
        ),
    ))
}

/// What writing to `path` reaches, after [`follow_links`]; a folder is refused.
pub fn resolve(path: &Path) -> std::io::Result<Target> {
    let p = follow_links(path)?;
    if let Some(fd) = stream_fd(&p) {
        return Ok(Target::Stream(fd, p));
    }
    match std::fs::metadata(&p) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Target::File(p)),
        Err(e) => Err(e),
        Ok(m) if m.is_dir() => Err(err(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{} is a folder; give a file name inside it (e.g. {})",
                p.display(),
                p.join("slo.xml").display()
            ),
        )),
        Ok(m) if m.is_file() => Ok(Target::File(p)),
        Ok(_) => Ok(Target::Device(p)),
    }
}

/// Folder of a file path (`.` for a bare name).
fn folder_of(p: &Path) -> &Path {
    p.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

fn tmp_prefix(file: &Path) -> String {
    let name = file
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy().into_owned());
    format!(".{name}.tmp-")
}

fn tmp_path(file: &Path) -> PathBuf {
    folder_of(file).join(format!("{}{}", tmp_prefix(file), std::process::id()))
}

/// Checks, before any work is done, that `path` can be written: not a folder, its folder can be
/// created and written (probed with the temporary file the real write will use), a device opens.
pub fn preflight(path: &Path) -> std::io::Result<()> {
    match resolve(path)? {
        Target::Stream(..) => Ok(()),
        Target::Device(p) => std::fs::OpenOptions::new().write(true).open(p).map(drop),
        Target::File(p) => {
            let dir = folder_of(&p);
            std::fs::create_dir_all(dir)?;
            let tmp = tmp_path(&p);
            std::fs::File::create(&tmp)?;
            std::fs::remove_file(&tmp)
        }
    }
}

/// Writes `bytes` to `path` by the rules in the module docs.
pub fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match resolve(path)? {
        // A closed stream is a normal end (the reader has what it wanted), as for all output.
        Target::Stream(1, _) => {
            let mut out = std::io::stdout().lock();
            quiet_if_closed(out.write_all(bytes).and_then(|()| out.flush()))
        }
        Target::Stream(2, _) => quiet_if_closed(std::io::stderr().lock().write_all(bytes)),
        Target::Stream(_, p) => std::fs::OpenOptions::new()
            .append(true)
            .open(p)?
            .write_all(bytes),
        Target::Device(p) => std::fs::OpenOptions::new()
            .write(true)
            .open(p)?
            .write_all(bytes),
        Target::File(p) => {
            let dir = folder_of(&p);
            std::fs::create_dir_all(dir)?;
            clean_stale(dir, &[tmp_prefix(&p)]);
            let tmp = tmp_path(&p);
            let written = std::fs::write(&tmp, bytes).and_then(|()| {
                if let Ok(m) = std::fs::metadata(&p) {
                    std::fs::set_permissions(&tmp, m.permissions())?;
                }
                std::fs::rename(&tmp, &p)
            });
            if written.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            written
        }
    }
}

fn quiet_if_closed(r: std::io::Result<()>) -> std::io::Result<()> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

/// Whether process `pid` may still be running. Known only where `/proc` lists processes (Linux);
/// elsewhere every other process counts as running, so nothing of theirs is removed.
pub fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    proc.join(pid.to_string()).exists()
}

/// Removes, in `dir`, leftovers named `PREFIX<pid>` (for each prefix, e.g. `.r.partial-`,
/// `.r.old-`, `.slo.xml.tmp-`) whose process no longer runs. Best effort: a leftover that cannot
/// be removed is left alone.
pub fn clean_stale(dir: &Path, prefixes: &[String]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let pid = prefixes.iter().find_map(|pre| {
            let digits = name.strip_prefix(pre.as_str())?;
            let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
            all_digits.then(|| digits.parse::<u32>().ok()).flatten()
        });
        let Some(pid) = pid else { continue };
        if process_alive(pid) {
            continue;
        }
        let p = e.path();
        let _ = match e.file_type() {
            Ok(t) if t.is_dir() => std::fs::remove_dir_all(&p),
            _ => std::fs::remove_file(&p),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("scalesim-out-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    #[test]
    fn output_file_rules_symlink_regular_device_folder() {
        let d = tmp("rules");
        // New and existing regular files: atomic, no temporary left.
        let f = d.join("a.xml");
        write_file(&f, b"one").unwrap();
        write_file(&f, b"two").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"two");
        // A folder is refused.
        let e = write_file(&d, b"x").unwrap_err();
        assert!(e.to_string().contains("is a folder"), "{e}");
        // A device is written in place, not replaced.
        write_file(Path::new("/dev/null"), b"gone").unwrap();
        assert!(!std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_file());
        #[cfg(unix)]
        {
            use std::os::unix::fs::symlink;
            // A symlink stays a link; its target gets the content.
            let link = d.join("link.xml");
            symlink("a.xml", &link).unwrap();
            write_file(&link, b"three").unwrap();
            assert!(std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink());
            assert_eq!(std::fs::read(&f).unwrap(), b"three");
            // A dangling link creates its target.
            let dangling = d.join("dangling.xml");
            symlink("made.xml", &dangling).unwrap();
            write_file(&dangling, b"four").unwrap();
            assert_eq!(std::fs::read(d.join("made.xml")).unwrap(), b"four");
            // A loop is refused.
            symlink("loop2", d.join("loop1")).unwrap();
            symlink("loop1", d.join("loop2")).unwrap();
            assert!(write_file(&d.join("loop1"), b"x").is_err());
            // A link to /dev/null is followed to the device.
            let dn = d.join("null");
            symlink("/dev/null", &dn).unwrap();
            assert_eq!(resolve(&dn).unwrap(), Target::Device("/dev/null".into()));
        }
        assert_eq!(
            resolve(Path::new("/dev/stdout")).unwrap(),
            Target::Stream(1, "/dev/stdout".into())
        );
        let names: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(!names.iter().any(|n| n.contains(".tmp-")), "{names:?}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn stale_leftovers_of_dead_processes_are_removed_live_ones_kept() {
        let d = tmp("stale");
        // A pid above the kernel's maximum (2^22) is never running.
        let dead = 4_194_999;
        let mine = std::process::id();
        for n in [
            format!(".r.partial-{dead}"),
            format!(".r.old-{dead}"),
            format!(".r.partial-{mine}"),
        ] {
            std::fs::create_dir_all(d.join(n).join("inner")).unwrap();
        }
        std::fs::write(d.join(format!(".slo.xml.tmp-{dead}")), "x").unwrap();
        std::fs::write(d.join("keep.partial-1"), "not ours").unwrap();
        std::fs::create_dir_all(d.join(format!(".other.partial-{dead}"))).unwrap();
        let prefixes = [".r.partial-", ".r.old-", ".slo.xml.tmp-"].map(String::from);
        clean_stale(&d, &prefixes);
        let mut names: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        if Path::new("/proc/self").exists() {
            // Only this output's leftovers: another report's are its own business.
            let want = [
                format!(".other.partial-{dead}"),
                format!(".r.partial-{mine}"),
                "keep.partial-1".into(),
            ];
            assert_eq!(names, want);
        }
        let _ = std::fs::remove_dir_all(&d);
    }
}
