//! Reading `labels.csv` back, typed: what a generated package planted ([`LabelSink`] writes it).
//!
//! [`LabelSink`]: crate::scenario::LabelSink

use std::path::Path;

use subsidy_model::money::parse_yuan;
use subsidy_model::vocab::{Category, EntityKind};

/// One planted fact, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planted {
    /// the scenario that planted it (one of [`crate::scenario::SCENARIOS`])
    pub scenario: &'static str,
    /// the finding category it should raise
    pub category: Category,
    /// what it is about
    pub entity_kind: EntityKind,
    /// the entity's id
    pub entity_id: String,
    /// the claim it bears on, where there is one
    pub claim_id: Option<String>,
    /// what should be recovered on that claim, fen (0: nothing)
    pub expected_recovery: i64,
}

/// Why `labels.csv` cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    /// unreadable, or not CSV
    #[error("{path}: {source}")]
    Csv {
        /// the file
        path: String,
        /// the reader's error
        source: csv::Error,
    },
    /// a required column is missing
    #[error("{path}: no column `{column}`")]
    MissingColumn {
        /// the file
        path: String,
        /// the column
        column: &'static str,
    },
    /// a cell that is not what its column holds
    #[error("{path}: line {line}, column {column}: `{value}` is not {want}")]
    BadValue {
        /// the file
        path: String,
        /// 1-based line
        line: usize,
        /// the column
        column: &'static str,
        /// the value
        value: String,
        /// what it should be
        want: &'static str,
    },
}

/// A labels file opened: its path as text, the reader, and the position of each of `columns`.
type Opened = (String, csv::Reader<std::fs::File>, Vec<usize>);

/// Opens a labels file and finds `columns` in its header (a missing one is an error).
fn open(path: &Path, columns: &[&'static str]) -> Result<Opened, LabelError> {
    let p = path.display().to_string();
    let csv_err = |source| LabelError::Csv {
        path: p.clone(),
        source,
    };
    let mut r = csv::Reader::from_path(path).map_err(csv_err)?;
    let header: Vec<String> = r
        .headers()
        .map_err(csv_err)?
        .iter()
        .map(str::to_string)
        .collect();
    let at = columns
        .iter()
        .map(|&column| {
            header
                .iter()
                .position(|h| h == column)
                .ok_or_else(|| LabelError::MissingColumn {
                    path: p.clone(),
                    column,
                })
        })
        .collect::<Result<_, _>>()?;
    Ok((p, r, at))
}

/// Reads a generated package's `labels.csv`.
pub fn read_labels(path: &Path) -> Result<Vec<Planted>, LabelError> {
    let (p, mut r, at) = open(
        path,
        &[
            "scenario",
            "category",
            "entity_kind",
            "entity_id",
            "claim_id",
            "expected_recovery",
        ],
    )?;
    let csv_err = |source| LabelError::Csv {
        path: p.clone(),
        source,
    };
    let (sc, cat, kind, ent, claim, rec) = (at[0], at[1], at[2], at[3], at[4], at[5]);
    let mut out = Vec::new();
    for (k, row) in r.records().enumerate() {
        let row = row.map_err(csv_err)?;
        let line = k + 2;
        let get = |i: usize| row.get(i).unwrap_or("").trim();
        let bad = |column, value: &str, want| LabelError::BadValue {
            path: p.clone(),
            line,
            column,
            value: value.to_string(),
            want,
        };
        let scenario = crate::scenario::scenario(get(sc))
            .map(|s| s.name)
            .ok_or_else(|| bad("scenario", get(sc), "a scenario of the generator"))?;
        let category =
            Category::parse(get(cat)).ok_or_else(|| bad("category", get(cat), "a category"))?;
        let entity_kind = EntityKind::parse(get(kind))
            .ok_or_else(|| bad("entity_kind", get(kind), "an entity kind"))?;
        let expected_recovery = match get(rec) {
            "" => 0,
            v => parse_yuan(v).map_err(|_| bad("expected_recovery", v, "an amount in yuan"))?,
        };
        out.push(Planted {
            scenario,
            category,
            entity_kind,
            entity_id: get(ent).to_string(),
            claim_id: Some(get(claim))
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            expected_recovery,
        });
    }
    Ok(out)
}

/// One programme of `labels_effectiveness.csv` (see [`crate::effectiveness`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProgrammeLabel {
    /// the training institution
    pub institution_id: String,
    /// the occupation
    pub occupation_code: String,
    /// the level
    pub level: String,
    /// `low_effectiveness`, `hard_negative_small`, `hard_negative_new` or
    /// `hard_negative_seasonal`
    pub kind: String,
}

impl ProgrammeLabel {
    /// Whether IE-01 should flag it (a `low_effectiveness` programme; the others are hard
    /// negatives).
    pub fn should_flag(&self) -> bool {
        self.kind == "low_effectiveness"
    }
}

/// Reads a generated package's `labels_effectiveness.csv`.
pub fn read_effectiveness_labels(path: &Path) -> Result<Vec<ProgrammeLabel>, LabelError> {
    let (p, mut r, at) = open(
        path,
        &["institution_id", "occupation_code", "level", "kind"],
    )?;
    let csv_err = |source| LabelError::Csv {
        path: p.clone(),
        source,
    };
    let (i, o, l, k) = (at[0], at[1], at[2], at[3]);
    let mut out = Vec::new();
    for (n, row) in r.records().enumerate() {
        let row = row.map_err(csv_err)?;
        let get = |c: usize| row.get(c).unwrap_or("").trim().to_string();
        let kind = get(k);
        if !matches!(
            kind.as_str(),
            "low_effectiveness"
                | "hard_negative_small"
                | "hard_negative_new"
                | "hard_negative_seasonal"
        ) {
            return Err(LabelError::BadValue {
                path: p.clone(),
                line: n + 2,
                column: "kind",
                value: kind,
                want: "low_effectiveness or a hard_negative_ kind",
            });
        }
        out.push(ProgrammeLabel {
            institution_id: get(i),
            occupation_code: get(o),
            level: get(l),
            kind,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_back_typed_and_bad_ones_name_line_and_column() {
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path().join("labels.csv");
        std::fs::write(
            &p,
            "scenario,category,entity_kind,entity_id,claim_id,expected_recovery\n\
             deceased_trainee,ineligible,claim,C1,C1,1200.50\n\
             invalid_uscc,institution,institution,911,,\n",
        )
        .expect("write");
        let l = read_labels(&p).expect("labels");
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].expected_recovery, 120_050);
        assert_eq!(l[0].claim_id.as_deref(), Some("C1"));
        assert_eq!(
            (l[1].entity_kind, l[1].claim_id.clone()),
            (EntityKind::Institution, None)
        );
        std::fs::write(
            &p,
            "scenario,category,entity_kind,entity_id,claim_id,expected_recovery\n\
             deceased_trainee,ineligble,claim,C1,C1,1\n",
        )
        .expect("write");
        let e = read_labels(&p).expect_err("bad category").to_string();
        assert!(
            e.ends_with("line 2, column category: `ineligble` is not a category"),
            "{e}"
        );
    }
}
