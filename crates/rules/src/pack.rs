//! A rule pack: `pack.toml` (version, escalation thresholds, view settings, default subsidy
//! standards) and one TOML file per rule. Loading checks everything and reports
//! [`Diagnostic`]s with file, line and column.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::entitlement::Standard;
use crate::expr::{self, Scope, Ty};
use crate::rule::{self, Check, Rule, RuleFile};
use crate::suggest;

/// A problem in a rule file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// file, relative to the pack
    pub path: String,
    /// 1-based line
    pub line: usize,
    /// 1-based column
    pub col: usize,
    /// what is wrong, with a suggestion where there is one
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.path, self.line, self.col, self.message
        )
    }
}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The offset of `key = ` in a TOML source (start of its value), for diagnostics.
fn key_offset(src: &str, key: &str) -> usize {
    for (i, line) in src.split_inclusive('\n').scan(0usize, |acc, l| {
        let start = *acc;
        *acc += l.len();
        Some((start, l))
    }) {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            let indent = line.len() - t.len();
            let eq = rest.find('=').unwrap_or(0);
            let after = &rest[eq + 1..];
            let ws = after.len() - after.trim_start().len();
            return i + indent + key.len() + eq + 1 + ws;
        }
    }
    0
}

/// Escalation thresholds (DOMAIN §5), kept in the pack.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// 诈骗 数额较大: deliberate fraud at or above this refers the party to the judiciary (yuan)
    pub fraud_threshold_yuan: i64,
    /// 失信: a party above this is a credit-list candidate (yuan)
    pub credit_list_threshold_yuan: i64,
    /// recover-level findings that revoke a qualification …
    pub revoke_after_findings: usize,
    /// … within this many months
    pub revoke_window_months: u32,
    /// categories counted as deliberate fraud
    pub deliberate_categories: Vec<String>,
}

/// View settings.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ViewConfig {
    /// a face check below this fails
    pub face_pass_score: f64,
    /// the highest uplift
    pub uplift_max: f64,
    /// a class without sessions: the most 学时 one day's sign-in span is credited with
    #[serde(default = "default_daily_cap")]
    pub untimetabled_daily_cap_hours: f64,
}

fn default_daily_cap() -> f64 {
    crate::views::ViewSettings::default().untimetabled_daily_cap_hours
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct StandardRow {
    region: String,
    #[serde(default)]
    scheme: String,
    #[serde(default)]
    level: String,
    amount_yuan: f64,
    uplift_by_tier: [f64; 4],
    #[serde(default)]
    valid_from: Option<String>,
    #[serde(default)]
    valid_until: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    version: String,
    thresholds: Thresholds,
    views: ViewConfig,
    #[serde(default)]
    alarms: crate::alarm::AlarmConfig,
    standards: Vec<StandardRow>,
    /// identity-resolution settings, read by the scoring crate's own struct
    #[serde(default)]
    identity: toml::Table,
}

/// A loaded, checked pack.
#[derive(Debug, Clone)]
pub struct Pack {
    /// pack version
    pub version: String,
    /// SHA-256 over every file (path and bytes, in path order)
    pub sha256: String,
    /// thresholds
    pub thresholds: Thresholds,
    /// view settings
    pub views: ViewConfig,
    /// the `[identity]` section as written (identity resolution reads it into its own settings)
    pub identity: toml::Table,
    /// the base-rate alarm's limits
    pub alarms: crate::alarm::AlarmConfig,
    /// default standards
    pub standards: Vec<Standard>,
    /// rules, by id then effective date
    pub rules: Vec<Rule>,
}

impl Pack {
    /// The pack a scan runs: `preview` rules only when `preview` is set. Returns the warnings to
    /// show: one per `deprecated` rule that runs, and one naming the preview rules left out.
    pub fn for_scan(mut self, preview: bool) -> (Pack, Vec<String>) {
        let mut warnings = Vec::new();
        if !preview {
            let left: Vec<String> = self
                .rules
                .iter()
                .filter(|r| r.file.status == "preview")
                .map(|r| r.file.id.clone())
                .collect();
            if !left.is_empty() {
                warnings.push(format!(
                    "preview rules not run (pass --preview to run them): {}",
                    left.join(", ")
                ));
            }
            self.rules.retain(|r| r.file.status != "preview");
        }
        for r in self.rules.iter().filter(|r| r.file.status == "deprecated") {
            warnings.push(format!(
                "rule {} `{}` is deprecated: it still runs, and will be removed",
                r.file.id, r.file.name
            ));
        }
        (self, warnings)
    }
}

/// Reads every `.toml` file under `dir` as (relative path, text).
pub fn read_dir(dir: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    fn walk(base: &Path, d: &Path, out: &mut Vec<(String, String)>) -> std::io::Result<()> {
        for e in std::fs::read_dir(d)? {
            let p = e?.path();
            if p.is_dir() {
                walk(base, &p, out)?;
            } else if p.extension().is_some_and(|x| x == "toml") {
                let rel = p
                    .strip_prefix(base)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&p)?));
            }
        }
        Ok(())
    }
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

fn date_days(s: &str) -> Option<i32> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(crate::entitlement::days)
}

/// Loads and checks a pack from its files against the views' column types
/// ([`crate::view_schemas`]).
pub fn load(files: &[(String, String)]) -> Result<Pack, Vec<Diagnostic>> {
    match crate::view_schemas() {
        Ok(schemas) => load_with(files, schemas),
        Err(e) => Err(vec![Diagnostic {
            path: "pack.toml".into(),
            line: 1,
            col: 1,
            message: format!("the view schemas could not be built: {e}"),
        }]),
    }
}

/// Loads and checks a pack from its files against the given view column types.
pub fn load_with(
    files: &[(String, String)],
    schemas: &BTreeMap<String, BTreeMap<String, Ty>>,
) -> Result<Pack, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut hasher = Sha256::new();
    for (p, t) in files {
        hasher.update(p.as_bytes());
        hasher.update([0]);
        hasher.update(t.as_bytes());
        hasher.update([0]);
    }
    let sha256 = hex::encode(hasher.finalize());
    let Some((pack_path, pack_src)) = files.iter().find(|(p, _)| p == "pack.toml") else {
        return Err(vec![Diagnostic {
            path: "pack.toml".into(),
            line: 1,
            col: 1,
            message: "the pack has no pack.toml".into(),
        }]);
    };
    let pack: Option<PackFile> = match toml::from_str::<PackFile>(pack_src) {
        Ok(p) => Some(p),
        Err(e) => {
            let (line, col) = line_col(pack_src, e.span().map_or(0, |s| s.start));
            diags.push(Diagnostic {
                path: pack_path.clone(),
                line,
                col,
                message: e.message().to_string(),
            });
            None
        }
    };
    let mut rules = Vec::new();
    for (path, src) in files.iter().filter(|(p, _)| p != "pack.toml") {
        match toml::from_str::<RuleFile>(src) {
            Err(e) => {
                let (line, col) = line_col(src, e.span().map_or(0, |s| s.start));
                let mut message = e.message().to_string();
                if let Some(name) = message
                    .strip_prefix("unknown variant `")
                    .and_then(|r| r.split('`').next())
                    && let Some(s) = suggest(name, rule::PRIMITIVES.iter().copied())
                {
                    message.push_str(&format!("; did you mean `{s}`?"));
                }
                if let Some(name) = message
                    .strip_prefix("unknown field `")
                    .and_then(|r| r.split('`').next())
                {
                    const FIELDS: &[&str] = &[
                        "id",
                        "name",
                        "title_zh",
                        "title_en",
                        "category",
                        "severity",
                        "status",
                        "basis",
                        "role",
                        "effective_from",
                        "effective_until",
                        "view",
                        "entity",
                        "recover",
                        "excess",
                        "message",
                        "evidence",
                        "params",
                        "check",
                        "docs",
                        "where",
                        "keys",
                        "distinct",
                        "order_by",
                        "min",
                        "flag",
                        "key",
                        "start",
                        "end",
                        "differ",
                        "min_overlap_minutes",
                        "or_where",
                        "rank",
                        "time",
                        "window_minutes",
                        "what",
                        "why",
                        "example",
                        "false_positives",
                        "clears",
                    ];
                    if let Some(s) = suggest(name, FIELDS.iter().copied()) {
                        message.push_str(&format!("; did you mean `{s}`?"));
                    }
                }
                diags.push(Diagnostic {
                    path: path.clone(),
                    line,
                    col,
                    message,
                });
            }
            Ok(f) => match check_rule(path, src, f, schemas) {
                Ok(r) => rules.push(r),
                Err(mut d) => diags.append(&mut d),
            },
        }
    }
    // unique ids (several files may hold one id for disjoint effective periods)
    let mut by_id: BTreeMap<&str, Vec<&Rule>> = BTreeMap::new();
    for r in &rules {
        by_id.entry(r.file.id.as_str()).or_default().push(r);
    }
    for (id, rs) in &by_id {
        for (i, a) in rs.iter().enumerate() {
            for b in &rs[i + 1..] {
                let overlap =
                    a.from <= b.until.unwrap_or(i32::MAX) && b.from <= a.until.unwrap_or(i32::MAX);
                if overlap {
                    let src = files
                        .iter()
                        .find(|(p, _)| p == &b.path)
                        .map_or("", |(_, s)| s.as_str());
                    let (line, col) = line_col(src, key_offset(src, "id"));
                    diags.push(Diagnostic {
                        path: b.path.clone(),
                        line,
                        col,
                        message: format!(
                            "rule id `{id}` is also used by {} for an overlapping effective period",
                            a.path
                        ),
                    });
                }
            }
        }
    }
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    for r in &rules {
        if let Some(other) = names.insert(r.file.name.as_str(), r.file.id.as_str())
            && other != r.file.id
        {
            let src = files
                .iter()
                .find(|(p, _)| p == &r.path)
                .map_or("", |(_, s)| s.as_str());
            let (line, col) = line_col(src, key_offset(src, "name"));
            diags.push(Diagnostic {
                path: r.path.clone(),
                line,
                col,
                message: format!("rule name `{}` is already used by {other}", r.file.name),
            });
        }
    }
    if !diags.is_empty() {
        diags.sort_by(|a, b| (&a.path, a.line, a.col).cmp(&(&b.path, b.line, b.col)));
        return Err(diags);
    }
    let pack = pack.expect("no diagnostics means pack.toml parsed");
    let mut standards = Vec::new();
    for s in pack.standards {
        standards.push(Standard {
            region: s.region,
            scheme: s.scheme,
            level: s.level,
            amount_fen: (s.amount_yuan * 100.0).round() as i64,
            uplift: s.uplift_by_tier,
            from: s.valid_from.as_deref().and_then(date_days),
            until: s.valid_until.as_deref().and_then(date_days),
        });
    }
    rules.sort_by(|a, b| (&a.file.id, a.from).cmp(&(&b.file.id, b.from)));
    Ok(Pack {
        version: pack.version,
        sha256,
        thresholds: pack.thresholds,
        views: pack.views,
        identity: pack.identity,
        alarms: pack.alarms,
        standards,
        rules,
    })
}

fn check_rule(
    path: &str,
    src: &str,
    f: RuleFile,
    schemas: &BTreeMap<String, BTreeMap<String, Ty>>,
) -> Result<Rule, Vec<Diagnostic>> {
    let mut d = Vec::new();
    let at = |key: &str, msg: String, d: &mut Vec<Diagnostic>| {
        let (line, col) = line_col(src, key_offset(src, key));
        d.push(Diagnostic {
            path: path.to_string(),
            line,
            col,
            message: msg,
        });
    };
    let one_of = |key: &str, v: &str, set: &[&str], d: &mut Vec<Diagnostic>| {
        if !set.contains(&v) {
            let hint = suggest(v, set.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_else(|| format!(" (expected one of {})", set.join(", ")));
            at(key, format!("unknown {key} `{v}`{hint}"), d);
        }
    };
    let id_ok = f.id.len() >= 4
        && f.id.split_once('-').is_some_and(|(a, b)| {
            a.chars().all(|c| c.is_ascii_uppercase()) && b.chars().all(|c| c.is_ascii_digit())
        });
    if !id_ok {
        at(
            "id",
            format!(
                "rule id `{}` is not of the form FAMILY-NN (e.g. DC-01)",
                f.id
            ),
            &mut d,
        );
    }
    // the file is named `<id>-<name>.toml`, in its family's folder
    if id_ok {
        let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
        // `<id>-<name>.toml`, or `<id>-<name>.<version>.toml` for a rule's dated versions
        let want = format!("{}-{}.toml", f.id, f.name);
        let stem = format!("{}-{}.", f.id, f.name);
        if file != want && !(file.starts_with(&stem) && file.ends_with(".toml")) {
            at(
                "name",
                format!(
                    "the file of rule {} `{}` must be named `{want}` (or `{stem}<version>.toml`), not `{file}`",
                    f.id, f.name
                ),
                &mut d,
            );
        }
        let family = f.id.split_once('-').map_or("", |(a, _)| a);
        match rule::FAMILIES.iter().find(|(p, _)| *p == family) {
            Some((_, folder)) if dir.rsplit('/').next() != Some(*folder) => at(
                "id",
                format!(
                    "rule {} belongs in the folder `{folder}/`, not `{dir}/`",
                    f.id
                ),
                &mut d,
            ),
            Some(_) => {}
            None => {
                let known: Vec<&str> = rule::FAMILIES.iter().map(|(p, _)| *p).collect();
                let hint = suggest(family, known.iter().copied())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_else(|| format!(" (known: {})", known.join(", ")));
                at(
                    "id",
                    format!("unknown rule family `{family}`{hint}"),
                    &mut d,
                );
            }
        }
    }
    if f.name.is_empty()
        || !f
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        at(
            "name",
            format!("rule name `{}` is not kebab-case", f.name),
            &mut d,
        );
    }
    one_of("category", &f.category, rule::CATEGORIES, &mut d);
    one_of("severity", &f.severity, rule::SEVERITIES, &mut d);
    one_of("status", &f.status, rule::STATUSES, &mut d);
    one_of("role", &f.role, rule::ROLES, &mut d);
    one_of("entity", &f.entity, rule::ENTITIES, &mut d);
    one_of("recover", &f.recover, rule::RECOVERY, &mut d);
    for (k, v) in [
        ("what", &f.docs.what),
        ("why", &f.docs.why),
        ("example", &f.docs.example),
        ("false_positives", &f.docs.false_positives),
        ("clears", &f.docs.clears),
        ("basis", &f.basis),
        ("title_zh", &f.title_zh),
        ("title_en", &f.title_en),
    ] {
        if v.trim().is_empty() {
            at(
                k,
                format!("`{k}` is empty: every rule documents it"),
                &mut d,
            );
        }
    }
    let from = date_days(&f.effective_from);
    if from.is_none() {
        at(
            "effective_from",
            format!("`{}` is not a date YYYY-MM-DD", f.effective_from),
            &mut d,
        );
    }
    let until = f.effective_until.as_deref().map(date_days);
    if until == Some(None) {
        at("effective_until", "not a date YYYY-MM-DD".into(), &mut d);
    }
    let Some(schema) = schemas.get(&f.view) else {
        let hint = suggest(&f.view, schemas.keys().map(String::as_str))
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        at("view", format!("unknown view `{}`{hint}", f.view), &mut d);
        return Err(d);
    };
    let mut params = BTreeMap::new();
    for (k, v) in &f.params {
        match rule::param_value(v) {
            Some(p) => {
                params.insert(k.clone(), p);
            }
            None => at(
                k,
                format!("parameter `{k}` must be a number, text, boolean or list of text"),
                &mut d,
            ),
        }
    }
    let scope = Scope {
        columns: schema,
        params: &params,
    };
    let mut exprs = BTreeMap::new();
    let mut expr_at =
        |role: &'static str, key: &str, text: &str, want: Option<Ty>, d: &mut Vec<Diagnostic>| {
            let base = src.find(text).unwrap_or_else(|| key_offset(src, key));
            match expr::parse(text).and_then(|a| expr::check(&a, &scope).map(|t| (a, t))) {
                Ok((a, t)) => {
                    if let Some(w) = want
                        && t != w
                        && !(w == Ty::Int && t == Ty::Float)
                    {
                        let (line, col) = line_col(src, base);
                        d.push(Diagnostic {
                            path: path.to_string(),
                            line,
                            col,
                            message: format!("`{key}` must be {w:?}, found {t:?}"),
                        });
                        return;
                    }
                    exprs.insert(role, a);
                }
                Err(e) => {
                    let (line, col) = line_col(src, base + e.offset);
                    d.push(Diagnostic {
                        path: path.to_string(),
                        line,
                        col,
                        message: e.message,
                    });
                }
            }
        };
    let col_ok = |key: &str, c: &str, d: &mut Vec<Diagnostic>| {
        if !schema.contains_key(c) {
            let hint = suggest(c, schema.keys().map(String::as_str))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            at(
                key,
                format!("view `{}` has no column `{c}`{hint}", f.view),
                d,
            );
        }
    };
    let num_ok = |key: &str, v: &toml::Value, d: &mut Vec<Diagnostic>| match v {
        toml::Value::Integer(_) | toml::Value::Float(_) => {}
        toml::Value::String(s)
            if s.strip_prefix('$').is_some_and(|p| {
                matches!(
                    params.get(p),
                    Some(crate::expr::ParamValue::Int(_) | crate::expr::ParamValue::Float(_))
                )
            }) => {}
        other => at(
            key,
            format!("`{key}` must be a number or a numeric `$parameter`, found {other}"),
            d,
        ),
    };
    match &f.check {
        Check::Filter { cond } => expr_at("where", "where", cond, Some(Ty::Bool), &mut d),
        Check::CountPerKey {
            keys,
            cond,
            distinct,
            order_by,
            min,
            flag,
        } => {
            for k in keys {
                col_ok("keys", k, &mut d);
            }
            if let Some(c) = cond {
                expr_at("where", "where", c, Some(Ty::Bool), &mut d);
            }
            if let Some(x) = distinct {
                col_ok("distinct", x, &mut d);
            }
            col_ok("order_by", order_by, &mut d);
            num_ok("min", min, &mut d);
            if !["all", "after_first", "beyond"].contains(&flag.as_str()) {
                let hint = suggest(flag, ["all", "after_first", "beyond"])
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                at(
                    "flag",
                    format!("unknown flag `{flag}` (all, after_first, beyond){hint}"),
                    &mut d,
                );
            }
        }
        Check::OverlapPerKey {
            key,
            start,
            end,
            differ,
            min_overlap_minutes,
            cond,
            or_where,
        } => {
            for (k, c) in [("key", key), ("start", start), ("end", end)] {
                col_ok(k, c, &mut d);
            }
            for c in differ {
                col_ok("differ", c, &mut d);
            }
            num_ok("min_overlap_minutes", min_overlap_minutes, &mut d);
            if let Some(c) = cond {
                expr_at("where", "where", c, Some(Ty::Bool), &mut d);
            }
            if let Some(c) = or_where {
                expr_at("or_where", "or_where", c, Some(Ty::Bool), &mut d);
            }
        }
        Check::Sequence {
            keys,
            order_by,
            rank,
            cond,
        } => {
            for k in keys {
                col_ok("keys", k, &mut d);
            }
            col_ok("order_by", order_by, &mut d);
            col_ok("rank", rank, &mut d);
            if let Some(c) = cond {
                expr_at("where", "where", c, Some(Ty::Bool), &mut d);
            }
        }
        Check::WindowDistinct {
            key,
            time,
            distinct,
            window_minutes,
            min,
        } => {
            for (k, c) in [("key", key), ("time", time), ("distinct", distinct)] {
                col_ok(k, c, &mut d);
            }
            num_ok("window_minutes", window_minutes, &mut d);
            num_ok("min", min, &mut d);
        }
    }
    if f.recover == "excess" {
        match &f.excess {
            Some(x) => expr_at("excess", "excess", x, Some(Ty::Int), &mut d),
            None => at(
                "recover",
                "`recover = \"excess\"` needs an `excess` expression".into(),
                &mut d,
            ),
        }
    }
    for e in &f.evidence {
        col_ok("evidence", e, &mut d);
    }
    let mut rest = f.message.as_str();
    while let Some(i) = rest.find('{') {
        let Some(j) = rest[i..].find('}') else { break };
        let name = &rest[i + 1..i + j];
        if name != "_other" && !params.contains_key(name) {
            col_ok("message", name, &mut d);
        }
        rest = &rest[i + j + 1..];
    }
    if !d.is_empty() {
        return Err(d);
    }
    Ok(Rule {
        path: path.to_string(),
        params,
        exprs,
        from: from.unwrap_or(0),
        until: until.flatten(),
        file: f,
    })
}

/// Resolves a numeric check field (a number or `$param`).
pub fn number(v: &toml::Value, params: &BTreeMap<String, crate::expr::ParamValue>) -> f64 {
    match v {
        toml::Value::Integer(i) => *i as f64,
        toml::Value::Float(f) => *f,
        toml::Value::String(s) => match s.strip_prefix('$').and_then(|p| params.get(p)) {
            Some(crate::expr::ParamValue::Int(i)) => *i as f64,
            Some(crate::expr::ParamValue::Float(f)) => *f,
            _ => f64::NAN,
        },
        _ => f64::NAN,
    }
}
