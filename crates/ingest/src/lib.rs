//! # subsidy-ingest
//!
//! Reads an audit data package (one folder, a file per table, see `DATA_CONTRACT.md`) into one
//! typed polars frame per table, and sets aside every row it cannot use, with the reason.
//!
//! - Formats: CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM, GB18030/GBK: detected, or forced with
//!   [`EncodingChoice`]), Parquet, Arrow IPC (`.arrow`, `.ipc`, `.feather`) and one workbook
//!   `package.xlsx` with a sheet per table.
//! - Every reader feeds rows of text to one [`builder::TableBuilder`], so a value means the same
//!   whatever the format: enum aliases become canonical names, money becomes integer fen,
//!   datetimes become the UTC+8 wall clock. The canonical types are listed in
//!   [`subsidy_model::contract`].
//! - A missing table or required column is an [`IngestError`] (exit code 2) with a did-you-mean
//!   hint. A bad row becomes a [`Rejection`] (file, line, column, value, reason), and so do
//!   duplicate primary keys (the first row is kept) and orphan references (checked against the
//!   rows accepted so far, so a row that points at a rejected row is rejected too).
//! - Invalid ID numbers and credit codes are *not* rejected: they are evidence for the rules.
//!
//! ```no_run
//! let pkg = subsidy_ingest::read_package("fixtures/demo".as_ref(), &Default::default())?;
//! println!("{} claims, {} rows rejected", pkg.frame(subsidy_model::contract::Table::Claims).height(), pkg.rejected.len());
//! # Ok::<(), subsidy_ingest::IngestError>(())
//! ```

pub mod binary_reader;
pub mod builder;
pub mod cell;
pub mod csv_reader;
pub mod encoding;
mod error;
pub mod lines;
pub mod reject;
mod rows;
mod string_views;
pub mod suggest;
mod validate;
pub mod xlsx_reader;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subsidy_model::contract::{Table, TableSpec};

pub use encoding::{Encoding, EncodingChoice};
pub use error::IngestError;
pub use reject::{Reason, Rejection};

/// How to read a package.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// CSV encoding: detect, or force one.
    pub encoding: EncodingChoice,
}

/// One input file, as the manifest records it.
#[derive(Debug, Clone, Serialize)]
pub struct InputFile {
    /// The table it holds.
    pub table: &'static str,
    /// File name within the package (`package.xlsx#sheet` for a workbook sheet).
    pub file: String,
    /// `csv`, `parquet`, `ipc` or `xlsx`.
    pub format: &'static str,
    /// For CSV: the encoding it was read as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<Encoding>,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Data rows read.
    pub rows: u64,
    /// Rows accepted into the frame.
    pub accepted: u64,
    /// Rows rejected (parse faults, duplicate keys and orphans).
    pub rejected: u64,
    /// Columns in the file that the contract does not name (kept, unused by rules).
    pub extra_columns: Vec<String>,
    /// Optional contract columns the file lacks (filled with nulls; rules needing them skip).
    pub absent_columns: Vec<&'static str>,
}

/// A read package: one canonical frame per table, plus what was set aside.
#[derive(Debug)]
pub struct Package {
    /// The package folder.
    pub dir: PathBuf,
    /// One frame per table; an absent optional table is an empty frame of its schema.
    pub tables: BTreeMap<Table, DataFrame>,
    /// Tables whose file was present.
    pub present: BTreeSet<Table>,
    /// Every input file read.
    pub inputs: Vec<InputFile>,
    /// Every rejected row, by table then line.
    pub rejected: Vec<Rejection>,
    /// Files in the folder that are not tables (reported, not read).
    pub ignored_files: Vec<String>,
}

impl Package {
    /// The frame of `table` (empty for an absent optional table).
    pub fn frame(&self, table: Table) -> &DataFrame {
        &self.tables[&table]
    }

    /// Whether the package held `table` and it has column `column` filled from the file.
    pub fn has_column(&self, table: Table, column: &str) -> bool {
        self.present.contains(&table)
            && self
                .inputs
                .iter()
                .find(|i| i.table == table.name())
                .is_some_and(|i| !i.absent_columns.contains(&column))
    }

    /// Rejected rows per table and reason code.
    pub fn rejected_counts(&self) -> BTreeMap<&'static str, BTreeMap<&'static str, u64>> {
        let mut out: BTreeMap<&'static str, BTreeMap<&'static str, u64>> = BTreeMap::new();
        for r in &self.rejected {
            *out.entry(r.table)
                .or_default()
                .entry(r.reason.code())
                .or_default() += 1;
        }
        out
    }
}

enum Source {
    Csv(PathBuf),
    Binary(PathBuf, binary_reader::BinaryFormat),
    Sheet(String),
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads the package in `dir`.
pub fn read_package(dir: &Path, opts: &Options) -> Result<Package, IngestError> {
    if !dir.is_dir() {
        return Err(IngestError::NotAFolder {
            path: dir.display().to_string(),
        });
    }
    let io = |e: std::io::Error| IngestError::Io {
        file: dir.display().to_string(),
        source: e,
    };
    let started = std::time::Instant::now();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    entries.sort();

    let mut workbook: Option<xlsx_reader::Workbook> = None;
    let mut sources: BTreeMap<Table, (Source, String)> = BTreeMap::new();
    let mut ignored = Vec::new();
    let put = |t: Table,
               src: Source,
               label: String,
               sources: &mut BTreeMap<Table, (Source, String)>|
     -> Result<(), IngestError> {
        if let Some((_, first)) = sources.get(&t) {
            return Err(IngestError::AmbiguousTable {
                table: t.name(),
                first: first.clone(),
                second: label,
            });
        }
        sources.insert(t, (src, label));
        Ok(())
    };
    for p in &entries {
        let name = file_name(p);
        let lower = name.to_lowercase();
        if lower == "package.xlsx" {
            let wb = xlsx_reader::Workbook::open(p)?;
            for (norm, orig) in wb.sheets() {
                if let Some(t) = Table::from_name(&norm) {
                    put(
                        t,
                        Source::Sheet(orig.clone()),
                        format!("{name}#{orig}"),
                        &mut sources,
                    )?;
                }
            }
            workbook = Some(wb);
            continue;
        }
        let (stem, ext) = match lower.rsplit_once('.') {
            Some((s, e)) => (s.to_string(), e.to_string()),
            None => (lower.clone(), String::new()),
        };
        let table = Table::from_name(&stem);
        let src = match ext.as_str() {
            "csv" | "txt" => Some(Source::Csv(p.clone())),
            "parquet" => Some(Source::Binary(
                p.clone(),
                binary_reader::BinaryFormat::Parquet,
            )),
            "arrow" | "ipc" | "feather" => {
                Some(Source::Binary(p.clone(), binary_reader::BinaryFormat::Ipc))
            }
            _ => None,
        };
        match (table, src) {
            (Some(t), Some(src)) => put(t, src, name, &mut sources)?,
            _ => ignored.push(name),
        }
    }

    let mut pkg = Package {
        dir: dir.to_path_buf(),
        tables: BTreeMap::new(),
        present: BTreeSet::new(),
        inputs: Vec::new(),
        rejected: Vec::new(),
        ignored_files: ignored,
    };
    // the files in table order: a parent's keys are known before its children are checked
    let mut queue: Vec<(Table, Source, String)> = Vec::new();
    for table in Table::ALL {
        if let Some((src, label)) = sources.remove(&table) {
            queue.push((table, src, label));
        }
    }
    let wanted: BTreeSet<Table> = queue.iter().map(|q| q.0).collect();
    // Two stages: one thread reads (decodes, converts and hashes) the files in order, one table
    // ahead, while this one checks keys and references of the table before, whose single-threaded
    // stretches would otherwise leave a core idle. Errors are met in table order, as if read one
    // after the other; on one, the reader stops after the file in hand.
    std::thread::scope(|scope| -> Result<(), IngestError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Read, IngestError>>(0);
        let workbook = &mut workbook;
        scope.spawn(move || {
            for (table, src, label) in queue {
                let read = read_source(dir, table.spec(), src, label, opts, workbook);
                if tx.send(read).is_err() {
                    break;
                }
            }
        });
        let mut indexes: BTreeMap<Table, validate::KeyIndex> = BTreeMap::new();
        for table in Table::ALL {
            let spec = table.spec();
            if !wanted.contains(&table) {
                if table.required() {
                    return Err(missing_table(table, &pkg.ignored_files));
                }
                pkg.tables.insert(table, empty_table(spec));
                continue;
            }
            let Ok(read) = rx.recv() else {
                unreachable!("the reader sends a result for every queued table");
            };
            let Read {
                read,
                format,
                label,
                sha256,
                bytes,
                started: trace,
            } = read?;
            let builder::TableRead {
                frame,
                lines,
                rejected,
                rows,
                absent,
                extras,
                encoding,
            } = read;
            let (frame, more, index) =
                validate::keys_and_references(spec, &label, frame, &lines, &indexes)?;
            if let Some(index) = index {
                indexes.insert(table, index);
            }
            subsidy_model::trace::lap(&format!("{label} hashed and validated, total"), trace);
            let n_rej = (rejected.len() + more.len()) as u64;
            pkg.inputs.push(InputFile {
                table: table.name(),
                file: label,
                format,
                encoding,
                sha256,
                bytes,
                rows,
                accepted: frame.height() as u64,
                rejected: n_rej,
                extra_columns: extras,
                absent_columns: absent,
            });
            pkg.rejected.extend(rejected);
            pkg.rejected.extend(more);
            pkg.present.insert(table);
            pkg.tables.insert(table, frame);
        }
        drop(rx);
        Ok(())
    })?;
    pkg.rejected
        .sort_by(|a, b| (a.table, &a.file, a.line).cmp(&(b.table, &b.file, b.line)));
    subsidy_model::trace::lap("package read", started);
    Ok(pkg)
}

/// One file as the reader stage hands it on.
struct Read {
    read: builder::TableRead,
    format: &'static str,
    label: String,
    sha256: String,
    bytes: u64,
    started: std::time::Instant,
}

/// The error for a required table with no file, with a hint from the files that are no table.
fn missing_table(table: Table, ignored: &[String]) -> IngestError {
    let names: Vec<String> = ignored
        .iter()
        .map(|f| {
            f.rsplit_once('.')
                .map_or(f.clone(), |(s, _)| s.to_lowercase())
        })
        .collect();
    let hint = suggest::nearest(table.name(), names.iter().map(String::as_str))
        .and_then(|n| ignored.iter().find(|f| f.to_lowercase().starts_with(n)))
        .map(|f| format!("; did you mean to name `{f}` {}?", table.name()))
        .unwrap_or_default();
    IngestError::MissingTable {
        table: table.name(),
        hint,
    }
}

/// Reads one table's file into rows and hashes it for the manifest (on another thread while it
/// is parsed).
fn read_source(
    dir: &Path,
    spec: &'static TableSpec,
    src: Source,
    label: String,
    opts: &Options,
    workbook: &mut Option<xlsx_reader::Workbook>,
) -> Result<Read, IngestError> {
    let started = std::time::Instant::now();
    let io = |e: std::io::Error| IngestError::Io {
        file: label.clone(),
        source: e,
    };
    let (read, format, hashed) = match src {
        Source::Csv(path) => {
            let raw = FileBytes::open(&path).map_err(io)?;
            let (read, sha256) = rayon::join(
                || csv_reader::read_csv(spec, &label, &raw, opts.encoding),
                || hash_bytes(&path.display().to_string(), &raw),
            );
            (read?, "csv", Ok((sha256, raw.len() as u64)))
        }
        Source::Binary(path, fmt) => {
            let name = if fmt == binary_reader::BinaryFormat::Parquet {
                "parquet"
            } else {
                "ipc"
            };
            let (read, hashed) = rayon::join(
                || binary_reader::read_binary(spec, &label, &path, fmt),
                || hash_file(&path),
            );
            (read?, name, hashed)
        }
        Source::Sheet(sheet) => {
            let wb = workbook
                .as_mut()
                .expect("a sheet source comes from the opened workbook");
            (
                wb.read(spec, &sheet)?,
                "xlsx",
                hash_file(&dir.join("package.xlsx")),
            )
        }
    };
    subsidy_model::trace::lap(&format!("read {label}"), started);
    let (sha256, bytes) = hashed.map_err(io)?;
    Ok(Read {
        read,
        format,
        label,
        sha256,
        bytes,
        started,
    })
}

/// A file's bytes: mapped read-only (no copy out of the page cache, and no fresh memory to
/// zero), or read into memory where mapping is refused (an empty file, or a file system that
/// cannot map).
///
/// Like ripgrep and polars, we read the mapping on the understanding that nobody truncates the
/// export while it is being audited; its SHA-256 in the manifest is taken over the same bytes
/// that were parsed.
enum FileBytes {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl FileBytes {
    #[allow(unsafe_code)]
    fn open(p: &Path) -> std::io::Result<FileBytes> {
        let f = std::fs::File::open(p)?;
        let len = f.metadata()?.len();
        if len > 0 {
            // SAFETY: a read-only private mapping; see the type's note on concurrent writers.
            if let Ok(m) = unsafe { memmap2::Mmap::map(&f) } {
                let _ = m.advise(memmap2::Advice::Sequential);
                return Ok(FileBytes::Mapped(m));
            }
        }
        std::fs::read(p).map(FileBytes::Read)
    }
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Read(v) => v,
        }
    }
}

/// SHA-256 of `b`, hex; `what` names the file in the trace.
fn hash_bytes(what: &str, b: &[u8]) -> String {
    let t = std::time::Instant::now();
    let h = Sha256::digest(b);
    subsidy_model::trace::lap(&format!("  {what} hashed"), t);
    hex::encode(h)
}

/// SHA-256 of a file read by another reader (Parquet, IPC, the workbook), and its size.
fn hash_file(p: &Path) -> std::io::Result<(String, u64)> {
    let b = FileBytes::open(p)?;
    Ok((hash_bytes(&p.display().to_string(), &b), b.len() as u64))
}

/// Maps a file's header onto a table's columns: every required column must be there, no name
/// may repeat; unknown columns are kept as extras.
pub fn layout(
    spec: &TableSpec,
    file: &str,
    names: &[String],
) -> Result<builder::Layout, IngestError> {
    for (i, n) in names.iter().enumerate() {
        if n.is_empty() {
            continue;
        }
        if let Some(j) = names[i + 1..].iter().position(|m| m == n) {
            return Err(IngestError::DuplicateColumn {
                file: file.to_string(),
                column: n.clone(),
                first: i + 1,
                second: i + j + 2,
            });
        }
    }
    let mut canonical = Vec::with_capacity(spec.columns.len());
    for c in spec.columns {
        let pos = names.iter().position(|n| n == c.name);
        if pos.is_none() && c.required {
            let known: BTreeSet<&str> = spec.columns.iter().map(|c| c.name).collect();
            let unknown = names
                .iter()
                .map(String::as_str)
                .filter(|n| !known.contains(n));
            let hint = match suggest::nearest(c.name, unknown) {
                Some(s) => format!("; the file has `{s}`: did you mean `{}`?", c.name),
                None => format!("; the header has: {}", names.join(", ")),
            };
            return Err(IngestError::MissingColumn {
                file: file.to_string(),
                column: c.name,
                hint,
            });
        }
        canonical.push(pos);
    }
    let extras = names
        .iter()
        .enumerate()
        .filter(|(_, n)| !n.is_empty() && spec.column(n).is_none())
        .map(|(i, n)| (n.clone(), i))
        .collect();
    Ok(builder::Layout {
        canonical,
        extras,
        width: names.len(),
    })
}

/// An empty frame with `spec`'s canonical columns ([`subsidy_model::contract::empty_frame`]).
pub fn empty_table(spec: &TableSpec) -> DataFrame {
    subsidy_model::contract::empty_frame(spec)
}

/// Stacks chunk frames in order.
pub(crate) fn concat_frames(frames: Vec<DataFrame>) -> Result<DataFrame, IngestError> {
    let mut it = frames.into_iter();
    let Some(mut first) = it.next() else {
        return Err(IngestError::Frame(PolarsError::NoData("no chunks".into())));
    };
    // chunks are kept as they are (no copy): polars reads multi-chunk columns everywhere
    for f in it {
        first.vstack_mut_owned(f)?;
    }
    Ok(first)
}
