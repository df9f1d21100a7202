//! A rule pack: `pack.toml` (version, escalation thresholds, view settings, default subsidy
//! standards) and one TOML file per rule. Loading checks everything and reports
//! [`Diagnostic`]s with file, line and column.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use std::ops::Range;

use subsidy_model::vocab::{Category, EntityKind, Recover, Role, RuleStatus, Severity, Vocab};
use toml::Spanned;

pub use crate::diagnostic::Diagnostic;
use crate::diagnostic::{did_you_mean, string_start};
use crate::entitlement::Standard;
use crate::expr::{self, ParamValue, Scope, Ty};
use crate::rule::{self, Check, CheckFile, Flag, Number, NumberOrParam, Rule, RuleDocs, RuleFile};

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
    /// the effectiveness scorecard's settings, read by the scoring crate's own struct
    #[serde(default)]
    effectiveness: toml::Table,
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
    /// the `[effectiveness]` section as written (the scorecard reads it into its own settings)
    pub effectiveness: toml::Table,
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
                .filter(|r| r.status == RuleStatus::Preview)
                .map(|r| r.id.clone())
                .collect();
            if !left.is_empty() {
                warnings.push(format!(
                    "preview rules not run (pass --preview to run them): {}",
                    left.join(", ")
                ));
            }
            self.rules.retain(|r| r.status != RuleStatus::Preview);
        }
        for r in self
            .rules
            .iter()
            .filter(|r| r.status == RuleStatus::Deprecated)
        {
            warnings.push(format!(
                "rule {} `{}` is deprecated: it still runs, and will be removed",
                r.id, r.name
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
        Err(e) => Err(vec![Diagnostic::at(
            "pack.toml",
            "",
            0..0,
            format!("the view schemas could not be built: {e}"),
        )]),
    }
}

/// A TOML parse error as a diagnostic: serde's "unknown field/variant `x`, expected …" becomes
/// the message "unknown field `x`" and a did-you-mean over the names it lists.
fn toml_error(path: &str, src: &str, e: &toml::de::Error) -> Diagnostic {
    let span = e.span().unwrap_or(0..0);
    let text = e.message().trim();
    for kind in ["unknown field", "unknown variant"] {
        if let Some(rest) = text.strip_prefix(kind).map(str::trim_start)
            && let Some(name) = rest.strip_prefix('`').and_then(|r| r.split('`').next())
        {
            let expected: Vec<&str> = rest
                .split_once("expected")
                .map(|(_, list)| list.split('`').skip(1).step_by(2).collect())
                .unwrap_or_default();
            let help = did_you_mean(name, expected.iter().copied()).or_else(|| {
                (!expected.is_empty()).then(|| format!("expected one of {}", expected.join(", ")))
            });
            return Diagnostic::at(path, src, span, format!("{kind} `{name}`")).with_help(help);
        }
    }
    Diagnostic::at(path, src, span, text.to_string())
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
        return Err(vec![Diagnostic::at(
            "pack.toml",
            "",
            0..0,
            "the pack has no pack.toml",
        )]);
    };
    let pack: Option<PackFile> = match toml::from_str::<PackFile>(pack_src) {
        Ok(p) => Some(p),
        Err(e) => {
            diags.push(toml_error(pack_path, pack_src, &e));
            None
        }
    };
    let mut rules = Vec::new();
    // per rule: its file's text and the spans of its id and name
    let mut at: Vec<(&str, Range<usize>, Range<usize>)> = Vec::new();
    for (path, src) in files.iter().filter(|(p, _)| p != "pack.toml") {
        match toml::from_str::<RuleFile>(src) {
            Err(e) => diags.push(toml_error(path, src, &e)),
            Ok(f) => {
                let spans = (f.id.span(), f.name.span());
                match check_rule(path, src, f, schemas) {
                    Ok(r) => {
                        rules.push(r);
                        at.push((src.as_str(), spans.0, spans.1));
                    }
                    Err(mut d) => diags.append(&mut d),
                }
            }
        }
    }
    // unique ids (several files may hold one id for disjoint effective periods)
    let mut by_id: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in rules.iter().enumerate() {
        by_id.entry(r.id.as_str()).or_default().push(i);
    }
    for (id, rs) in &by_id {
        for (k, &a) in rs.iter().enumerate() {
            for &b in &rs[k + 1..] {
                let (ra, rb) = (&rules[a], &rules[b]);
                let overlap = ra.from <= rb.until.unwrap_or(i32::MAX)
                    && rb.from <= ra.until.unwrap_or(i32::MAX);
                if overlap {
                    diags.push(Diagnostic::at(
                        &rb.path,
                        at[b].0,
                        at[b].1.clone(),
                        format!(
                            "rule id `{id}` is also used by {} for an overlapping effective period",
                            ra.path
                        ),
                    ));
                }
            }
        }
    }
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    for (i, r) in rules.iter().enumerate() {
        if let Some(other) = names.insert(r.name.as_str(), r.id.as_str())
            && other != r.id
        {
            diags.push(Diagnostic::at(
                &r.path,
                at[i].0,
                at[i].2.clone(),
                format!("rule name `{}` is already used by {other}", r.name),
            ));
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
    rules.sort_by(|a, b| (&a.id, a.from).cmp(&(&b.id, b.from)));
    Ok(Pack {
        version: pack.version,
        sha256,
        thresholds: pack.thresholds,
        views: pack.views,
        identity: pack.identity,
        effectiveness: pack.effectiveness,
        alarms: pack.alarms,
        standards,
        rules,
    })
}

/// Collects one rule file's diagnostics.
struct Checker<'a> {
    path: &'a str,
    src: &'a str,
    d: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn err(&mut self, span: Range<usize>, message: String, help: Option<String>) {
        self.d
            .push(Diagnostic::at(self.path, self.src, span, message).with_help(help));
    }

    /// A vocabulary field, by its canonical names only.
    fn vocab<T: Vocab>(&mut self, field: &str, v: &Spanned<String>) -> Option<T> {
        let got = T::from_canonical(v.get_ref());
        if got.is_none() {
            let names = T::names();
            let help = did_you_mean(v.get_ref(), names.iter().copied())
                .or_else(|| Some(format!("expected one of {}", names.join(", "))));
            self.err(v.span(), format!("unknown {field} `{}`", v.get_ref()), help);
        }
        got
    }

    /// A Chinese text every rule carries beside its English one.
    fn chinese(&mut self, field: &str, v: &Option<Spanned<String>>, at: Range<usize>) -> String {
        match v {
            Some(v) => self.not_empty(field, v),
            None => {
                self.err(
                    at,
                    format!("`{field}` is missing: every rule says it in Chinese too"),
                    None,
                );
                String::new()
            }
        }
    }

    fn not_empty(&mut self, field: &str, v: &Spanned<String>) -> String {
        if v.get_ref().trim().is_empty() {
            self.err(
                v.span(),
                format!("`{field}` is empty: every rule documents it"),
                None,
            );
        }
        v.get_ref().clone()
    }

    fn date(&mut self, field: &str, v: &Spanned<String>) -> Option<i32> {
        let d = date_days(v.get_ref());
        if d.is_none() {
            self.err(
                v.span(),
                format!("`{field}` = `{}` is not a date YYYY-MM-DD", v.get_ref()),
                None,
            );
        }
        d
    }

    /// A column of the rule's view.
    fn column(&mut self, view: &str, schema: &BTreeMap<String, Ty>, c: &Spanned<String>) -> String {
        let name = c.get_ref();
        if !schema.contains_key(name) {
            let help = did_you_mean(name, schema.keys().map(String::as_str));
            self.err(
                c.span(),
                format!("view `{view}` has no column `{name}`"),
                help,
            );
        }
        name.clone()
    }

    /// An expression of type `want`, positioned inside its TOML string.
    fn expr(
        &mut self,
        field: &str,
        text: &Spanned<String>,
        want: Ty,
        scope: &Scope<'_>,
    ) -> Option<expr::Ast> {
        let base = string_start(self.src, &text.span());
        match expr::parse(text.get_ref()).and_then(|a| expr::check(&a, scope).map(|t| (a, t))) {
            Ok((a, t)) => {
                if t != want && !(want == Ty::Int && t == Ty::Float) {
                    self.err(
                        base..base + text.get_ref().len(),
                        format!("`{field}` must be {want}, found {t}"),
                        None,
                    );
                    return None;
                }
                Some(a)
            }
            Err(e) => {
                let at = base + e.offset;
                self.err(at..at, e.message, e.help);
                None
            }
        }
    }

    /// A number or a numeric `$parameter`.
    fn number(
        &mut self,
        field: &str,
        v: &Spanned<NumberOrParam>,
        params: &BTreeMap<String, ParamValue>,
    ) -> Option<Number> {
        match v.get_ref() {
            NumberOrParam::Int(i) => Some(Number {
                value: *i as f64,
                param: None,
            }),
            NumberOrParam::Float(x) => Some(Number {
                value: *x,
                param: None,
            }),
            NumberOrParam::Param(p) => {
                let name = p.strip_prefix('$');
                match name.and_then(|n| params.get(n)) {
                    Some(ParamValue::Int(i)) => Some(Number {
                        value: *i as f64,
                        param: name.map(str::to_string),
                    }),
                    Some(ParamValue::Float(x)) => Some(Number {
                        value: *x,
                        param: name.map(str::to_string),
                    }),
                    Some(other) => {
                        self.err(
                            v.span(),
                            format!(
                                "`{field}` must be a number, and parameter `{p}` is {}",
                                other.ty()
                            ),
                            None,
                        );
                        None
                    }
                    None => {
                        let help = name.and_then(|n| {
                            crate::suggest(n, params.keys().map(String::as_str))
                                .map(|s| format!("did you mean `${s}`?"))
                        });
                        let message = match name {
                            Some(_) => format!("unknown parameter `{p}`"),
                            None => format!(
                                "`{field}` must be a number or a `$parameter`, found text `{p}`"
                            ),
                        };
                        self.err(v.span(), message, help);
                        None
                    }
                }
            }
        }
    }
}

/// The `{placeholder}` names of a message, sorted (repeats kept).
fn placeholders(m: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = m;
    while let Some(i) = rest.find('{') {
        let Some(j) = rest[i..].find('}') else { break };
        out.push(&rest[i + 1..i + j]);
        rest = &rest[i + j + 1..];
    }
    out.sort_unstable();
    out
}

/// The family folder the rule's id names, and the file name its id and name give.
fn check_location(c: &mut Checker<'_>, f: &RuleFile) {
    let (id, name) = (f.id.get_ref(), f.name.get_ref());
    let (dir, file) = c.path.rsplit_once('/').unwrap_or(("", c.path));
    // `<id>-<name>.toml`, or `<id>-<name>.<version>.toml` for a rule's dated versions
    let want = format!("{id}-{name}.toml");
    let stem = format!("{id}-{name}.");
    if file != want && !(file.starts_with(&stem) && file.ends_with(".toml")) {
        c.err(
            f.name.span(),
            format!("the file of rule {id} `{name}` must be named `{want}`, not `{file}`"),
            Some(format!(
                "rename the file, or use `{stem}<version>.toml` for a dated version"
            )),
        );
    }
    let family = id.split_once('-').map_or("", |(a, _)| a);
    match rule::FAMILIES.iter().find(|(p, _)| *p == family) {
        Some((_, folder)) if dir.rsplit('/').next() != Some(*folder) => c.err(
            f.id.span(),
            format!("rule {id} belongs in the folder `{folder}/`, not `{dir}/`"),
            None,
        ),
        Some(_) => {}
        None => {
            let known: Vec<&str> = rule::FAMILIES.iter().map(|(p, _)| *p).collect();
            let help = did_you_mean(family, known.iter().copied())
                .or_else(|| Some(format!("the families are {}", known.join(", "))));
            c.err(f.id.span(), format!("unknown rule family `{family}`"), help);
        }
    }
}

/// The `[check]` table: the primitive, the fields it takes, its columns, expressions and numbers.
fn check_check(
    c: &mut Checker<'_>,
    f: &RuleFile,
    schema: &BTreeMap<String, Ty>,
    scope: &Scope<'_>,
    exprs: &mut BTreeMap<&'static str, expr::Ast>,
) -> Option<Check> {
    let k: &CheckFile = f.check.get_ref();
    let prim = k.primitive.get_ref().as_str();
    let Some(fields) = rule::primitive_fields(prim) else {
        c.err(
            k.primitive.span(),
            format!("unknown primitive `{prim}`"),
            did_you_mean(prim, rule::PRIMITIVES.iter().copied()).or_else(|| {
                Some(format!(
                    "the primitives are {}",
                    rule::PRIMITIVES.join(", ")
                ))
            }),
        );
        return None;
    };
    let written = k.written();
    let takes: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
    let mut ok = true;
    for (name, span) in &written {
        if !takes.contains(name) {
            c.err(
                span.clone(),
                format!("`{prim}` does not take `{name}`"),
                Some(format!("`{prim}` takes {}", takes.join(", "))),
            );
            ok = false;
        }
    }
    for (name, required) in fields {
        if *required && !written.iter().any(|(w, _)| w == name) {
            c.err(k.primitive.span(), format!("`{prim}` needs `{name}`"), None);
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    let view = f.view.get_ref().as_str();
    let col = |c: &mut Checker<'_>, v: &Option<Spanned<String>>| -> String {
        v.as_ref()
            .map(|x| c.column(view, schema, x))
            .unwrap_or_default()
    };
    let cols = |c: &mut Checker<'_>, v: &Option<Spanned<Vec<Spanned<String>>>>| -> Vec<String> {
        v.as_ref()
            .map(|xs| {
                xs.get_ref()
                    .iter()
                    .map(|x| c.column(view, schema, x))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut cond =
        |c: &mut Checker<'_>, role: &'static str, v: &Option<Spanned<String>>| -> Option<String> {
            let v = v.as_ref()?;
            if let Some(a) = c.expr(role, v, Ty::Bool, scope) {
                exprs.insert(role, a);
            }
            Some(v.get_ref().clone())
        };
    let num = |c: &mut Checker<'_>,
               field: &str,
               v: &Option<Spanned<NumberOrParam>>|
     -> Option<Number> { c.number(field, v.as_ref()?, scope.params) };
    let check = match prim {
        "filter" => Check::Filter {
            cond: cond(c, "where", &k.cond).unwrap_or_default(),
        },
        "count_per_key" => {
            let flag_text = k.flag.as_ref().expect("required");
            let flag = Flag::parse(flag_text.get_ref());
            if flag.is_none() {
                c.err(
                    flag_text.span(),
                    format!("unknown flag `{}`", flag_text.get_ref()),
                    did_you_mean(flag_text.get_ref(), Flag::NAMES.iter().copied())
                        .or_else(|| Some(format!("expected one of {}", Flag::NAMES.join(", ")))),
                );
            }
            Check::CountPerKey {
                keys: cols(c, &k.keys),
                cond: cond(c, "where", &k.cond),
                distinct: k.distinct.as_ref().map(|x| c.column(view, schema, x)),
                order_by: col(c, &k.order_by),
                min: num(c, "min", &k.min)?,
                flag: flag?,
            }
        }
        "overlap_per_key" => Check::OverlapPerKey {
            key: col(c, &k.key),
            start: col(c, &k.start),
            end: col(c, &k.end),
            differ: cols(c, &k.differ),
            cond: cond(c, "where", &k.cond),
            or_where: cond(c, "or_where", &k.or_where),
            min_overlap_minutes: num(c, "min_overlap_minutes", &k.min_overlap_minutes)?,
        },
        "sequence" => Check::Sequence {
            keys: cols(c, &k.keys),
            order_by: col(c, &k.order_by),
            rank: col(c, &k.rank),
            cond: cond(c, "where", &k.cond),
        },
        _ => Check::WindowDistinct {
            key: col(c, &k.key),
            time: col(c, &k.time),
            distinct: col(c, &k.distinct),
            window_minutes: num(c, "window_minutes", &k.window_minutes)?,
            min: num(c, "min", &k.min)?,
        },
    };
    Some(check)
}

/// Checks one rule file against the view schemas.
fn check_rule(
    path: &str,
    src: &str,
    f: RuleFile,
    schemas: &BTreeMap<String, BTreeMap<String, Ty>>,
) -> Result<Rule, Vec<Diagnostic>> {
    let mut c = Checker {
        path,
        src,
        d: Vec::new(),
    };
    let id = f.id.get_ref();
    let id_ok = id.len() >= 4
        && id.split_once('-').is_some_and(|(a, b)| {
            a.chars().all(|c| c.is_ascii_uppercase()) && b.chars().all(|c| c.is_ascii_digit())
        });
    if id_ok {
        check_location(&mut c, &f);
    } else {
        c.err(
            f.id.span(),
            format!("rule id `{id}` is not of the form FAMILY-NN"),
            Some("for example `DC-01`".into()),
        );
    }
    let name = f.name.get_ref();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        c.err(
            f.name.span(),
            format!("rule name `{name}` is not kebab-case"),
            Some("use lowercase letters, digits and `-`".into()),
        );
    }
    let category = c.vocab::<Category>("category", &f.category);
    let severity = c.vocab::<Severity>("severity", &f.severity);
    let status = c.vocab::<RuleStatus>("status", &f.status);
    let role = c.vocab::<Role>("role", &f.role);
    let entity = c.vocab::<EntityKind>("entity", &f.entity);
    let recover = c.vocab::<Recover>("recover", &f.recover);
    let docs = RuleDocs {
        what: c.not_empty("what", &f.docs.what),
        why: c.not_empty("why", &f.docs.why),
        example: c.not_empty("example", &f.docs.example),
        false_positives: c.not_empty("false_positives", &f.docs.false_positives),
        clears: c.not_empty("clears", &f.docs.clears),
        what_zh: c.chinese("what_zh", &f.docs.what_zh, f.docs.what.span()),
        why_zh: c.chinese("why_zh", &f.docs.why_zh, f.docs.why.span()),
        clears_zh: c.chinese("clears_zh", &f.docs.clears_zh, f.docs.clears.span()),
    };
    let basis = c.not_empty("basis", &f.basis);
    let title_zh = c.not_empty("title_zh", &f.title_zh);
    let title_en = c.not_empty("title_en", &f.title_en);
    let from = c.date("effective_from", &f.effective_from);
    let until = f
        .effective_until
        .as_ref()
        .map(|u| c.date("effective_until", u));
    let view = f.view.get_ref();
    let Some(schema) = schemas.get(view) else {
        let help = did_you_mean(view, schemas.keys().map(String::as_str));
        c.err(f.view.span(), format!("unknown view `{view}`"), help);
        return Err(c.d);
    };
    let mut params = BTreeMap::new();
    for (k, v) in &f.params {
        match rule::param_value(v.get_ref()) {
            Some(p) => {
                params.insert(k.clone(), p);
            }
            None => c.err(
                v.span(),
                format!("parameter `{k}` must be a number, text, true/false or a list of text"),
                None,
            ),
        }
    }
    let scope = Scope {
        columns: schema,
        params: &params,
    };
    let mut exprs = BTreeMap::new();
    let check = check_check(&mut c, &f, schema, &scope, &mut exprs);
    match (recover, &f.excess) {
        (Some(Recover::Excess), Some(x)) => {
            if let Some(a) = c.expr("excess", x, Ty::Int, &scope) {
                exprs.insert("excess", a);
            }
        }
        (Some(Recover::Excess), None) => c.err(
            f.recover.span(),
            "`recover = \"excess\"` needs an `excess` expression".into(),
            Some("add `excess = \"…\"`: the fen above what was due".into()),
        ),
        (Some(_), Some(x)) => c.err(
            x.span(),
            "`excess` is read only when `recover = \"excess\"`".into(),
            None,
        ),
        _ => {}
    }
    let evidence: Vec<String> = f
        .evidence
        .get_ref()
        .iter()
        .map(|e| c.column(view, schema, e))
        .collect();
    // `{placeholders}` of the message: columns of the view or parameters
    let message = f.message.get_ref();
    let base = string_start(src, &f.message.span());
    let mut at = 0;
    while let Some(i) = message[at..].find('{') {
        let Some(j) = message[at + i..].find('}') else {
            break;
        };
        let name = &message[at + i + 1..at + i + j];
        if name != "_other" && !params.contains_key(name) && !schema.contains_key(name) {
            let help = did_you_mean(name, schema.keys().map(String::as_str));
            let s = base + at + i;
            c.err(
                s..s + j + 1,
                format!("the message names `{{{name}}}`, which is neither a column of view `{view}` nor a parameter"),
                help,
            );
        }
        at += i + j + 1;
    }
    let message_zh = c.chinese("message_zh", &f.message_zh, f.message.span());
    if let Some(zh) = &f.message_zh {
        // `{x_zh}` (a view's Chinese text beside column `x`) stands for `{x}`
        let zh_base = string_start(src, &zh.span());
        let mut at = 0;
        while let Some(i) = message_zh[at..].find('{') {
            let Some(j) = message_zh[at + i..].find('}') else {
                break;
            };
            let name = &message_zh[at + i + 1..at + i + j];
            if name.ends_with("_zh") && !schema.contains_key(name) {
                let s = zh_base + at + i;
                c.err(
                    s..s + j + 1,
                    format!(
                        "`message_zh` names `{{{name}}}`, which is not a column of view `{view}`"
                    ),
                    did_you_mean(name, schema.keys().map(String::as_str)),
                );
            }
            at += i + j + 1;
        }
        let en = placeholders(message);
        let mut cn: Vec<&str> = placeholders(&message_zh)
            .into_iter()
            .map(|p| match p.strip_suffix("_zh") {
                Some(b) if schema.contains_key(p) => b,
                _ => p,
            })
            .collect();
        cn.sort_unstable();
        if en != cn {
            let only = |a: &[&str], b: &[&str]| -> Vec<String> {
                a.iter()
                    .filter(|x| !b.contains(x))
                    .map(|x| format!("{{{x}}}"))
                    .collect()
            };
            let (missing, extra) = (only(&en, &cn), only(&cn, &en));
            let mut what = Vec::new();
            if !missing.is_empty() {
                what.push(format!("lacks {}", missing.join(", ")));
            }
            if !extra.is_empty() {
                what.push(format!("adds {}", extra.join(", ")));
            }
            if what.is_empty() {
                what.push("repeats a placeholder a different number of times".into());
            }
            c.err(
                zh.span(),
                format!(
                    "`message_zh` must name the placeholders of `message`: it {}",
                    what.join(" and ")
                ),
                None,
            );
        }
    }
    if !c.d.is_empty() {
        return Err(c.d);
    }
    let (
        Some(category),
        Some(severity),
        Some(status),
        Some(role),
        Some(entity),
        Some(recover),
        Some(check),
        Some(from),
    ) = (
        category, severity, status, role, entity, recover, check, from,
    )
    else {
        // every `None` above raised a diagnostic
        return Err(c.d);
    };
    Ok(Rule {
        id: id.clone(),
        name: name.clone(),
        title_zh,
        title_en,
        category,
        severity,
        status,
        basis,
        role,
        effective_from: f.effective_from.get_ref().clone(),
        effective_until: f.effective_until.as_ref().map(|u| u.get_ref().clone()),
        view: view.clone(),
        entity,
        recover,
        message: message.clone(),
        message_zh,
        evidence,
        check,
        docs,
        path: path.to_string(),
        params,
        exprs,
        from,
        until: until.flatten(),
    })
}
