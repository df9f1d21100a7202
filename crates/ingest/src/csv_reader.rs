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
pub fn read_csv(
    spec: &TableSpec,
    file: &str,
    raw: Vec<u8>,
    choice: EncodingChoice,
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
        .from_reader(bytes.as_slice());
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

    let data = &bytes[data_start..];
    let chunks = split_chunks(data, chunk_target(data.len()));
    // line number at each chunk's start
    let mut starts = Vec::with_capacity(chunks.len());
    let mut line = header_lines + 1;
    let mut prev = 0usize;
    for &(a, _) in &chunks {
        line += bytecount(&data[prev..a], b'\n') as u64;
        starts.push(line);
        prev = a;
    }
    let parts: Vec<(DataFrame, Lines, Vec<Rejection>, u64)> = chunks
        .par_iter()
        .zip(starts.par_iter())
        .map(|(&(a, b), &first_line)| {
            parse_chunk(spec, &layout, file, &data[a..b], first_line, lossy)
        })
        .collect();
    // the text is no longer needed: free it before the chunks are stacked
    drop(chunks);
    drop(bytes);
    let mut frames = Vec::with_capacity(parts.len());
    let mut lines = Vec::with_capacity(parts.len());
    let mut rejected = Vec::new();
    let mut records = 0;
    for (df, l, rej, n) in parts {
        frames.push(df);
        lines.push(l);
        rejected.extend(rej);
        records += n;
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

fn parse_chunk(
    spec: &TableSpec,
    layout: &Layout,
    file: &str,
    data: &[u8],
    first_line: u64,
    lossy: bool,
) -> (DataFrame, Lines, Vec<Rejection>, u64) {
    let mut b = TableBuilder::new(spec, layout, file, data.len() / 64 + 16);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut rec = csv::ByteRecord::new();
    let mut n = 0u64;
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
        n += 1;
        let line = line_at(rec.position().map_or(0, |p| p.byte() as usize));
        let mut fields: Vec<&str> = Vec::with_capacity(layout.width);
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
        if fields.len() != layout.width && fields.iter().any(|f| f.contains('\n')) {
            let span = fields
                .iter()
                .map(|f| bytecount(f.as_bytes(), b'\n'))
                .sum::<usize>();
            let msg = format!(
                "a quoted field opened on line {line} never closes: the record runs over {} lines (to line {})",
                span + 1,
                line + span as u64
            );
            b.reject_row(line, Reason::UnterminatedQuote, msg, &fields);
            continue;
        }
        b.push_row(line, &fields);
    }
    let (df, lines, rej) = b.finish();
    (df, lines, rej, n)
}

#[cfg(test)]
mod tests {
    use super::split_chunks;

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
