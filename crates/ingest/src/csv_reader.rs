//! CSV reading: decode, split the data into quote-safe chunks at line ends, and parse the chunks
//! in parallel, each into its own [`TableBuilder`].

use polars::prelude::*;
use rayon::prelude::*;
use subsidy_model::contract::TableSpec;

use crate::builder::{Layout, TableBuilder, TableRead};
use crate::encoding::{Decoded, EncodingChoice, decode};
use crate::error::IngestError;
use crate::lines::Lines;
use crate::reject::{Reason, Rejection};

/// Reads one CSV file's bytes as table `spec`.
///
/// This is the lowest-level entry point for one table: `file` is the name rejections and errors
/// carry, `raw` the file's bytes as found on disk. It never panics on bad input: an unusable
/// header is an [`IngestError`], a bad row a [`Rejection`] in [`TableRead::rejected`].
pub fn read_csv(
    spec: &TableSpec,
    file: &str,
    raw: &[u8],
    choice: EncodingChoice,
) -> Result<TableRead, IngestError> {
    read_csv_chunked(spec, file, raw, choice, None)
}

/// [`read_csv`] with the size of the chunks parsed in parallel forced to about `chunk_bytes`
/// (`None`: the size [`read_csv`] picks, at least 4 MiB). The result must not depend on it:
/// tests and the fuzz targets use small chunks to check that on small files.
pub fn read_csv_chunked(
    spec: &TableSpec,
    file: &str,
    raw: &[u8],
    choice: EncodingChoice,
    chunk_bytes: Option<usize>,
) -> Result<TableRead, IngestError> {
    let Decoded {
        bytes,
        encoding,
        lossy,
    } = decode(raw, choice);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(IngestError::EmptyFile {
            file: file.to_string(),
        });
    }
    // the header
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(&*bytes);
    let header = rdr
        .byte_headers()
        .map_err(|e| IngestError::Header {
            file: file.to_string(),
            message: e.to_string(),
        })?
        .clone();
    let mut data_start = rdr.position().byte() as usize;
    // after a CRLF header the reader stops before the `\n`: step past line ends so that the
    // newline counts towards the header's lines
    while data_start < bytes.len() && matches!(bytes[data_start], b'\r' | b'\n') {
        data_start += 1;
    }
    let header_lines = bytecount(&bytes[..data_start], b'\n') as u64;
    let names: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            std::str::from_utf8(h)
                .map(|s| s.trim().trim_start_matches('\u{feff}').to_lowercase())
                .map_err(|_| IngestError::Header {
                    file: file.to_string(),
                    message: format!("column {} of the header is not valid text", i + 1),
                })
        })
        .collect::<Result<_, _>>()?;
    let layout = crate::layout(spec, file, &names)?;
    let sink = Sink {
        spec,
        layout: &layout,
        file,
    };

    let data = &bytes[data_start..];
    let target = chunk_bytes.map_or_else(|| chunk_target(data.len()), |n| n.max(1));
    let chunks = split_chunks(data, target);
    // line number at each chunk's start
    let mut starts = Vec::with_capacity(chunks.len());
    let mut line = header_lines + 1;
    let mut prev = 0usize;
    for &(a, _) in &chunks {
        line += bytecount(&data[prev..a], b'\n') as u64;
        starts.push(line);
        prev = a;
    }
    let mut parts: Vec<Part> = chunks
        .par_iter()
        .zip(starts.par_iter())
        .map(|(&(a, b), &first_line)| parse_chunk(&sink, &data[a..b], first_line, lossy))
        .collect();
    // The split counts quotes; a broken quote throws that count off, and a chunk after it may
    // start inside a quoted field. The chunks up to the first broken one started where a reader
    // going through the whole file would have: read the rest from there in one go, as it would.
    if let Some(k) = parts.iter().position(|p| p.broken_quote)
        && k + 1 < parts.len()
    {
        parts.truncate(k);
        parts.push(parse_chunk(&sink, &data[chunks[k].0..], starts[k], lossy));
    }
    // the text is no longer needed: free a transcoded copy before the chunks are stacked
    drop(chunks);
    drop(bytes);
    let mut frames = Vec::with_capacity(parts.len());
    let mut lines = Vec::with_capacity(parts.len());
    let mut rejected = Vec::new();
    let mut records = 0;
    for p in parts {
        frames.push(p.frame);
        lines.push(p.lines);
        rejected.extend(p.rejected);
        records += p.rows;
    }
    if frames.is_empty() {
        // header only: an empty table of the right shape
        let (df, l, _) = TableBuilder::new(spec, &layout, file, 0).finish();
        frames.push(df);
        lines.push(l);
    }
    let frame = crate::concat_frames(frames)?;
    let lines = Lines::concat(lines);
    let (absent, extras) = layout.report(spec);
    Ok(TableRead {
        frame,
        lines,
        rejected,
        rows: records,
        absent,
        extras,
        encoding: Some(encoding),
    })
}

fn chunk_target(len: usize) -> usize {
    (len / 64).max(4 << 20)
}

fn bytecount(s: &[u8], b: u8) -> usize {
    memchr::memchr_iter(b, s).count()
}

/// Splits `data` into ranges that end just after a newline lying outside any quoted field
/// (an even number of `"` before it), each about `target` bytes long.
pub fn split_chunks(data: &[u8], target: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut scanned = 0usize; // quotes counted in data[..scanned]
    let mut quotes = 0usize;
    while start < data.len() {
        let mut cand = start + target;
        if cand >= data.len() {
            out.push((start, data.len()));
            break;
        }
        let mut end = None;
        while let Some(off) = memchr::memchr(b'\n', &data[cand..]) {
            let nl = cand + off;
            quotes += bytecount(&data[scanned..nl], b'"');
            scanned = nl;
            if quotes.is_multiple_of(2) {
                end = Some(nl + 1);
                break;
            }
            cand = nl + 1;
        }
        match end {
            Some(e) if e < data.len() => {
                out.push((start, e));
                start = e;
            }
            _ => {
                out.push((start, data.len()));
                break;
            }
        }
    }
    out
}

/// One chunk of a CSV file, parsed.
struct Part {
    frame: DataFrame,
    lines: Lines,
    rejected: Vec<Rejection>,
    /// data rows read (a line swallowed by an unclosed quote counts as one)
    rows: u64,
    /// whether a record's quoting broke (the chunk split after it cannot be trusted)
    broken_quote: bool,
}

impl Part {
    fn finish(b: TableBuilder<'_>, rows: u64, broken_quote: bool) -> Part {
        let (frame, lines, rejected) = b.finish();
        Part {
            frame,
            lines,
            rejected,
            rows,
            broken_quote,
        }
    }
}

/// Where a chunk's rows go: the table, how the file's fields map onto it, and the file's name.
struct Sink<'s> {
    spec: &'s TableSpec,
    layout: &'s Layout,
    file: &'s str,
}

impl<'s> Sink<'s> {
    /// A builder for a chunk of `data` (its NUL search done once, here).
    fn builder(&self, data: &[u8]) -> TableBuilder<'s> {
        let b = TableBuilder::new(self.spec, self.layout, self.file, data.len() / 64 + 16);
        if memchr::memchr(0, data).is_none() {
            b.without_nul_bytes()
        } else {
            b
        }
    }
}

fn parse_chunk(sink: &Sink<'_>, data: &[u8], first_line: u64, lossy: bool) -> Part {
    match plain_text(data, lossy) {
        Some(text) => parse_plain_chunk(sink, text, first_line),
        None => parse_quoted_chunk(sink, data, first_line, lossy),
    }
}

/// `data` as text if the csv reader would split it exactly at each `\n` and `,`: no quote
/// character, every `\r` part of a `\r\n`, valid UTF-8, and (for a lossy transcoding) no
/// replacement character, which must be rejected field by field.
fn plain_text(data: &[u8], lossy: bool) -> Option<&str> {
    // one search for both: any quote, or a `\r` not followed by `\n`, sends the chunk on
    if memchr::memchr2_iter(b'"', b'\r', data)
        .any(|i| data[i] == b'"' || data.get(i + 1) != Some(&b'\n'))
    {
        return None;
    }
    let text = std::str::from_utf8(data).ok()?;
    if lossy && text.contains('\u{fffd}') {
        return None;
    }
    Some(text)
}

/// A chunk [`plain_text`] accepted: each line is a record (blank lines are none), its fields
/// split at commas, as the csv reader would give them, without its per-byte state machine.
fn parse_plain_chunk(sink: &Sink<'_>, text: &str, first_line: u64) -> Part {
    let mut b = sink.builder(text.as_bytes());
    let mut fields: Vec<&str> = Vec::with_capacity(sink.layout.width);
    let (mut n, mut line) = (0u64, first_line);
    // one search for both separators over the whole chunk (a search per field costs more than
    // the field); the text is cut only at ASCII bytes, so every piece is text
    let mut field_start = 0usize;
    let ends =
        memchr::memchr2_iter(b',', b'\n', text.as_bytes()).chain(std::iter::once(text.len()));
    for at in ends {
        if at < text.len() && text.as_bytes()[at] == b',' {
            fields.push(&text[field_start..at]);
            field_start = at + 1;
            continue;
        }
        // a line ends (or the text does): its last field loses the `\r` of a `\r\n`
        let last = &text[field_start..at];
        let last = last.strip_suffix('\r').unwrap_or(last);
        let blank = fields.is_empty() && last.is_empty();
        if !blank {
            fields.push(last);
            n += 1;
            b.push_row(line, &fields);
        }
        fields.clear();
        line += 1;
        field_start = at + 1;
    }
    Part::finish(b, n, false)
}

/// Any chunk, read with the csv reader: quoted fields, line breaks inside them, broken quotes.
fn parse_quoted_chunk(sink: &Sink<'_>, data: &[u8], first_line: u64, lossy: bool) -> Part {
    let mut b = sink.builder(data);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut rec = csv::ByteRecord::new();
    let mut n = 0u64;
    let mut broken_quote = false;
    // line numbers come from byte offsets: the csv reader's own count lags on CRLF files
    let (mut seen_byte, mut seen_line) = (0usize, first_line);
    let mut line_at = |byte: usize| -> u64 {
        let mut b = byte.min(data.len());
        while b < data.len() && matches!(data[b], b'\r' | b'\n') {
            b += 1;
        }
        if b >= seen_byte {
            seen_line += bytecount(&data[seen_byte..b], b'\n') as u64;
            seen_byte = b;
        }
        seen_line
    };
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                // the csv reader only fails on I/O here; record it rather than lose the rest
                let line = line_at(rec.position().map_or(data.len(), |p| p.byte() as usize));
                b.reject_row(
                    line,
                    Reason::RaggedRow,
                    format!("unreadable record: {e}"),
                    &[],
                );
                n += 1;
                break;
            }
        }
        let start = rec
            .position()
            .map_or(0, |p| p.byte() as usize)
            .min(data.len());
        let line = line_at(start);
        // the record's bytes, from its first line (blank lines before it skipped) to the start of
        // the next record
        let end = (rdr.position().byte() as usize).clamp(start, data.len());
        let first = start
            + data[start..end]
                .iter()
                .take_while(|c| matches!(c, b'\r' | b'\n'))
                .count();
        // the fast path costs one comparison: only a record that runs over more than one line
        // (or is followed by blank lines, or ends the chunk) is looked at for broken quoting
        let next = line_at(end);
        if (next > line + 1 || (end == data.len() && next > line))
            && let Some((at, to_eof)) = broken_quote_at(&rec, sink.layout.width, &data[first..end])
        {
            broken_quote = true;
            n += reject_swallowed(&mut b, &rec, at, line, &data[first..end], to_eof);
            continue;
        }
        n += 1;
        let mut fields: Vec<&str> = Vec::with_capacity(sink.layout.width);
        let mut bad: Option<usize> = None;
        for (i, f) in rec.iter().enumerate() {
            match std::str::from_utf8(f) {
                Ok(s) if !(lossy && s.contains('\u{fffd}')) => fields.push(s),
                _ => {
                    bad = Some(i);
                    break;
                }
            }
        }
        if let Some(i) = bad {
            let lossy_fields: Vec<String> = rec
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            let refs: Vec<&str> = lossy_fields.iter().map(String::as_str).collect();
            b.reject_field(line, i, Reason::InvalidEncoding, format!("field {} holds bytes that are not valid text in this file's encoding (try --encoding gb18030)", i + 1), &refs);
            continue;
        }
        b.push_row(line, &fields);
    }
    Part::finish(b, n, broken_quote)
}

/// Whether a record that holds a line break is really several rows run together by a quote that
/// never closed (or closed lines later, on another row's quote), and if so the field where the
/// quote opened, and whether that quote never closes. `raw` is the record's text in the file,
/// from its first line to the next record.
///
/// A legitimate quoted field may hold line breaks (a multi-line address). The record is broken
/// when a field holds a line break and:
/// - the record has more or fewer fields than the header (the quote opened in one column and
///   closed in another, or never); or
/// - it ends inside an open quote (the quote ran to the end of the file, or of the chunk: then the
///   chunk split was wrong); or
/// - it holds an odd number of quote characters (a quote closed on a later row's opening quote,
///   whose partner then stands alone); or
/// - a line inside a field has as many commas as a whole row (at least one): the field swallowed
///   a record.
fn broken_quote_at(rec: &csv::ByteRecord, width: usize, raw: &[u8]) -> Option<(usize, bool)> {
    let newlines = |f: &[u8]| bytecount(f, b'\n');
    // the field that swallowed most: the first with the most line breaks
    let (at, most) =
        rec.iter().map(newlines).enumerate().fold(
            (0, 0),
            |best, (i, k)| if k > best.1 { (i, k) } else { best },
        );
    if most == 0 {
        return None;
    }
    let row_commas = width.saturating_sub(1).max(1);
    let swallowed_a_row = || {
        rec.iter().any(|f| {
            f.split(|c| *c == b'\n')
                .skip(1)
                .any(|l| bytecount(l, b',') >= row_commas)
        })
    };
    let open = ends_in_open_quote(raw);
    let broken =
        rec.len() != width || open || !bytecount(raw, b'"').is_multiple_of(2) || swallowed_a_row();
    broken.then_some((at, open))
}

/// Whether the text of one record, read as the csv reader does (`,` separates, `"` quotes, `""`
/// inside quotes is a quote, a quote elsewhere is a character), ends inside a quoted field.
fn ends_in_open_quote(raw: &[u8]) -> bool {
    #[derive(PartialEq)]
    enum S {
        Start,
        Plain,
        Quoted,
        QuoteInQuoted,
    }
    let mut s = S::Start;
    for &c in raw {
        s = match (s, c) {
            (S::Quoted, b'"') => S::QuoteInQuoted,
            (S::Quoted, _) => S::Quoted,
            (S::Start, b'"') | (S::QuoteInQuoted, b'"') => S::Quoted,
            (_, b',') => S::Start,
            (_, b'\r' | b'\n') => return false,
            (_, _) => S::Plain,
        };
    }
    s == S::Quoted
}

/// Rejects every line of a record broken by the unclosed quote in field `at`: the line where the
/// record starts (`line`), the one where the quote opened, and each line it swallowed, each with
/// its own line number and its text as it stands in the file (`to_eof`: the quote never closes).
/// Blank lines in the span are no rows and are skipped. Returns the number of lines rejected.
fn reject_swallowed(
    b: &mut TableBuilder<'_>,
    rec: &csv::ByteRecord,
    at: usize,
    line: u64,
    raw: &[u8],
    to_eof: bool,
) -> u64 {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim_end_matches(['\r', '\n']);
    let before: u64 = rec
        .iter()
        .take(at)
        .map(|f| bytecount(f, b'\n') as u64)
        .sum();
    let open = line + before;
    let last = line + bytecount(text.as_bytes(), b'\n') as u64;
    let col = match b.column_name(at) {
        c if c.is_empty() => format!("{}", at + 1),
        c => c,
    };
    let eof = if to_eof {
        ", to the end of the file"
    } else {
        ""
    };
    let what = if last > open + 1 {
        format!(
            "unclosed quote opened in column {col} at line {open} swallows lines {}–{last}{eof}",
            open + 1
        )
    } else if last == open + 1 {
        format!("unclosed quote opened in column {col} at line {open} swallows line {last}{eof}")
    } else {
        format!("unclosed quote opened in column {col} at line {open} never closes{eof}")
    };
    let value = rec.get(at).map_or_else(String::new, |f| {
        let f = String::from_utf8_lossy(f);
        f.split('\n')
            .next()
            .unwrap_or("")
            .trim_end_matches('\r')
            .to_string()
    });
    let mut n = 0;
    for (l, t) in (line..).zip(text.split('\n')) {
        let t = t.trim_end_matches('\r');
        if l != line && t.trim().is_empty() {
            continue;
        }
        let message = if l == open {
            what.clone()
        } else if l < open {
            format!("record from line {line} broken: {what}")
        } else {
            format!("line {l} swallowed: {what}")
        };
        if l == open {
            b.reject_line(l, Some(at), &value, Reason::UnterminatedQuote, message, t);
        } else {
            b.reject_line(l, None, "", Reason::UnterminatedQuote, message, t);
        }
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::{
        ends_in_open_quote, parse_plain_chunk, parse_quoted_chunk, plain_text, split_chunks,
    };
    use subsidy_model::contract::Table;

    /// The line splitter must give what the csv reader gives, row for row, on any text it takes.
    #[test]
    fn the_plain_path_reads_as_the_csv_reader_does() {
        let spec = Table::Attendance.spec();
        let names: Vec<String> =
            "class_id,person_id,ts,direction,method,face_score,device_id,lat,lon,note"
                .split(',')
                .map(str::to_string)
                .collect();
        let layout = crate::layout(spec, "a.csv", &names).unwrap();
        let row = "CL1,440106197508063027,2025-07-06 08:58:35,in,face,0.852,D1,38.9,121.6,x";
        let texts = [
            format!("{row}\n{row}\n"),
            format!("{row}\r\n\r\n{row}\r\n"),
            format!("\n\n{row}\n\n{row}"),
            format!("{row}\n{row},extra\nCL1,440106197508063027\n \n{row}\n"),
            format!("{row}\nCL2,,2025-07-06 08:58:35,in,face,,D1,,,\n,,,,,,,,,\n"),
            format!("{row}\nCL2,440106197508063027,not a time,in,face,0.8,D1,38.9,121.6,\n"),
            format!(
                "{row}\nCL2,440106197508063027,2025-07-06 08:58:35,sideways,face,0.8,D1,38.9,121.6,\n"
            ),
            format!(
                "{row}\nCL2,440106197508063027,2025-07-06 08:58:35,in,face,0.8,D\0,38.9,121.6,\n"
            ),
            "\n".to_string(),
            String::new(),
        ];
        for t in &texts {
            let text = plain_text(t.as_bytes(), false).expect("no quote, no lone CR");
            let sink = super::Sink {
                spec,
                layout: &layout,
                file: "a.csv",
            };
            let a = parse_plain_chunk(&sink, text, 7);
            let b = parse_quoted_chunk(&sink, t.as_bytes(), 7, false);
            assert_eq!(a.rows, b.rows, "{t:?}");
            assert_eq!(a.frame, b.frame, "{t:?}");
            assert_eq!(a.rejected, b.rejected, "{t:?}");
            let lines = |p: &super::Part| {
                (0..p.lines.len())
                    .map(|i| p.lines.get(i))
                    .collect::<Vec<_>>()
            };
            assert_eq!(lines(&a), lines(&b), "{t:?}");
        }
        // what only the csv reader may read
        assert!(plain_text(b"a,\"b\",c\n", false).is_none());
        assert!(plain_text(b"a,b\rc\n", false).is_none());
        assert!(plain_text(b"a,\xff\n", false).is_none());
        assert!(plain_text("a,\u{fffd}\n".as_bytes(), true).is_none());
        assert!(plain_text("a,\u{fffd}\n".as_bytes(), false).is_some());
    }

    #[test]
    fn the_open_quote_state_follows_the_csv_reader() {
        assert!(ends_in_open_quote(b"a,\"b\nc"));
        assert!(ends_in_open_quote(b"\"b\n"));
        assert!(!ends_in_open_quote(b"a,\"b\nc\"\n"));
        assert!(!ends_in_open_quote(b"a,\"b\nc\""));
        // an escaped quote keeps the field open
        assert!(ends_in_open_quote(b"a,\"b\"\"\nc"));
        // a quote inside a plain field is a character; one after a closed quote too
        assert!(!ends_in_open_quote(b"a,b\"c,d\n"));
        assert!(!ends_in_open_quote(b"a,\"b\"c\",d\n"));
        assert!(ends_in_open_quote(b"a,\"b\",\"c\nd"));
    }

    #[test]
    fn chunks_never_split_a_quoted_newline() {
        let data = b"a,\"x\ny\",1\nb,c,2\nd,\"e\nf\",3\ng,h,4\n";
        let chunks = split_chunks(data, 3);
        let mut prev = 0;
        for (a, b) in &chunks {
            assert_eq!(*a, prev);
            prev = *b;
            let q = data[..*b].iter().filter(|c| **c == b'"').count();
            assert_eq!(q % 2, 0, "chunk ends inside quotes: {:?}", &data[*a..*b]);
        }
        assert_eq!(prev, data.len());
        assert!(chunks.len() >= 3, "{chunks:?}");
    }
}
