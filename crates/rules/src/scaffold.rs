//! `rules new`: the skeleton of a new rule (its TOML file, with every field and docs heading) and
//! of its hand-made fixture (the contract's tables, empty, a `cases.csv` and a README). The rule
//! starts as `preview`: scans leave it out until it is promoted to `stable`.

use subsidy_model::contract::Table;

use crate::catalog;
use crate::rule::FAMILIES;

/// Why a skeleton cannot be written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScaffoldError {
    /// the id is not FAMILY-NN
    #[error("rule id `{0}` is not of the form FAMILY-NN (e.g. DC-10)")]
    BadId(String),
    /// the id's prefix is no family, or disagrees with `--family`
    #[error("rule family `{given}`: {why}")]
    Family {
        /// the family asked for
        given: String,
        /// what is wrong, with the known families
        why: String,
    },
    /// the name is not kebab-case
    #[error("rule name `{0}` is not kebab-case (lower-case words joined by `-`)")]
    BadName(String),
    /// no such view
    #[error("unknown view `{given}`{hint}")]
    UnknownView {
        /// the view asked for
        given: String,
        /// did-you-mean, or the known views
        hint: String,
    },
}

/// A new rule's files: where each goes (relative to the pack folder and to the fixtures folder)
/// and what it holds.
#[derive(Debug, Clone)]
pub struct Skeleton {
    /// `<family folder>/<ID>-<name>.toml`, under the pack folder
    pub rule_path: String,
    /// the rule file
    pub rule_text: String,
    /// `(path under fixtures/rules/<ID>/, text)`: the hand-made package's files
    pub fixture_files: Vec<(String, String)>,
}

/// The entity a finding of a rule over `view` is about, as the shipped rules use them.
fn entity_of(view: &str) -> &'static str {
    match view {
        "class" => "class",
        "evaluation" => "evaluation",
        "institution" | "enterprise_funds" => "institution",
        "presence" | "person" => "person",
        "signin" => "device",
        "teaching" => "teacher",
        _ => "claim",
    }
}

/// The skeleton of rule `id` named `name` over `view`; `family`, when given, must be the id's.
pub fn skeleton(
    id: &str,
    name: &str,
    family: Option<&str>,
    view: &str,
) -> Result<Skeleton, ScaffoldError> {
    let Some((prefix, num)) = id.split_once('-') else {
        return Err(ScaffoldError::BadId(id.into()));
    };
    if prefix.is_empty()
        || num.is_empty()
        || !prefix.chars().all(|c| c.is_ascii_uppercase())
        || !num.chars().all(|c| c.is_ascii_digit())
    {
        return Err(ScaffoldError::BadId(id.into()));
    }
    let known: Vec<String> = FAMILIES.iter().map(|(p, f)| format!("{p} ({f})")).collect();
    let folder = match FAMILIES.iter().find(|(p, _)| *p == prefix) {
        Some((_, f)) => *f,
        None => {
            return Err(ScaffoldError::Family {
                given: prefix.into(),
                why: format!("no such family; known: {}", known.join(", ")),
            });
        }
    };
    if let Some(given) = family
        && given != prefix
        && given != folder
    {
        return Err(ScaffoldError::Family {
            given: given.into(),
            why: format!("the id {id} is of family {prefix} ({folder})"),
        });
    }
    if name.is_empty()
        || name.starts_with('-')
        || name.ends_with('-')
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(ScaffoldError::BadName(name.into()));
    }
    let Some(decl) = catalog::view(view) else {
        let hint = crate::suggest(view, catalog::names())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_else(|| {
                format!(
                    " (views: {})",
                    catalog::names().collect::<Vec<_>>().join(", ")
                )
            });
        return Err(ScaffoldError::UnknownView {
            given: view.into(),
            hint,
        });
    };
    let entity = entity_of(view);
    let key = decl
        .columns
        .iter()
        .find(|c| c.name.ends_with("_id"))
        .map_or("entity", |c| c.name);
    let rule_text = format!(
        r#"# {id} — TODO 中文标题 / TODO English title
id = "{id}"
name = "{name}"
title_zh = "TODO 中文标题"
title_en = "TODO English title"
category = "fake_training"
severity = "medium"
# preview: scans leave the rule out until --preview, or until it is promoted to stable
status = "preview"
basis = "TODO: the clause, notice or case the rule enforces"
role = "training_institution"
effective_from = "2019-01-01"
view = "{view}"
entity = "{entity}"
recover = "none"
message = "TODO: one sentence a reviewer understands, naming {{{key}}}; indicators consistent with …"
message_zh = "TODO：同一句话的中文，占位符相同：{{{key}}}；存在……的疑点。"
evidence = ["{key}"]

[params]

[check]
primitive = "filter"
# the columns of view `{view}`: subsidy-audit rules views
where = "false"

[docs]
what = "TODO: what the rule flags, exactly."
what_zh = "TODO：规则标记什么，准确地说。"
why = "TODO: why that breaks the rules in force."
why_zh = "TODO：为何违反现行规定。"
example = "TODO: one flagged case."
false_positives = "TODO: the honest cases that look alike."
clears = "TODO: the evidence that clears a finding."
clears_zh = "TODO：可据以排除疑点的材料。"
"#
    );
    let mut fixture_files = Vec::new();
    for t in Table::ALL {
        if t.required() {
            let header: Vec<&str> = t.spec().columns.iter().map(|c| c.name).collect();
            fixture_files.push((
                format!("package/{}.csv", t.name()),
                format!("{}\n", header.join(",")),
            ));
        }
    }
    fixture_files.push(("package/cases.csv".into(), "id,expect,why\n".into()));
    fixture_files.push((
        "package/README.md".into(),
        format!(
            "# {id} — hand-made package\n\n\
             Written by hand in the contract's layout (DATA_CONTRACT.md): a few rows the rule must\n\
             flag and a few look-alikes it must not. `cases.csv` lists them (`id,expect,why`, expect\n\
             `flag` or `clean`; an id is a finding's entity or one of its claims). Optional tables\n\
             go beside the required ones. `subsidy-audit rules test --only {id} --bless` then writes\n\
             `../snapshot.csv`, the rule's exact findings.\n"
        ),
    ));
    Ok(Skeleton {
        rule_path: format!("{folder}/{id}-{name}.toml"),
        rule_text,
        fixture_files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skeleton_names_its_file_by_family_id_and_name() {
        let s = skeleton("TP-11", "night-sessions", Some("process"), "claim").expect("skeleton");
        assert_eq!(s.rule_path, "process/TP-11-night-sessions.toml");
        assert!(s.rule_text.contains("status = \"preview\""));
        assert!(s.rule_text.contains("entity = \"claim\""));
        assert!(
            s.fixture_files
                .iter()
                .any(|(p, _)| p == "package/cases.csv")
        );
        assert!(
            s.fixture_files
                .iter()
                .any(|(p, t)| p == "package/claims.csv" && t.starts_with("claim_id,"))
        );
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        assert_eq!(
            skeleton("TP11", "x", None, "claim").expect_err("refused"),
            ScaffoldError::BadId("TP11".into())
        );
        assert!(matches!(
            skeleton("TP-11", "x", Some("claims"), "claim"),
            Err(ScaffoldError::Family { .. })
        ));
        assert_eq!(
            skeleton("TP-11", "Night", None, "claim").expect_err("refused"),
            ScaffoldError::BadName("Night".into())
        );
        assert_eq!(
            skeleton("TP-11", "night", None, "clam")
                .expect_err("refused")
                .to_string(),
            "unknown view `clam`; did you mean `claim`?"
        );
    }
}
