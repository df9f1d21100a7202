#!/usr/bin/env python3
"""DuckDB side of the side-by-side benchmark (issue 15); driven by benches/duckdb_compare.sh.

    duckdb_checks.py run PKG --json OUT.json [--threads 2] [--pack rules/pack.toml]
        (a) typed load of every *.csv of PKG except labels.csv into DuckDB tables, column types
            from /work/shared/DATA_CONTRACT.md (DATE, TIMESTAMP, DECIMAL(14,2) money, INTEGER,
            DOUBLE, BOOLEAN, VARCHAR); each table timed, and the whole load;
        (b) the derived tables ("views") the six checks share, each timed, then the six checks
            DC-01, DC-02, TP-06, DC-06, TP-01, CL-02 written in SQL after their rule files, each
            timed; prints flagged rows and entities per check, writes all of it to OUT.json.

        With --identities SCAN_OUT/identities.csv it then (untimed) reruns DC-01 and DC-02 keyed
        on the engine's resolved identity_id instead of person_id, to show how much of a count
        difference there is identity resolution.

    duckdb_checks.py record --duck OUT.json --manifest MANIFEST --stderr ERR --time TIME ...
        prints the markdown record (pairs, ratios, counts) that duckdb_compare.sh appends.

The SQL follows the rule files (rules/duplicates/DC-01…, DC-02…, DC-06…, rules/process/TP-01…,
TP-06…, rules/claims/CL-02…) and the views they name, as built in crates/rules/src/views/,
hours.rs, entitlement.rs and primitives.rs. Every place where the SQL is simpler than the engine is
marked `SIMPLIFIED:` below.
"""

import argparse
import csv
import json
import os
import re
import sys
import time

# ---------------------------------------------------------------------------------------------
# Column types from DATA_CONTRACT.md. Lists (`;`-separated) stay VARCHAR; unknown columns too.
# ---------------------------------------------------------------------------------------------
MONEY = "DECIMAL(14,2)"
CONTRACT = {
    "institutions": {
        "institution_id": "VARCHAR", "name": "VARCHAR", "kind": "VARCHAR",
        "region_code": "VARCHAR", "in_catalogue_from": "DATE", "in_catalogue_until": "DATE",
        "revoked_on": "DATE", "approved_occupations": "VARCHAR", "supervisor": "VARCHAR",
    },
    "persons": {
        "person_id": "VARCHAR", "name": "VARCHAR", "gender": "VARCHAR", "phone": "VARCHAR",
        "bank_account": "VARCHAR", "hukou_region": "VARCHAR", "birth_date": "DATE",
        "address": "VARCHAR", "employer_id": "VARCHAR", "frontline": "BOOLEAN",
    },
    "person_status": {
        "person_id": "VARCHAR", "status": "VARCHAR", "valid_from": "DATE",
        "valid_until": "DATE", "employer_id": "VARCHAR", "source": "VARCHAR",
    },
    "occupations": {
        "occupation_code": "VARCHAR", "name": "VARCHAR", "sector": "VARCHAR",
        "shortage_tier": "INTEGER", "standard_hours": "DOUBLE", "valid_from": "DATE",
        "valid_until": "DATE",
    },
    "subsidy_standards": {
        "region_code": "VARCHAR", "scheme": "VARCHAR", "level": "VARCHAR", "amount": MONEY,
        "uplift_by_tier": "VARCHAR", "valid_from": "DATE", "valid_until": "DATE",
    },
    "classes": {
        "class_id": "VARCHAR", "institution_id": "VARCHAR", "occupation_code": "VARCHAR",
        "level": "VARCHAR", "mode": "VARCHAR", "filed_on": "DATE", "start_date": "DATE",
        "end_date": "DATE", "planned_hours": "DOUBLE", "fee_per_trainee": MONEY,
        "capacity": "INTEGER", "venue_lat": "DOUBLE", "venue_lon": "DOUBLE",
        "teacher_id": "VARCHAR",
    },
    "sessions": {
        "session_id": "VARCHAR", "class_id": "VARCHAR", "starts_at": "TIMESTAMP",
        "ends_at": "TIMESTAMP", "teacher_id": "VARCHAR",
    },
    "enrollments": {"class_id": "VARCHAR", "person_id": "VARCHAR", "enrolled_on": "DATE"},
    "attendance": {
        "class_id": "VARCHAR", "person_id": "VARCHAR", "ts": "TIMESTAMP",
        "direction": "VARCHAR", "method": "VARCHAR", "face_score": "DOUBLE",
        "device_id": "VARCHAR", "lat": "DOUBLE", "lon": "DOUBLE",
    },
    "evaluations": {
        "evaluation_id": "VARCHAR", "person_id": "VARCHAR", "evaluation_org_id": "VARCHAR",
        "class_id": "VARCHAR", "occupation_code": "VARCHAR", "level": "VARCHAR",
        "site_id": "VARCHAR", "starts_at": "TIMESTAMP", "ends_at": "TIMESTAMP",
        "evaluator_ids": "VARCHAR", "theory_score": "DOUBLE", "practical_score": "DOUBLE",
        "answer_hash": "VARCHAR", "passed": "BOOLEAN", "certificate_no": "VARCHAR",
        "certificate_issued_on": "DATE",
    },
    "claims": {
        "claim_id": "VARCHAR", "scheme": "VARCHAR", "claimant_id": "VARCHAR",
        "person_id": "VARCHAR", "class_id": "VARCHAR", "evaluation_id": "VARCHAR",
        "certificate_no": "VARCHAR", "occupation_code": "VARCHAR", "level": "VARCHAR",
        "amount_claimed": MONEY, "amount_paid": MONEY, "claimed_on": "DATE", "paid_on": "DATE",
        "payee_account": "VARCHAR", "fund_source": "VARCHAR", "approver": "VARCHAR",
    },
    "staff": {
        "staff_id": "VARCHAR", "person_id": "VARCHAR", "role": "VARCHAR",
        "institution_id": "VARCHAR", "certified_until": "DATE",
    },
    "enterprise_funds": {
        "enterprise_id": "VARCHAR", "year": "INTEGER", "payroll": MONEY, "extracted": MONEY,
        "used_total": MONEY, "used_frontline": MONEY,
    },
}

# the tables the six checks read (persons is not needed: identity_id = person_id here)
NEEDED = ["attendance", "sessions", "classes", "enrollments", "claims", "evaluations",
          "institutions", "occupations", "subsidy_standards"]

TRAINING = "('training', 'skill_upgrade', 'project')"
# every rule's effective_from; the engine keeps only view rows on or after it (date column of
# the view: claim → claimed_on, signin → ts, presence → day; crates/rules/src/rule.rs)
EFFECTIVE_FROM = "DATE '2019-01-01'"


def pack_settings(pack_path):
    """Parameters the SQL needs from rules/pack.toml (and the default standards, used only when
    the package has no subsidy_standards.csv)."""
    import tomllib

    with open(pack_path, "rb") as f:
        p = tomllib.load(f)
    return {
        "uplift_max": float(p["views"]["uplift_max"]),
        "cap_h": float(p["views"]["untimetabled_daily_cap_hours"]),
        "standards": p.get("standards", []),
    }


# ---------------------------------------------------------------------------------------------
# (a) the typed load
# ---------------------------------------------------------------------------------------------
def load(con, pkg):
    """Loads every *.csv but labels.csv; returns {table: {"s": secs, "rows": n, "rejected": n}}."""
    out = {}
    files = sorted(f for f in os.listdir(pkg) if f.endswith(".csv") and f != "labels.csv")
    for f in files:
        table = f[:-4]
        path = os.path.join(pkg, f)
        with open(path, encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh))
        types = CONTRACT.get(table, {})
        cols = ", ".join(
            "'%s': '%s'" % (c, types.get(c, "VARCHAR")) for c in header
        )
        # header order from the file, types from the contract; a value that does not parse as its
        # type is set aside (store_rejects) rather than failing the load, as the engine rejects
        # rows to rejected/<table>.csv
        sql = (
            f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_csv('{path}', header = true, "
            f"auto_detect = false, columns = {{{cols}}}, dateformat = '%Y-%m-%d', "
            f"timestampformat = '%Y-%m-%d %H:%M:%S', store_rejects = true, "
            f"rejects_table = 'rej_{table}', rejects_scan = 'rejscan_{table}')"
        )
        t = time.perf_counter()
        con.execute(sql)
        s = time.perf_counter() - t
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        rej = con.execute(f"SELECT count(DISTINCT line) FROM rej_{table}").fetchone()[0]
        out[table] = {"s": s, "rows": rows, "rejected": rej}
        print(f"  load {table:18s} {rows:>11,d} rows {rej:>6d} rejected {s:8.2f} s", flush=True)
    return out


# ---------------------------------------------------------------------------------------------
# (b) shared derived tables, the SQL counterpart of the engine's views
# ---------------------------------------------------------------------------------------------
def view_sql(st, has_standards):
    """(name, sql) in build order. Names say which engine view each stands for."""
    standards = (
        "SELECT coalesce(region_code, '*') AS region, coalesce(scheme, '') AS scheme, "
        "coalesce(level, '') AS level, CAST(round(amount * 100) AS BIGINT) AS amount_fen, "
        "uplift_by_tier AS up, valid_from, valid_until FROM subsidy_standards"
    )
    if not has_standards:
        # the package has no table: the defaults shipped in rules/pack.toml (views/mod.rs)
        rows = []
        for s in st["standards"]:
            rows.append(
                "('%s', '%s', '%s', %d, '%s', %s, %s)" % (
                    s.get("region", "*"), s.get("scheme", ""), s.get("level", ""),
                    round(float(s["amount_yuan"]) * 100),
                    ";".join(str(u) for u in s.get("uplift_by_tier", [0, 0, 0, 0])),
                    "DATE '%s'" % s["valid_from"] if s.get("valid_from") else "NULL",
                    "DATE '%s'" % s["valid_until"] if s.get("valid_until") else "NULL",
                )
            )
        standards = (
            "SELECT * FROM (VALUES %s) t(region, scheme, level, amount_fen, up, valid_from, "
            "valid_until)" % ", ".join(rows)
        )
    return [
        # --- the signin view (views/signin.rs, sign_ins.rs on_shared_devices): sign-ins on devices that signed in two or
        # more different trainees, with the class's institution
        ("signin", """
CREATE OR REPLACE TEMP TABLE v_signin AS
WITH si AS (
  SELECT class_id, person_id, ts, device_id FROM attendance
  WHERE direction = 'in' AND device_id IS NOT NULL),
shared AS (
  SELECT device_id FROM si GROUP BY device_id HAVING count(DISTINCT person_id) > 1)
SELECT si.*, k.institution_id
FROM si SEMI JOIN shared USING (device_id)
LEFT JOIN classes k USING (class_id)
"""),
        # --- the timetable (hours.rs Timetable::from_sessions): valid sessions, split at
        # midnight, overlapping rows of one class and day merged (gaps and islands)
        ("per-day sign-ins: timetable", """
CREATE OR REPLACE TEMP TABLE v_timetable AS
WITH s AS (
  SELECT class_id, starts_at, ends_at FROM sessions
  WHERE class_id IS NOT NULL AND starts_at IS NOT NULL AND ends_at > starts_at),
split AS (
  SELECT class_id, CAST(d AS DATE) AS day,
         epoch_ms(greatest(starts_at, d)) AS s,
         epoch_ms(least(ends_at, d + INTERVAL 1 DAY)) AS e
  FROM (SELECT *, unnest(generate_series(date_trunc('day', starts_at), ends_at,
                                         INTERVAL 1 DAY)) AS d FROM s)),
ord AS (
  SELECT *, max(e) OVER (PARTITION BY class_id, day ORDER BY s, e
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
  FROM split WHERE e > s),
isl AS (
  SELECT *, sum(CASE WHEN prev_end IS NULL OR s > prev_end THEN 1 ELSE 0 END)
              OVER (PARTITION BY class_id, day ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS g
  FROM ord)
SELECT class_id, day, min(s) AS s, max(e) AS e FROM isl GROUP BY class_id, day, g
"""),
        # --- per (class, person, day) credited 学时 and presence envelope (sign_ins.rs sign_in_days
        # + hours.rs credit). Presence runs from a sign-in to the next sign-out: after an 'in'
        # the trainee is present, after an 'out' absent, so an interval ends at each 'out' whose
        # previous event is an 'in' and starts at the first 'in' of that run. Events of one
        # instant sort sign-out first (ORDER BY ts, is_in). Timetabled class: minutes of the
        # intervals inside the day's merged sessions / 45. Class without sessions: first sign-in
        # to last sign-out / 45, capped at untimetabled_daily_cap_hours.
        ("per-day sign-ins: credit", f"""
CREATE OR REPLACE TEMP TABLE v_day AS
WITH ev AS (
  SELECT class_id, person_id, CAST(ts AS DATE) AS day, epoch_ms(ts) AS t,
         direction = 'in' AS is_in
  FROM attendance WHERE ts IS NOT NULL AND direction IS NOT NULL),
lagged AS (
  SELECT *, lag(is_in) OVER (PARTITION BY class_id, person_id, day ORDER BY t, is_in) AS prev_in
  FROM ev),
marked AS (
  SELECT *, max(CASE WHEN is_in AND NOT coalesce(prev_in, false) THEN t END)
              OVER (PARTITION BY class_id, person_id, day ORDER BY t, is_in
                    ROWS UNBOUNDED PRECEDING) AS since
  FROM lagged),
days AS (
  SELECT class_id, person_id, day,
         min(t) FILTER (WHERE is_in) AS first_in, max(t) FILTER (WHERE NOT is_in) AS last_out
  FROM ev GROUP BY ALL),
iv AS (
  SELECT class_id, person_id, day, since AS a, t AS b FROM marked
  WHERE NOT is_in AND prev_in AND t > since),
timed AS (
  SELECT iv.class_id, iv.person_id, iv.day,
         sum(least(iv.b, tt.e) - greatest(iv.a, tt.s)) AS ms,
         min(greatest(iv.a, tt.s)) AS pf, max(least(iv.b, tt.e)) AS pu
  FROM iv JOIN v_timetable tt
    ON tt.class_id = iv.class_id AND tt.day = iv.day AND tt.s < iv.b AND tt.e > iv.a
  GROUP BY ALL),
has_tt AS (SELECT DISTINCT class_id FROM v_timetable)
SELECT d.class_id, d.person_id, d.day, d.first_in, d.last_out,
  CASE WHEN h.class_id IS NOT NULL THEN coalesce(tm.ms, 0) / 2700000.0
       WHEN d.last_out > d.first_in THEN least((d.last_out - d.first_in) / 2700000.0, {st['cap_h']})
       ELSE 0 END AS credited_h,
  CASE WHEN h.class_id IS NOT NULL THEN tm.pf
       WHEN d.last_out > d.first_in THEN d.first_in END AS present_from,
  CASE WHEN h.class_id IS NOT NULL THEN tm.pu
       WHEN d.last_out > d.first_in THEN d.last_out END AS present_until
FROM days d
LEFT JOIN has_tt h USING (class_id)
LEFT JOIN timed tm USING (class_id, person_id, day)
"""),
        # --- enrolment stats (sign_ins.rs, the enrolments frame): verified 学时 per (class, person)
        ("enrolment stats", """
CREATE OR REPLACE TEMP TABLE v_enrol AS
SELECT class_id, person_id, sum(credited_h) AS verified_hours
FROM v_day GROUP BY ALL
"""),
        # --- the claim view, as far as the four claim rules need it (views/claim.rs claim_classes,
        # claim_view, entitlement.rs entitle)
        ("claim", f"""
CREATE OR REPLACE TEMP TABLE v_claim AS
WITH cert_eval AS (
  SELECT certificate_no, person_id, min(evaluation_id) AS cert_eval
  FROM evaluations WHERE certificate_no IS NOT NULL GROUP BY ALL),
c1 AS (  -- the evaluation: the claim's own, else the person's sitting with the claim's certificate
  SELECT c.*, coalesce(c.evaluation_id, ce.cert_eval) AS res_eval
  FROM claims c LEFT JOIN cert_eval ce USING (certificate_no, person_id)),
c2 AS (  -- the class: the claim's own, else its evaluation's
  SELECT c1.*, coalesce(c1.class_id, e.class_id) AS cls0,
         CAST(e.starts_at AS DATE) AS eval_date,
         coalesce(CAST(e.starts_at AS DATE), c1.claimed_on) AS ref_day
  FROM c1 LEFT JOIN evaluations e ON e.evaluation_id = c1.res_eval),
from_enrol AS (  -- else the enrolment in a class of the same occupation and level that covers,
                 -- or most recently precedes, the exam (or the claim date)
  SELECT c2.claim_id,
         first(k.class_id ORDER BY (k.end_date >= c2.ref_day) DESC, k.start_date DESC,
               k.class_id) AS enrol_class
  FROM c2
  JOIN (SELECT DISTINCT person_id, class_id FROM enrollments) en ON en.person_id = c2.person_id
  JOIN classes k ON k.class_id = en.class_id AND k.occupation_code = c2.occupation_code
                AND k.level = c2.level
  WHERE c2.cls0 IS NULL AND k.start_date <= c2.ref_day
  GROUP BY c2.claim_id),
c3 AS (
  SELECT c2.*, coalesce(c2.cls0, fe.enrol_class) AS res_class
  FROM c2 LEFT JOIN from_enrol fe USING (claim_id)),
c4 AS (
  SELECT c3.claim_id, c3.scheme, c3.person_id,
         c3.person_id AS identity_id,  -- SIMPLIFIED: no identity resolution (see DC-01)
         c3.occupation_code, c3.level, c3.claimed_on, year(c3.claimed_on) AS claim_year,
         CAST(round(c3.amount_claimed * 100) AS BIGINT) AS amount_claimed_fen,
         CAST(round(c3.amount_paid * 100) AS BIGINT) AS amount_paid_fen,
         c3.res_class AS class_id, k.planned_hours,
         coalesce(k.start_date, c3.eval_date, c3.claimed_on) AS judged_on,
         i.region_code AS inst_region, en.verified_hours,
         CASE WHEN k.planned_hours > 0
              THEN coalesce(en.verified_hours, 0) / k.planned_hours END AS attendance_ratio
  FROM c3
  LEFT JOIN classes k ON k.class_id = c3.res_class
  LEFT JOIN institutions i ON i.institution_id = coalesce(k.institution_id, c3.claimant_id)
  LEFT JOIN v_enrol en ON en.class_id = c3.res_class AND en.person_id = c3.person_id),
tier AS (  -- the shortage tier of the catalogue version valid on the judged date
  SELECT c4.claim_id, first(o.shortage_tier ORDER BY o.valid_from) AS shortage_tier
  FROM c4 JOIN occupations o ON o.occupation_code = c4.occupation_code
   AND (o.valid_from IS NULL OR o.valid_from <= c4.judged_on)
   AND (o.valid_until IS NULL OR o.valid_until >= c4.judged_on)
  GROUP BY c4.claim_id),
st AS ({standards}),
best AS (  -- the most specific standard: own region over '*', scheme, level, latest start
  SELECT c4.claim_id, st.amount_fen, st.up,
         row_number() OVER (PARTITION BY c4.claim_id ORDER BY (st.region <> '*') DESC,
           (st.scheme <> '') DESC, (st.level <> '') DESC,
           coalesce(st.valid_from, DATE '0001-01-01') DESC) AS rk
  FROM c4 JOIN st
    ON (st.scheme = '' OR st.scheme = c4.scheme) AND (st.level = '' OR st.level = c4.level)
   AND (st.region = '*' OR st.region = c4.inst_region) AND c4.judged_on IS NOT NULL
   AND (st.valid_from IS NULL OR st.valid_from <= c4.judged_on)
   AND (st.valid_until IS NULL OR st.valid_until >= c4.judged_on))
SELECT c4.*, t.shortage_tier,
  -- amount × (1 + uplift[tier]), the uplift capped at uplift_max, in fen as the engine does it
  b.amount_fen * (10000 + CAST(round(10000 * least(
      CASE WHEN t.shortage_tier IS NULL THEN 0.0
           ELSE coalesce(TRY_CAST(trim(string_split(b.up, ';')[least(greatest(t.shortage_tier, 0), 3) + 1]) AS DOUBLE), 0.0)
      END, {st['uplift_max']})) AS BIGINT)) // 10000 AS entitled
FROM c4
LEFT JOIN tier t USING (claim_id)
LEFT JOIN best b ON b.claim_id = c4.claim_id AND b.rk = 1
"""),
        # --- the presence view (views/presence.rs): trainee-days with credited presence, of
        # trainees enrolled in two or more classes
        ("presence", """
CREATE OR REPLACE TEMP TABLE v_presence AS
WITH multi AS (
  SELECT person_id FROM enrollments GROUP BY person_id HAVING count(DISTINCT class_id) > 1)
SELECT d.class_id, d.person_id, d.day, d.present_from, d.present_until, k.institution_id
FROM v_day d SEMI JOIN multi USING (person_id)
LEFT JOIN classes k USING (class_id)
WHERE d.present_from IS NOT NULL AND d.present_until > d.present_from
"""),
    ]


# (id, sql returning (flagged_rows, entities)); entities as the engine counts findings: one per
# claim for the claim view, one per (entity, responsible institution) for signin and presence
CHECKS = [
    # DC-01 count_per_key keys [identity_id, occupation_code, level], where paid and a training
    # scheme, order_by claimed_on (ties: entity = claim_id), min 2, flag after_first
    ("DC-01", f"""
SELECT count(*), count(*) FROM (
  SELECT row_number() OVER (PARTITION BY identity_id, occupation_code, level
                            ORDER BY claimed_on, claim_id) AS rn
  FROM v_claim
  WHERE claimed_on >= {EFFECTIVE_FROM} AND amount_paid_fen IS NOT NULL AND scheme IN {TRAINING}
    AND identity_id IS NOT NULL AND occupation_code IS NOT NULL AND level IS NOT NULL)
WHERE rn > 1
"""),
    # DC-02 count_per_key keys [identity_id, claim_year], counted_schemes, min annual_cap = 3,
    # flag beyond: the claims ranked past the third in claim-date order
    ("DC-02", f"""
SELECT count(*), count(*) FROM (
  SELECT row_number() OVER (PARTITION BY identity_id, claim_year
                            ORDER BY claimed_on, claim_id) AS rn
  FROM v_claim
  WHERE claimed_on >= {EFFECTIVE_FROM} AND amount_paid_fen IS NOT NULL AND scheme IN {TRAINING}
    AND identity_id IS NOT NULL AND claim_year IS NOT NULL)
WHERE rn > 3
"""),
    # TP-06 window_distinct key device_id, time ts, distinct person_id, 10 minutes, min 3: a
    # sign-in is flagged when it lies in some 10-minute window (ending at a sign-in of the same
    # device) holding 3+ different trainees. n = distinct trainees in the 10 minutes up to each
    # sign-in; a sign-in is flagged if any sign-in in the 10 minutes from it has n >= 3.
    # SIMPLIFIED (edge only): RANGE frames include every sign-in at the window end's instant;
    # the engine's sweep stops at the current row of its (ts, person_id) order.
    ("TP-06", f"""
WITH w AS (
  SELECT *, count(DISTINCT person_id) OVER (PARTITION BY device_id ORDER BY ts
              RANGE BETWEEN INTERVAL 10 MINUTE PRECEDING AND CURRENT ROW) AS n
  FROM v_signin WHERE CAST(ts AS DATE) >= {EFFECTIVE_FROM}),
f AS (
  SELECT *, bool_or(n >= 3) OVER (PARTITION BY device_id ORDER BY ts
              RANGE BETWEEN CURRENT ROW AND INTERVAL 10 MINUTE FOLLOWING) AS flagged
  FROM w)
SELECT count(*), count(DISTINCT (device_id, institution_id)) FROM f WHERE flagged
"""),
    # DC-06 overlap_per_key key person_id, start present_from, end present_until, differ
    # class_id, min 30 minutes: both rows of every pair of one trainee in two classes whose
    # credited presence overlaps 30+ minutes. Joining on the day as well is exact, not a
    # simplification: both envelopes lie inside their own calendar day.
    ("DC-06", f"""
WITH p AS (SELECT * FROM v_presence WHERE day >= {EFFECTIVE_FROM}),
hit AS (
  SELECT DISTINCT a.class_id, a.person_id, a.day, a.institution_id
  FROM p a JOIN p b
    ON a.person_id = b.person_id AND a.day = b.day AND a.class_id <> b.class_id
   AND least(a.present_until, b.present_until) - greatest(a.present_from, b.present_from)
       >= 30 * 60000)
SELECT count(*), count(DISTINCT (person_id, institution_id)) FROM hit
"""),
    # TP-01 filter: a training scheme, a class found, planned_hours > 0, ratio < min_attendance
    ("TP-01", f"""
SELECT count(*), count(*) FROM v_claim
WHERE claimed_on >= {EFFECTIVE_FROM} AND scheme IN {TRAINING} AND class_id IS NOT NULL
  AND planned_hours > 0 AND attendance_ratio < 0.8
"""),
    # CL-02 filter: not_null(entitled) and amount_claimed > entitled
    ("CL-02", f"""
SELECT count(*), count(*) FROM v_claim
WHERE claimed_on >= {EFFECTIVE_FROM} AND entitled IS NOT NULL AND amount_claimed_fen > entitled
"""),
]


def cmd_run(a):
    import duckdb

    st = pack_settings(a.pack)
    con = duckdb.connect(a.db or ":memory:")
    con.execute(f"SET threads = {a.threads}")
    con.execute("SET preserve_insertion_order = false")
    if a.temp:
        con.execute(f"SET temp_directory = '{a.temp}'")
    res = {"duckdb": duckdb.__version__, "python": sys.version.split()[0], "threads": a.threads}
    print(f"DuckDB {duckdb.__version__}, {a.threads} threads, package {a.pkg}", flush=True)
    t = time.perf_counter()
    res["tables"] = load(con, a.pkg)
    res["load_s"] = time.perf_counter() - t
    res["load_needed_s"] = sum(v["s"] for k, v in res["tables"].items() if k in NEEDED)
    print(f"  whole typed load {res['load_s']:.2f} s; tables the six checks need "
          f"{res['load_needed_s']:.2f} s", flush=True)
    has_std = "subsidy_standards" in res["tables"]
    res["views"] = []
    for name, sql in view_sql(st, has_std):
        t = time.perf_counter()
        con.execute(sql)
        s = time.perf_counter() - t
        res["views"].append({"name": name, "s": s})
        print(f"  view {name:28s} {s:8.2f} s", flush=True)
    res["checks"] = []
    for cid, sql in CHECKS:
        t = time.perf_counter()
        rows, ents = con.execute(sql).fetchone()
        s = time.perf_counter() - t
        res["checks"].append({"id": cid, "s": s, "flagged": rows, "entities": ents})
        print(f"  check {cid}  {s:8.3f} s  flagged rows {rows:>9,d}  entities {ents:>9,d}",
              flush=True)
    res["views_s"] = sum(v["s"] for v in res["views"])
    res["checks_s"] = sum(c["s"] for c in res["checks"])
    print(f"  six checks: views {res['views_s']:.2f} s + checks {res['checks_s']:.2f} s",
          flush=True)
    if a.identities:
        verify(con, a.identities, res)
    with open(a.json, "w") as f:
        json.dump(res, f, indent=1)


def verify(con, identities, res):
    """DC-01 and DC-02 again, keyed on the engine's resolved identity_id (untimed; it only
    explains the count difference that identity resolution makes)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE ids AS SELECT person_id, identity_id FROM "
        f"read_csv('{identities}', header = true, all_varchar = true)")
    con.execute("CREATE OR REPLACE TEMP TABLE v_claim_id AS SELECT * REPLACE (coalesce("
                "i.identity_id, v.person_id) AS identity_id) FROM v_claim v "
                "LEFT JOIN ids i USING (person_id)")
    out = {}
    for cid, sql in CHECKS:
        if cid in ("DC-01", "DC-02"):
            rows, _ = con.execute(sql.replace("FROM v_claim", "FROM v_claim_id")).fetchone()
            out[cid] = rows
            print(f"  (untimed) {cid} keyed on the engine's identity_id: {rows:,} flagged",
                  flush=True)
    res["with_engine_identities"] = out


# ---------------------------------------------------------------------------------------------
# the record
# ---------------------------------------------------------------------------------------------
UNIT = {"s": 1000.0, "ms": 1.0, "µs": 1e-3, "us": 1e-3, "ns": 1e-6}


def dur_ms(txt):
    m = re.match(r"([0-9.]+)(s|ms|µs|us|ns)$", txt)
    return float(m.group(1)) * UNIT[m.group(2)]


# the views the six checks need (their rules name claim, signin, presence; claim reads the
# enrolment totals of the one pass over the sign-ins, presence its days: sign_ins.rs, its own
# stage of the scan since the anomaly features share it)
NEEDED_VIEWS = ["signin", "per-day sign-ins", "person+institution", "claim", "presence"]
SIX = ["DC-01", "DC-02", "TP-06", "DC-06", "TP-01", "CL-02"]


def engine_times(manifest, stderr):
    """{'source', 'stages': {name: ms}, 'views': {name: ms}, 'rules': {id: ms}, 'peak': {...}}"""
    m = json.load(open(manifest))
    if m.get("profile"):
        out = {"source": "scan --profile (manifest.json profile)", "stages": {}, "views": {},
               "rules": {}, "peak": {}}
        for sp in m["profile"]:
            kind = {"stage": "stages", "view": "views", "rule": "rules"}.get(sp["kind"])
            if kind:
                # last occurrence wins: views are also built once on empty frames for schemas
                out[kind][sp["name"]] = float(sp["wall_ms"])
                out["peak"][f"{sp['kind']} {sp['name']}"] = sp.get("peak_mib")
        return out, m
    out = {"source": "SUBSIDY_TRACE=1 stderr (this binary has no --profile)", "stages": {},
           "views": {}, "rules": {}, "peak": {}}
    view_cum, rule_cum = [], []
    for line in open(stderr, encoding="utf-8", errors="replace"):
        mm = re.match(r"trace: stage (\S+) \(peak so far (\d+) MiB\) in (\S+)", line)
        if mm:
            out["stages"][mm.group(1)] = dur_ms(mm.group(3))
            out["peak"]["stage " + mm.group(1)] = int(mm.group(2))
            continue
        mm = re.match(r"trace: view (.+?) in (\S+) \(rss", line)
        if mm:
            if mm.group(1) == "signin":
                view_cum = []  # a new build of the views starts (the last one is the scan's)
            view_cum.append((mm.group(1), dur_ms(mm.group(2))))
            continue
        mm = re.match(r"trace: rule (\S+) done in (\S+)", line)
        if mm:
            rule_cum.append((mm.group(1), dur_ms(mm.group(2))))
    prev = 0.0
    for name, c in view_cum:  # cumulative since the views started
        out["views"][name] = c - prev
        prev = c
    prev = 0.0
    for rid, c in rule_cum:  # cumulative since the rules started
        out["rules"][rid] = c - prev
        prev = c
    return out, m


def time_v(path):
    wall = rss = None
    for line in open(path, errors="replace"):
        line = line.strip()
        if line.startswith("Elapsed (wall clock) time"):
            v = line.rsplit(" ", 1)[1]
            parts = [float(x) for x in v.split(":")]
            wall = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
        elif line.startswith("Maximum resident set size"):
            rss = int(line.rsplit(" ", 1)[1]) / 1024.0
    return wall, rss


def load_summary(path):
    """'load a–b; also busy: cmd (n samples), …' from a sampler file of duckdb_compare.sh."""
    if not path or not os.path.exists(path):
        return "not sampled"
    loads, seen = [], {}
    for line in open(path, errors="replace"):
        mm = re.match(r"\S+ load ([0-9.]+) \| (.*)", line.strip())
        if not mm:
            continue
        loads.append(float(mm.group(1)))
        for item in mm.group(2).split(";"):
            item = item.strip()
            if item:
                cmd = item.split(" ", 1)[1] if " " in item else item
                seen[cmd] = seen.get(cmd, 0) + 1
    if not loads:
        return "no samples (shorter than 15 s)"
    busy = ", ".join(f"`{c}` ({n}/{len(loads)})" for c, n in
                     sorted(seen.items(), key=lambda kv: -kv[1]))
    return (f"1-min load {min(loads):.2f}–{max(loads):.2f} over {len(loads)} samples; processes at "
            f"30 %+ CPU (samples seen in): {busy or 'none'}")


def fmt_s(ms):
    return "—" if ms is None else f"{ms / 1000:.2f}"


def ratio(ours_ms, duck_ms):
    if ours_ms is None or not duck_ms:
        return "—"
    return f"{ours_ms / duck_ms:.2f}"


def cmd_record(a):
    d = json.load(open(a.duck))
    eng, m = engine_times(a.manifest, a.stderr)
    wall, rss = time_v(a.time)
    rss_note = ""
    stage_peaks = [v for k, v in eng["peak"].items() if k.startswith("stage ") and v]
    if m.get("profile") and stage_peaks:
        # --profile resets the kernel's high-water mark per span, which also resets what
        # /usr/bin/time reports; the largest stage peak is the process's peak
        rss, rss_note = float(max(stage_peaks)), " (ours: largest stage peak of the profile)"
    dwall, drss = time_v(a.duck_time) if a.duck_time else (None, None)
    runs = {r["id"]: r for r in m.get("rule_runs", [])}
    checks = {c["id"]: c for c in d["checks"]}
    L = []
    L.append(f"\n## {a.date} — {a.pkg}\n")
    L.append(f"- command: `{a.command}`")
    L.append(f"- machine: {a.machine}; load average before: `{a.uptime_before}`; "
             f"after: `{a.uptime_after}`")
    L.append(f"- versions: DuckDB {d['duckdb']} (python {d['python']}, `SET threads={d['threads']}`,"
             f" in-memory database); engine `{a.engine_version}` ({a.bin}); engine timings from "
             f"{eng['source']}")
    L.append(f"- CSV files were read once (`cat > /dev/null`) before both runs, so both start from "
             f"the page cache")
    L.append(f"- during our scan: {load_summary(a.scan_load)}")
    L.append(f"- during the DuckDB run: {load_summary(a.duck_load)}")
    L.append("\n### Package\n")
    L.append("| table | rows (DuckDB) | set aside by DuckDB | rows accepted by the engine |")
    L.append("| --- | ---: | ---: | ---: |")
    acc = {i["table"]: i.get("accepted") for i in m.get("inputs", [])}
    for t, v in d["tables"].items():
        L.append(f"| {t} | {v['rows']:,} | {v['rejected']:,} | "
                 f"{acc.get(t, '—') if acc.get(t) is None else format(acc[t], ',')} |")
    ing = eng["stages"].get("ingest")
    # the one pass over the sign-ins runs as its own stage ("sign-ins", before the anomalies,
    # which read it too): counted whole with the views, though part of it serves the anomalies
    vsum = sum(eng["views"].get(v, 0.0) for v in NEEDED_VIEWS) + eng["stages"].get("sign-ins", 0.0)
    rsum = sum(eng["rules"].get(r, 0.0) for r in SIX)
    dv, dc = d["views_s"] * 1000, d["checks_s"] * 1000
    L.append("\n### Side by side (seconds; ratio = ours / DuckDB, below 1 = we are faster)\n")
    L.append("| what | DuckDB | ours | ours / DuckDB |")
    L.append("| --- | ---: | ---: | ---: |")
    L.append(f"| whole typed load (every table) vs our `ingest` stage | {d['load_s']:.2f} | "
             f"{fmt_s(ing)} | {ratio(ing, d['load_s'] * 1000)} |")
    L.append(f"| load of the 9 tables the six checks need (DuckDB only; ours always reads all) | "
             f"{d['load_needed_s']:.2f} | — | — |")
    L.append(f"| six checks, total: shared derived tables + six queries vs our views "
             f"({', '.join(NEEDED_VIEWS)}, the sign-ins stage) + six rules | {(dv + dc) / 1000:.2f} | "
             f"{fmt_s(vsum + rsum)} | {ratio(vsum + rsum, dv + dc)} |")
    L.append(f"| … of which the views / derived tables | {dv / 1000:.2f} | {fmt_s(vsum)} | "
             f"{ratio(vsum, dv)} |")
    L.append(f"| … of which the six checks on them | {dc / 1000:.3f} | {rsum / 1000:.3f} | "
             f"{ratio(rsum, dc)} |")
    for cid in SIX:
        c = checks[cid]
        o = eng["rules"].get(cid)
        L.append(f"| {cid} | {c['s']:.3f} | {'—' if o is None else f'{o / 1000:.3f}'} | "
                 f"{ratio(o, c['s'] * 1000)} |")
    L.append(f"| whole process, wall (`/usr/bin/time -v`): DuckDB script vs `scan` (which also "
             f"runs identities, anomalies, 40 rules, writes reports) | "
             f"{'—' if dwall is None else f'{dwall:.1f}'} | {'—' if wall is None else f'{wall:.1f}'}"
             f" | {'—' if not (wall and dwall) else f'{wall / dwall:.2f}'} |")
    L.append(f"| max RSS, MiB{rss_note} | {'—' if drss is None else f'{drss:,.0f}'} | "
             f"{'—' if rss is None else f'{rss:,.0f}'} | "
             f"{'—' if not (rss and drss) else f'{rss / drss:.2f}'} |")
    L.append("\nDuckDB derived tables: " + ", ".join(
        f"{v['name']} {v['s']:.2f} s" for v in d["views"]))
    L.append("\nOur views (all, for reference; the six checks count "
             + ", ".join(NEEDED_VIEWS) + "): " + ", ".join(
                 f"{k} {v / 1000:.2f} s" for k, v in eng["views"].items()))
    L.append("\nOur stages: " + ", ".join(f"{k} {v / 1000:.2f} s" for k, v in eng["stages"].items()))
    if eng["peak"]:
        L.append("\nOur peak memory per stage (MiB): " + ", ".join(
            f"{k[6:]} {v}" for k, v in eng["peak"].items() if k.startswith("stage ")))
    L.append("\n### Counts\n")
    L.append("| check | DuckDB flagged rows | ours flagged rows | DuckDB entities | ours findings |")
    L.append("| --- | ---: | ---: | ---: | ---: |")
    for cid in SIX:
        c, r = checks[cid], runs.get(cid, {})
        L.append(f"| {cid} | {c['flagged']:,} | {r.get('flagged', '—'):,} | {c['entities']:,} | "
                 f"{r.get('findings', '—'):,} |")
    wid = d.get("with_engine_identities")
    if wid:
        L.append("\nDC-01 / DC-02 rerun in DuckDB keyed on the engine's `identities.csv` "
                 "(untimed): " + ", ".join(f"{k} {v:,}" for k, v in wid.items()))
    print("\n".join(L))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("pkg")
    r.add_argument("--json", required=True)
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--pack", default=os.path.join(os.path.dirname(__file__), "..", "rules",
                                                  "pack.toml"))
    r.add_argument("--db", help="database file (default in memory)")
    r.add_argument("--temp", help="DuckDB temp_directory for spilling")
    r.add_argument("--identities", help="the engine's identities.csv: rerun DC-01/DC-02 on it "
                   "after the timed part (untimed)")
    c = sub.add_parser("record")
    for k in ("duck", "manifest", "stderr", "time", "date", "pkg", "command", "machine",
              "uptime_before", "uptime_after", "engine_version", "bin"):
        c.add_argument("--" + k.replace("_", "-"), dest=k, required=True)
    c.add_argument("--duck-time", dest="duck_time")
    c.add_argument("--scan-load", dest="scan_load")
    c.add_argument("--duck-load", dest="duck_load")
    a = ap.parse_args()
    {"run": cmd_run, "record": cmd_record}[a.cmd](a)


if __name__ == "__main__":
    main()
