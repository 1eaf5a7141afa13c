//! Where an application's events are and how to read them: single event-log files and Spark 3+/4 rolling folders
//! (`eventlog_v2_<app>/events_<n>_<app>[.codec]`), plain or zstd, read line by line with a bound on the line.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

/// How an event-log file is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Codec {
    /// JSON lines as they are.
    Plain,
    /// zstd frames (Spark 4's default codec).
    Zstd,
    /// A codec medic cannot read (`lz4`, `lzf`, `snappy`), named.
    Unsupported(&'static str),
}

/// The zstd frame's magic number, for files whose name does not say.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// The codec of `path`, from its name (Spark names files after their codec; a file being written ends in
/// `.inprogress`) and, for a name without one, from its first bytes.
pub(crate) fn codec(path: &Path) -> io::Result<Codec> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = name.strip_suffix(".inprogress").unwrap_or(&name);
    let extension = name.rsplit_once('.').map(|(_, ext)| ext);
    Ok(match extension {
        Some("zstd" | "zst") => Codec::Zstd,
        Some("lz4") => Codec::Unsupported("lz4"),
        Some("lzf") => Codec::Unsupported("lzf"),
        Some("snappy") => Codec::Unsupported("snappy"),
        _ => {
            let mut magic = [0u8; 4];
            let mut file = File::open(path)?;
            let read = io::Read::read(&mut file, &mut magic)?;
            if read == 4 && magic == ZSTD_MAGIC {
                Codec::Zstd
            } else {
                Codec::Plain
            }
        }
    })
}

/// The decompressed bytes of `path`, buffered.
pub(crate) fn open(path: &Path, codec: Codec) -> io::Result<Box<dyn BufRead>> {
    let file = File::open(path)?;
    Ok(match codec {
        Codec::Zstd => Box::new(BufReader::with_capacity(
            64 * 1024,
            zstd::stream::read::Decoder::new(file)?,
        )),
        Codec::Plain | Codec::Unsupported(_) => Box::new(BufReader::with_capacity(64 * 1024, file)),
    })
}

/// What [`read_line`] read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// A whole line (without its `\n`) is in the buffer.
    Whole,
    /// The line was longer than the limit: the buffer holds its first bytes, and this many bytes were skipped.
    TooLong(u64),
}

/// Reads the next line into `buf` (cleared first), keeping at most `max` bytes of it and skipping the rest, so
/// that one huge line cannot exhaust memory. `None` at the end of the input.
pub(crate) fn read_line(
    reader: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<Line>> {
    buf.clear();
    let mut skipped = 0u64;
    let mut any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        any = true;
        let newline = available.iter().position(|&b| b == b'\n');
        let chunk = &available[..newline.unwrap_or(available.len())];
        let room = max.saturating_sub(buf.len());
        let kept = chunk.len().min(room);
        buf.extend_from_slice(&chunk[..kept]);
        skipped += (chunk.len() - kept) as u64;
        let consumed = newline.map_or(available.len(), |i| i + 1);
        reader.consume(consumed);
        if newline.is_some() {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(if skipped > 0 {
        Line::TooLong(skipped)
    } else {
        Line::Whole
    }))
}

/// One application's log: its event files in order, and whether Spark was still writing it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AppLog {
    /// The files, in the order their events were written.
    pub files: Vec<PathBuf>,
    /// Whether the application had not finished (or not closed its log) when it was read.
    pub in_progress: bool,
}

/// Whether `name` is Spark's bookkeeping rather than events (checksums, hidden files).
fn ignored(name: &str) -> bool {
    name.starts_with('.') || name.ends_with(".crc")
}

/// The applications' logs at `path`: a single event-log file, a rolling folder (`eventlog_v2_*`), or a folder
/// holding either (what `spark.eventLog.dir` points at), sorted by name.
pub(crate) fn app_logs(path: &Path) -> io::Result<Vec<AppLog>> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() {
        return Ok(vec![single(path)]);
    }
    if is_rolling(path) {
        return Ok(vec![rolling(path)?]);
    }
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !ignored(&name) {
            entries.push(entry.path());
        }
    }
    entries.sort();
    let mut logs = Vec::new();
    for entry in entries {
        if entry.is_dir() {
            if is_rolling(&entry) {
                logs.push(rolling(&entry)?);
            }
        } else {
            logs.push(single(&entry));
        }
    }
    Ok(logs)
}

fn single(path: &Path) -> AppLog {
    AppLog {
        files: vec![path.to_path_buf()],
        in_progress: path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with(".inprogress")),
    }
}

fn is_rolling(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("eventlog_v2_"))
}

/// A rolling folder: `events_<n>_<app>[.codec]` files in the order of `n`, and an `appstatus_<app>` file whose
/// `.inprogress` suffix says the application is still running.
fn rolling(dir: &Path) -> io::Result<AppLog> {
    let mut events: Vec<(u64, PathBuf)> = Vec::new();
    let mut in_progress = false;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if ignored(&name) {
            continue;
        }
        if name.starts_with("appstatus_") {
            in_progress |= name.ends_with(".inprogress");
        } else if let Some(rest) = name.strip_prefix("events_") {
            let index = rest
                .split('_')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(u64::MAX);
            events.push((index, entry.path()));
        }
    }
    events.sort();
    Ok(AppLog {
        files: events.into_iter().map(|(_, path)| path).collect(),
        in_progress,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[u8], max: usize) -> Vec<(String, Line)> {
        let mut reader: Box<dyn BufRead> = Box::new(BufReader::with_capacity(3, text));
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(line) = read_line(&mut *reader, &mut buf, max).expect("in memory") {
            out.push((String::from_utf8_lossy(&buf).into_owned(), line));
        }
        out
    }

    #[test]
    fn lines_are_split_whatever_the_buffer_and_long_ones_are_cut() {
        assert_eq!(
            lines(b"ab\r\ncdefgh\n\nij", 4),
            [
                ("ab".to_owned(), Line::Whole),
                ("cdef".to_owned(), Line::TooLong(2)),
                (String::new(), Line::Whole),
                ("ij".to_owned(), Line::Whole),
            ]
        );
        assert!(lines(b"", 4).is_empty());
    }

    #[test]
    fn codecs_come_from_the_name_or_the_magic_number() {
        let dir = tempfile::tempdir().expect("temp");
        let plain = dir.path().join("local-1");
        std::fs::write(&plain, b"{}\n").expect("write");
        let unnamed = dir.path().join("local-2.inprogress");
        std::fs::write(&unnamed, ZSTD_MAGIC).expect("write");
        assert_eq!(codec(&plain).expect("read"), Codec::Plain);
        assert_eq!(codec(&unnamed).expect("read"), Codec::Zstd);
        assert_eq!(
            codec(Path::new("events_1_app.zstd.inprogress")).expect("by name"),
            Codec::Zstd
        );
        assert_eq!(
            codec(Path::new("local-3.lz4")).expect("by name"),
            Codec::Unsupported("lz4")
        );
    }
}
