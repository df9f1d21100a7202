//! One CSV table file from arbitrary bytes, through the ingest crate's lowest-level table reader
//! ([`subsidy_ingest::csv_reader::read_csv_chunked`]). It must never panic.
//!
//! The first byte steers the run, the rest is the file:
//! - bits 0–3: the table (index into `Table::ALL`, modulo 13);
//! - bits 4–5: the encoding choice (0, 1 auto, 2 UTF-8, 3 GB18030);
//! - bit 6: put the table's canonical header line in front of the bytes (so that mutations are
//!   spent on rows, not on finding the required column names);
//! - bit 7: read the file a second time in chunks of a few bytes and require the same result as
//!   the default chunking (one chunk for a small file): the parallel split must never change
//!   what is read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use subsidy_ingest::EncodingChoice;
use subsidy_ingest::builder::TableRead;
use subsidy_ingest::csv_reader::read_csv_chunked;
use subsidy_model::contract::Table;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let table = Table::ALL[usize::from(sel & 0x0f) % Table::ALL.len()];
    let spec = table.spec();
    let choice = match (sel >> 4) & 3 {
        2 => EncodingChoice::Utf8,
        3 => EncodingChoice::Gb18030,
        _ => EncodingChoice::Auto,
    };
    let mut raw = Vec::with_capacity(body.len() + 256);
    if sel & 0x40 != 0 {
        let names: Vec<&str> = spec.columns.iter().map(|c| c.name).collect();
        raw.extend_from_slice(names.join(",").as_bytes());
        raw.push(b'\n');
    }
    raw.extend_from_slice(body);
    let file = format!("{}.csv", table.name());
    let whole = read_csv_chunked(spec, &file, &raw, choice, None);
    if sel & 0x80 == 0 {
        return;
    }
    let chunk = 1 + body.len() / 7;
    let split = read_csv_chunked(spec, &file, &raw, choice, Some(chunk));
    match (whole, split) {
        (Ok(a), Ok(b)) => same(&a, &b, chunk),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!(
            "chunks of {chunk} bytes change the outcome: {:?} vs {:?}",
            a.map(|r| r.rows),
            b.map(|r| r.rows)
        ),
    }
});

fn same(a: &TableRead, b: &TableRead, chunk: usize) {
    assert_eq!(a.rows, b.rows, "rows read, chunks of {chunk} bytes");
    assert_eq!(a.rejected, b.rejected, "rejections, chunks of {chunk} bytes");
    assert!(
        a.frame.equals_missing(&b.frame),
        "accepted rows, chunks of {chunk} bytes:\n{}\n{}",
        a.frame,
        b.frame
    );
    let lines = |r: &TableRead| (0..r.lines.len()).map(|i| r.lines.get(i)).collect::<Vec<_>>();
    assert_eq!(lines(a), lines(b), "source lines, chunks of {chunk} bytes");
}
