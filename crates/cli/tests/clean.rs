//! A clean generated package (nothing planted, every legitimate variation of the generator on:
//! timetables of 3.5/5.25/7-hour days, one or two sessions a day, classes without sessions,
//! online and blended classes, special-ability and training certificates, evaluation claims
//! without a class, direct-recognition candidates, late but legitimate sign-outs) must raise no
//! rule finding. A rule that fires here assumes more than the data contract says.

use std::path::Path;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_subsidy-audit"))
}

fn rule_findings(out: &Path) -> Vec<String> {
    let mut r = csv::Reader::from_path(out.join("findings.csv")).expect("findings");
    let h = r.headers().expect("headers").clone();
    let (rule, det, ent) = (
        h.iter().position(|c| c == "rule_id").expect("rule_id"),
        h.iter().position(|c| c == "detector").expect("detector"),
        h.iter().position(|c| c == "entity_id").expect("entity_id"),
    );
    r.records()
        .map(|x| x.expect("row"))
        .filter(|x| &x[det] != "cluster")
        .map(|x| format!("{} {}", &x[rule], &x[ent]))
        .collect()
}

#[test]
fn a_clean_package_at_scale_s_raises_no_rule_finding() {
    let tmp = tempfile::tempdir().expect("tmp");
    let pkg = tmp.path().join("s");
    let out = tmp.path().join("out");
    let g = bin()
        .args([
            "generate", "--scale", "s", "--seed", "7", "--clean", "--quiet", "--out",
        ])
        .arg(&pkg)
        .output()
        .expect("generate");
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    let o = bin()
        .args(["scan", "--quiet", "--anomaly", "none", "--out"])
        .arg(&out)
        .arg(&pkg)
        .output()
        .expect("scan");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let found = rule_findings(&out);
    assert!(
        found.is_empty(),
        "{} rule findings on a clean package, e.g. {:?}",
        found.len(),
        &found[..found.len().min(10)]
    );
}
