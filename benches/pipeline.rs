//! Criterion benchmarks of the scan's stages on the bundled demo package:
//! `cargo bench -p subsidy-cli --bench pipeline`. Large-scale timings come from
//! `benches/scale.sh` (recorded under `benches/runs/`).

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use subsidy_ingest::{Options, read_package};
use subsidy_model::contract::Table;

fn pipeline(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let demo = root.join("fixtures/demo");
    c.bench_function("ingest demo (csv)", |b| {
        b.iter(|| read_package(&demo, &Options::default()).expect("demo reads"))
    });

    let pkg = read_package(&demo, &Options::default()).expect("demo reads");
    let today = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).expect("date");
    c.bench_function("identity resolution on demo", |b| {
        b.iter(|| {
            subsidy_scoring::identity::resolve(pkg.frame(Table::Persons), today).expect("resolves")
        })
    });

    let ids =
        subsidy_scoring::identity::resolve(pkg.frame(Table::Persons), today).expect("resolves");
    let files = subsidy_rules::pack::read_dir(&root.join("rules")).expect("rules");
    let pack = subsidy_rules::pack::load(&files).expect("pack");
    let params = subsidy_scoring::anomaly::Params::default();
    c.bench_function(
        "anomaly detectors on demo (the sign-in pass, features, k-means, dbscan)",
        |b| {
            b.iter(|| {
                subsidy_scoring::anomaly::detect(&pkg.tables, None, &params).expect("detects")
            })
        },
    );
    c.bench_function("rule pack on demo (views, 37 rules, accountability)", |b| {
        b.iter(|| {
            subsidy_rules::run(
                &pack,
                pkg.tables.clone(),
                &pkg.present,
                Some(&ids),
                today,
                &[],
                None,
                &Default::default(),
            )
            .expect("runs")
        })
    });
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
