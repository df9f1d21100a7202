//! Identity resolution on a generated package (`subsidy-audit generate`): precision and recall
//! of the merged pairs against `labels.csv` (scenario `two_ids_one_person`: the person rows come
//! in twos, the original and the second registration), and the time to link. Ignored by default:
//!
//!   SUBSIDY_PKG=/tmp/subsidy-m cargo test -p subsidy-scoring --release --test generated -- --ignored --nocapture

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;
use subsidy_scoring::identity::{LinkConfig, resolve_with};

#[test]
#[ignore]
fn generated_package_identities() {
    let Some(dir) = std::env::var_os("SUBSIDY_PKG") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let mut r = csv::Reader::from_path(dir.join("persons.csv")).expect("persons.csv");
    let head: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let mut cols: Vec<Vec<Option<String>>> = vec![Vec::new(); head.len()];
    for row in r.records() {
        let row = row.expect("row");
        for (k, v) in row.iter().enumerate() {
            cols[k].push((!v.is_empty()).then(|| v.to_string()));
        }
    }
    let mut frame: Vec<Column> = Vec::new();
    for (name, values) in head.iter().zip(cols) {
        if name == "birth_date" {
            let days: Vec<Option<i32>> = values
                .iter()
                .map(|v| {
                    v.as_deref()
                        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                        .map(|d| {
                            (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch"))
                                .num_days() as i32
                        })
                })
                .collect();
            frame.push(
                Int32Chunked::from_iter_options("birth_date".into(), days.into_iter())
                    .into_date()
                    .into_column(),
            );
        } else {
            frame.push(Column::new(name.as_str().into(), values));
        }
    }
    let df = DataFrame::new_infer_height(frame).expect("frame");
    let cpu = || -> f64 {
        // utime + stime of this process, in seconds (Linux; 0 elsewhere)
        std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| {
                let f: Vec<&str> = s.rsplit_once(')')?.1.split_whitespace().collect();
                Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
            })
            .unwrap_or(0.0)
    };
    let (t, c0) = (std::time::Instant::now(), cpu());
    let (out, report) = resolve_with(
        &df,
        chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        &LinkConfig::default(),
    )
    .expect("resolves");
    let secs = t.elapsed().as_secs_f64();
    let cpu_secs = cpu() - c0;
    // labels.csv is written last; without it only the time is reported
    let planted: Vec<String> = csv::Reader::from_path(dir.join("labels.csv"))
        .map(|mut lr| {
            lr.records()
                .map(|x| x.expect("label"))
                .filter(|x| &x[0] == "two_ids_one_person" && &x[2] == "person")
                .map(|x| x[3].to_string())
                .collect()
        })
        .unwrap_or_default();
    let truth: BTreeSet<(String, String)> = planted
        .chunks(2)
        .filter(|c| c.len() == 2)
        .map(|c| {
            (
                c[0].clone().min(c[1].clone()),
                c[0].clone().max(c[1].clone()),
            )
        })
        .collect();
    let p = out
        .column("person_id")
        .expect("c")
        .str()
        .expect("s")
        .clone();
    let i = out
        .column("identity_id")
        .expect("c")
        .str()
        .expect("s")
        .clone();
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for k in 0..out.height() {
        groups
            .entry(i.get(k).expect("i"))
            .or_default()
            .push(p.get(k).expect("p"));
    }
    let mut predicted: BTreeSet<(String, String)> = BTreeSet::new();
    for g in groups.values() {
        for (x, a) in g.iter().enumerate() {
            for b in &g[x + 1..] {
                predicted.insert((a.min(b).to_string(), a.max(b).to_string()));
            }
        }
    }
    let tp = predicted.intersection(&truth).count() as f64;
    let precision = tp / predicted.len().max(1) as f64;
    let recall = tp / truth.len().max(1) as f64;
    eprintln!(
        "{} persons linked in {secs:.2} s wall, {cpu_secs:.2} s CPU: {} candidates, {} planted pairs, {} predicted, precision {precision:.4}, recall {recall:.4}",
        out.height(),
        report.candidates,
        truth.len(),
        predicted.len()
    );
    for r in &report.rules {
        eprintln!(
            "  {}: {} pairs, {} blocks ({} pairs) skipped",
            r.rule, r.pairs, r.blocks_skipped, r.pairs_skipped
        );
    }
    let ev = out.column("evidence").expect("c").str().expect("s").clone();
    for (a, b) in predicted.difference(&truth).take(5) {
        let k = (0..out.height()).find(|&k| p.get(k) == Some(a.as_str()));
        eprintln!(
            "  false merge {a} {b}: {}",
            k.and_then(|k| ev.get(k)).unwrap_or("")
        );
    }
    assert!(truth.is_empty() || (precision >= 0.99 && recall >= 0.99));
}
