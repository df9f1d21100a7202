//! Names beside codes: an institution's name and region beside its 统一社会信用代码, a person's
//! masked name (王*伟) beside their masked ID number.

use foldhash::HashMap;

use polars::prelude::*;

use crate::i18n::{self, Lang};

/// Names of the package's institutions and persons.
#[derive(Debug, Default, Clone)]
pub struct Names {
    /// institution_id → (name, region_code)
    institutions: HashMap<String, (String, Option<String>)>,
    /// person_id → name
    persons: HashMap<String, String>,
    /// whether person names are shown unmasked
    reveal: bool,
}

/// The column as text, if the frame has it.
fn col(df: &DataFrame, c: &str) -> Option<StringChunked> {
    subsidy_model::frame::text_column(df, c).ok()
}

impl Names {
    /// From the package's `institutions` (institution_id, name, region_code) and `persons`
    /// (person_id, name) frames; a frame without those columns adds no names.
    pub fn new(institutions: &DataFrame, persons: &DataFrame, reveal: bool) -> Names {
        Names::new_for(institutions, persons, reveal, None)
    }

    /// The same, keeping persons in `only` alone (the reports name the parties and entities
    /// of findings, not a province's million trainees).
    pub fn new_for(
        institutions: &DataFrame,
        persons: &DataFrame,
        reveal: bool,
        only: Option<&foldhash::HashSet<&str>>,
    ) -> Names {
        let mut n = Names {
            reveal,
            ..Names::default()
        };
        if let (Some(id), Some(name)) = (
            col(institutions, "institution_id"),
            col(institutions, "name"),
        ) {
            let region = col(institutions, "region_code");
            for (k, (i, nm)) in id.iter().zip(name.iter()).enumerate() {
                if let (Some(i), Some(nm)) = (i, nm) {
                    let r = region.as_ref().and_then(|r| r.get(k)).map(str::to_string);
                    n.institutions.insert(i.to_string(), (nm.to_string(), r));
                }
            }
        }
        if let (Some(id), Some(name)) = (col(persons, "person_id"), col(persons, "name")) {
            for (i, nm) in id.iter().zip(name.iter()) {
                if let (Some(i), Some(nm)) = (i, nm)
                    && only.is_none_or(|o| o.contains(i))
                {
                    n.persons.insert(i.to_string(), nm.to_string());
                }
            }
        }
        n
    }

    /// The institution's name.
    pub fn institution(&self, id: &str) -> Option<&str> {
        self.institutions.get(id).map(|x| x.0.as_str())
    }

    /// The person's name, masked unless revealing.
    pub fn person(&self, id: &str) -> Option<String> {
        self.persons
            .get(id)
            .map(|n| i18n::mask_name(n, self.reveal))
    }

    /// The name of a party or entity: an institution's name, else a person's masked name.
    pub fn any(&self, id: &str) -> Option<String> {
        self.institution(id)
            .map(str::to_string)
            .or_else(|| self.person(id))
    }

    /// The GB/T 2260 code of an institution: its `region_code`, else the division digits of its
    /// credit code.
    pub fn region_code<'a>(&'a self, id: &'a str) -> Option<&'a str> {
        self.institutions
            .get(id)
            .and_then(|x| x.1.as_deref())
            .filter(|r| r.len() == 6 && r.bytes().all(|b| b.is_ascii_digit()))
            .or_else(|| i18n::credit_code_region(id))
    }

    /// An institution's region as `330106 浙江省 杭州市 西湖区` (the bare code when the
    /// division list does not know it; empty when there is none).
    pub fn region(&self, id: &str) -> String {
        self.region_code(id)
            .map(i18n::region_with_code)
            .unwrap_or_default()
    }
}

impl Names {
    /// A finding's evidence JSON as (label, value) facts in `l`: keys and codes in the reader's
    /// language, a fact given in both languages (`x` and `x_zh`) once, in the reader's, a
    /// person's masked name beside their ID and an institution's name beside its code. Values
    /// are not yet masked (the caller's masker does that). `None` when the evidence is not a
    /// JSON object.
    pub fn evidence_facts(&self, ev: &str, l: Lang) -> Option<Vec<(String, String)>> {
        let serde_json::Value::Object(m) = serde_json::from_str::<serde_json::Value>(ev).ok()?
        else {
            return None;
        };
        let shown_in_lang = |k: &str| match k.strip_suffix("_zh") {
            Some(base) if m.contains_key(base) => l == Lang::Zh,
            _ => l == Lang::En || !m.contains_key(&format!("{k}_zh")),
        };
        let mut out = Vec::with_capacity(m.len());
        for (k, v) in m.iter().filter(|(k, _)| shown_in_lang(k)) {
            let k = k
                .strip_suffix("_zh")
                .filter(|b| m.contains_key(*b))
                .unwrap_or(k);
            let shown = match v {
                serde_json::Value::Null => "—".to_string(),
                serde_json::Value::String(s) => match k {
                    "person_id" | "cert_holder" | "institution_id" | "enterprise_id"
                    | "evaluation_org_id" => match self.any(s) {
                        Some(n) => format!("{s} {n}"),
                        None => s.clone(),
                    },
                    _ => i18n::code(k, s, l).into_owned(),
                },
                serde_json::Value::Bool(b) => l
                    .t(if *b { "是" } else { "否" }, if *b { "yes" } else { "no" })
                    .to_string(),
                other => other.to_string(),
            };
            out.push((i18n::label(k, l).into_owned(), shown));
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_regions_come_from_the_package() {
        let inst = df!(
            "institution_id" => ["91330106MA2XXXXX1X", "91110105MA00000000"],
            "name" => ["杭州市西湖职业培训学校", "北京朝阳培训中心"],
            "region_code" => [None, Some("110105")],
        )
        .expect("frame");
        let persons = df!("person_id" => ["p1"], "name" => ["王小伟"]).expect("frame");
        let n = Names::new(&inst, &persons, false);
        assert_eq!(
            n.institution("91330106MA2XXXXX1X"),
            Some("杭州市西湖职业培训学校")
        );
        assert_eq!(n.person("p1").as_deref(), Some("王*伟"));
        assert_eq!(n.any("p1").as_deref(), Some("王*伟"));
        assert_eq!(n.any("nobody"), None);
        // no region_code: the credit code's division digits
        assert_eq!(
            n.region("91330106MA2XXXXX1X"),
            "330106 浙江省 杭州市 西湖区"
        );
        assert_eq!(n.region("91110105MA00000000"), "110105 北京市 朝阳区");
        assert_eq!(n.region("x"), "");
        let facts = n
            .evidence_facts(
                r#"{"person_id":"p1","entitlement_basis":"national default","entitlement_basis_zh":"全国默认","scheme":"training","ok":true}"#,
                Lang::Zh,
            )
            .expect("an object");
        assert_eq!(
            facts,
            [
                ("补贴标准依据".to_string(), "全国默认".to_string()),
                ("ok".to_string(), "是".to_string()),
                (
                    i18n::label("person_id", Lang::Zh).into_owned(),
                    "p1 王*伟".to_string()
                ),
                (
                    i18n::label("scheme", Lang::Zh).into_owned(),
                    "职业培训补贴".to_string()
                ),
            ]
        );
        let en = n
            .evidence_facts(
                r#"{"entitlement_basis":"national default","entitlement_basis_zh":"全国默认"}"#,
                Lang::En,
            )
            .expect("an object");
        assert_eq!(
            en,
            [(
                "entitlement_basis".to_string(),
                "national default".to_string()
            )]
        );
        assert_eq!(n.evidence_facts("[1]", Lang::Zh), None);
        let shown = Names::new(&inst, &persons, true);
        assert_eq!(shown.person("p1").as_deref(), Some("王小伟"));
    }
}
