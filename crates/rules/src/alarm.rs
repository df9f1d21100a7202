//! The base-rate alarm: a rule that flags more than a pack-set share of the rows it examined
//! says more about the package (a province's conventions the rule does not expect: hours in
//! minutes, another certificate numbering, a missing feed) than about fraud. The scan says so on
//! stderr, in `manifest.json` (`alarms`), on the workbook's cover and at the top of
//! report.html, before anyone acts on the findings.
//!
//! "Rows examined" is the number of rows of the rule's view in the rule's effective period (see
//! [`crate::RuleRun::examined`]): every row the rule judged, including those its own condition
//! puts out of scope (a training-claim rule examines every claim). The share is flagged rows over
//! examined rows, summed over the files of one rule id. A rule that examined fewer than
//! `min_examined` rows never alarms, so that small fixtures stay quiet.

use serde::{Deserialize, Serialize};

use crate::pack::Pack;
use crate::runner::RuleRun;

/// `[alarms]` in `pack.toml`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AlarmConfig {
    /// a rule flagging more than this share of the rows it examined raises the alarm
    pub max_flag_share: f64,
    /// rules that examined fewer rows than this never alarm
    pub min_examined: usize,
}

impl Default for AlarmConfig {
    fn default() -> AlarmConfig {
        AlarmConfig {
            max_flag_share: 0.05,
            min_examined: 1000,
        }
    }
}

/// One rule whose findings are too many to be believed as they stand.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Alarm {
    /// the rule id
    pub rule: String,
    /// rows it flagged
    pub flagged: usize,
    /// rows it examined
    pub examined: usize,
    /// flagged / examined, rounded to four decimals
    pub share: f64,
    /// what to do about it, in one sentence
    pub message: String,
    /// the same in Chinese
    pub message_zh: String,
}

/// The alarms of a run, in rule-id order.
pub fn alarms(pack: &Pack, runs: &[RuleRun]) -> Vec<Alarm> {
    let cfg = &pack.alarms;
    let mut by_id: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for r in runs.iter().filter(|r| r.skipped.is_none()) {
        let e = by_id.entry(r.id.as_str()).or_default();
        e.0 += r.flagged;
        e.1 += r.examined;
    }
    by_id
        .into_iter()
        .filter(|(_, (flagged, examined))| {
            *examined > 0
                && *examined >= cfg.min_examined
                && *flagged as f64 > cfg.max_flag_share * *examined as f64
        })
        .map(|(id, (flagged, examined))| {
            let share = flagged as f64 / examined as f64;
            let view = pack
                .rules
                .iter()
                .find(|r| r.id == id)
                .map_or(String::new(), |r| format!("{} ", r.view));
            Alarm {
                rule: id.to_string(),
                flagged,
                examined,
                share: (share * 10_000.0).round() / 10_000.0,
                message: format!(
                    "{id} flagged {:.0} % of the {examined} {view}rows it examined ({flagged}; the pack expects at most {:.0} %): check the package's conventions before acting on these findings",
                    share * 100.0,
                    cfg.max_flag_share * 100.0
                ),
                message_zh: format!(
                    "{id} 在其检查的 {examined} 行数据{}中标记了 {flagged} 行（{:.0}%，规则包预期至多 {:.0}%）：据此处理前，请先核对数据包的口径",
                    if view.is_empty() { String::new() } else { format!("（视图 {}）", view.trim()) },
                    share * 100.0,
                    cfg.max_flag_share * 100.0
                ),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, flagged: usize, examined: usize) -> RuleRun {
        RuleRun {
            id: id.into(),
            findings: flagged,
            examined,
            flagged,
            skipped: None,
        }
    }

    fn pack(edit: &dyn Fn(String) -> String) -> Pack {
        let text = edit(include_str!("../../../rules/pack.toml").to_string());
        crate::pack::load_with(&[("pack.toml".into(), text)], &Default::default()).expect("pack")
    }

    #[test]
    fn a_rule_flagging_most_rows_alarms_and_small_or_quiet_ones_do_not() {
        let shipped = pack(&|t: String| t);
        assert_eq!(shipped.alarms.max_flag_share, 0.05);
        assert_eq!(shipped.alarms.min_examined, 1000);
        let runs = [
            run("TP-01", 730, 1000),
            run("TP-02", 50, 1000),
            run("ID-01", 90, 99),
        ];
        let a = alarms(&shipped, &runs);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(
            (a[0].rule.as_str(), a[0].flagged, a[0].examined),
            ("TP-01", 730, 1000)
        );
        assert_eq!(a[0].share, 0.73);
        assert!(
            a[0].message
                .starts_with("TP-01 flagged 73 % of the 1000 rows it examined"),
            "{}",
            a[0].message
        );
        // the pack sets both limits
        let strict = pack(&|t: String| {
            t.replace("max_flag_share = 0.05", "max_flag_share = 0.01")
                .replace("min_examined = 1000", "min_examined = 50")
        });
        let ids: Vec<String> = alarms(&strict, &runs).into_iter().map(|a| a.rule).collect();
        assert_eq!(ids, ["ID-01", "TP-01", "TP-02"]);
    }
}
