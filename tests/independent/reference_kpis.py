"""Independent reference implementation of the Safety (SAF01-SAF23) and Drift and Delay
(DD01-DD11) KPIs of shared/spec/kpis.md, at LA level, from a folder of extract CSVs.

Written from the specification only (kpis.md, sources.md), without reading qaloop's
SQL or tasks/kpis/compute.py, so that it can check the published figures.

    compute_reference(folder, period_end, population, dd10_threshold=20)
        -> {kpi_id: (value, numerator, denominator)}

Counts: (count, count, None). Percentages: (value 1 dp or None, numerator, denominator).
Rates per 10,000: (value 1 dp, count, population).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import holidays
import numpy as np
import pandas as pd

ALLOCATED = "ALLOCATED CASE WORKER"
EET_CODES = {"F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5"}
YES = {"y", "yes", "1", "true"}
NO = {"n", "no", "0", "false"}

# --- conventions ---------------------------------------------------------------------


@lru_cache(maxsize=None)
def _bank_holidays() -> np.ndarray:
    hols = holidays.country_holidays("GB", subdiv="ENG", years=range(2000, 2041))
    return np.array(sorted(hols.keys()), dtype="datetime64[D]")


def wdb(a: date | None, b: date | None) -> int | None:
    """working_days_between(a, b) = wd(b) - wd(a), wd(d) = working days in (epoch, d]."""
    if a is None or b is None:
        return None
    a1 = np.datetime64(a + timedelta(days=1), "D")
    b1 = np.datetime64(b + timedelta(days=1), "D")
    # busday_count counts [begin, end) and is negative when begin > end
    return int(np.busday_count(a1, b1, holidays=_bank_holidays()))


def _nth_wd(d: date, n: int) -> date:
    """The n-th working day after d: the working day x with wdb(d, x) == n."""
    x = d
    count = 0
    hols = set(_bank_holidays().astype(date).tolist())
    while count < n:
        x += timedelta(days=1)
        if x.weekday() < 5 and x not in hols:
            count += 1
    return x


def add_months(d: date, months: int) -> date:
    m = d.month - 1 + months
    y = d.year + m // 12
    m = m % 12 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def age_on(dob: date | None, on: date) -> int | None:
    if dob is None:
        return None
    # 29 Feb birthday is reached on 1 March in non-leap years: compare (month, day) tuples
    had_birthday = (on.month, on.day) >= (dob.month, dob.day)
    return on.year - dob.year - (0 if had_birthday else 1)


def round_half_up(f: Fraction) -> float:
    scaled = f * 10
    floor = scaled.numerator // scaled.denominator
    rem = scaled - floor
    if rem >= Fraction(1, 2):
        floor += 1
    return floor / 10


def pct(num: int, den: int):
    if den == 0:
        return (None, num, den)
    return (round_half_up(Fraction(100 * num, den)), num, den)


def rate(count: int, population: int):
    return (round_half_up(Fraction(count * 10000, population)), count, population)


def count(n: int):
    return (n, n, None)


# --- loading -------------------------------------------------------------------------

DATE_SUFFIXES = ("_date", "_dob", "_due", "_latest_contact")
FLAG_COLUMNS = {
    "cine_referral_nfa", "cina_assessment_child_seen", "cina_assessment_outcome_nfa",
    "s47e_s47_nfa", "icpc_icpc_transfer_in", "icpc_icpc_outcome_cp_flag",
    "cppv_cp_visit_seen", "clar_cla_review_cancelled", "clav_cla_visit_seen",
    "miss_missing_rhi_offered", "miss_missing_rhi_accepted",
}


def _flag(v):
    if v is None:
        return None
    t = str(v).strip()
    if t == "":
        return None
    lo = t.lower()
    return "Y" if lo in YES else "N" if lo in NO else t


def _date(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    t = str(v).strip()
    if not t:
        return None
    try:
        return pd.to_datetime(t, format="ISO8601").date()
    except (ValueError, TypeError):
        return pd.to_datetime(t, dayfirst=True).date()


def load_folder(folder) -> dict[str, pd.DataFrame]:
    tables = {}
    for path in Path(folder).glob("ssd_*.csv"):
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        df.columns = [c.strip().lower() for c in df.columns]
        for c in df.columns:
            values = [(v.strip() or None) if isinstance(v, str) else None for v in df[c].tolist()]
            if c in FLAG_COLUMNS:
                values = [_flag(v) for v in values]
            elif c.endswith(DATE_SUFFIXES):
                values = [_date(v) for v in values]
            df[c] = pd.Series(values, index=df.index, dtype=object)
        tables[path.stem.lower()] = df
    return tables


# --- helpers ---------------------------------------------------------------------------

def _in(d, start, end) -> bool:
    return d is not None and start <= d <= end


def _open(start, end, pe) -> bool:
    return start is not None and start <= pe and (end is None or end > pe)


def _records(df):
    return df.to_dict("records")


# --- KPIs ----------------------------------------------------------------------------

def compute_reference(folder, period_end: date, population: int,
                      dd10_threshold: int = 20, tables=None) -> dict:
    t = tables if tables is not None else load_folder(folder)
    pe = period_end
    ps = pe.replace(day=1)
    r12 = pe - timedelta(days=364)
    out: dict = {}

    contacts = _records(t["ssd_contacts"])
    cine = _records(t["ssd_cin_episodes"])
    cina = _records(t["ssd_cin_assessments"])
    s47 = _records(t["ssd_s47_enquiry"])
    icpc = _records(t["ssd_initial_cp_conference"])
    cpp = _records(t["ssd_cp_plans"])
    cpv = _records(t["ssd_cp_visits"])
    cpr = _records(t["ssd_cp_reviews"])
    clae = _records(t["ssd_cla_episodes"])
    clap = _records(t["ssd_cla_placement"])
    clar = _records(t["ssd_cla_reviews"])
    clav = _records(t["ssd_cla_visits"])
    miss = _records(t["ssd_missing"])
    clea = _records(t["ssd_care_leavers"])
    invo = _records(t["ssd_involvements"])
    person = {p["pers_person_id"]: p for p in _records(t["ssd_person"])}

    # SAF01-SAF05
    out["SAF01"] = count(sum(_in(c["cont_contact_date"], ps, pe) for c in contacts))
    refs_in = [r for r in cine if _in(r["cine_referral_date"], ps, pe)]
    out["SAF02"] = count(len(refs_in))
    n12 = sum(_in(r["cine_referral_date"], r12, pe) for r in cine)
    out["SAF03"] = rate(n12, population)
    by_child: dict = {}
    for r in cine:
        by_child.setdefault(r["cine_person_id"], []).append(r)
    num = 0
    for r in refs_in:
        rd = r["cine_referral_date"]
        if any(o["cine_referral_id"] != r["cine_referral_id"] and o["cine_referral_date"] is not None
               and rd - timedelta(days=365) <= o["cine_referral_date"] < rd
               for o in by_child[r["cine_person_id"]]):
            num += 1
    out["SAF04"] = pct(num, len(refs_in))
    out["SAF05"] = pct(sum(r["cine_referral_nfa"] == "Y" for r in refs_in), len(refs_in))

    # SAF06-SAF07
    auth_in = [a for a in cina if _in(a["cina_assessment_auth_date"], ps, pe)]
    out["SAF06"] = count(len(auth_in))
    num = 0
    for a in auth_in:
        w = wdb(a["cina_assessment_start_date"], a["cina_assessment_auth_date"])
        if w is not None and w <= 45:
            num += 1
    out["SAF07"] = pct(num, len(auth_in))

    # SAF08-SAF09
    out["SAF08"] = count(sum(_in(s["s47e_s47_start_date"], ps, pe) for s in s47))
    s47_by_id = {s["s47e_s47_enquiry_id"]: s for s in s47}
    den = num = 0
    for c in icpc:
        if not _in(c["icpc_icpc_date"], ps, pe) or c["icpc_icpc_transfer_in"] == "Y":
            continue
        den += 1
        s = s47_by_id.get(c["icpc_s47_enquiry_id"]) if c["icpc_s47_enquiry_id"] else None
        if s is None:
            continue
        start = s["s47e_s47_start_date"]
        if start is None or start > pe:
            continue
        w = wdb(start, c["icpc_icpc_date"])
        if w <= 15:
            num += 1
    out["SAF09"] = pct(num, den)

    # SAF10-SAF12
    plans_in = [p for p in cpp if _in(p["cppl_cp_plan_start_date"], ps, pe)]
    out["SAF10"] = count(len(plans_in))
    plans_by_child: dict = {}
    for p in cpp:
        plans_by_child.setdefault(p["cppl_person_id"], []).append(p)
    num = sum(any(o["cppl_cp_plan_id"] != p["cppl_cp_plan_id"] and o["cppl_cp_plan_start_date"] is not None
                  and o["cppl_cp_plan_start_date"] < p["cppl_cp_plan_start_date"]
                  for o in plans_by_child[p["cppl_person_id"]]) for p in plans_in)
    out["SAF11"] = pct(num, len(plans_in))
    open_plans = [p for p in cpp if _open(p["cppl_cp_plan_start_date"], p["cppl_cp_plan_end_date"], pe)]
    n = len({p["cppl_person_id"] for p in open_plans})
    out["SAF12"] = count(n)
    out["SAF12:rate_per_10k"] = rate(n, population)

    # SAF13 / DD04
    visits_by_plan: dict = {}
    for v in cpv:
        visits_by_plan.setdefault(v["cppv_cp_plan_id"], []).append(v)
    den = num = 0
    for p in open_plans:
        st = p["cppl_cp_plan_start_date"]
        if wdb(st, pe) <= 10:
            continue
        den += 1
        ok = any(v["cppv_cp_visit_seen"] == "Y" and v["cppv_cp_visit_date"] is not None
                 and st <= v["cppv_cp_visit_date"] <= pe and wdb(v["cppv_cp_visit_date"], pe) <= 10
                 for v in visits_by_plan.get(p["cppl_cp_plan_id"], []))
        num += ok
    out["SAF13"] = pct(num, den)
    out["DD04"] = count(den - num)

    # SAF14 / DD05
    plan_by_id = {p["cppl_cp_plan_id"]: p for p in cpp}
    reviews_by_plan: dict = {}
    for r in cpr:
        if r["cppr_cp_review_date"] is not None:
            reviews_by_plan.setdefault(r["cppr_cp_plan_id"], []).append(r)
    for lst in reviews_by_plan.values():
        lst.sort(key=lambda r: (r["cppr_cp_review_date"], r["cppr_cp_review_id"]))
    den = num = 0
    for plan_id, lst in reviews_by_plan.items():
        plan = plan_by_id.get(plan_id)
        for i, r in enumerate(lst):
            if not _in(r["cppr_cp_review_date"], ps, pe):
                continue
            den += 1
            due = r["cppr_cp_review_due"]
            if due is None:
                if i == 0:
                    st = plan["cppl_cp_plan_start_date"] if plan else None
                    due = add_months(st, 3) if st else None
                else:
                    due = add_months(lst[i - 1]["cppr_cp_review_date"], 6)
            if due is not None and r["cppr_cp_review_date"] <= due:
                num += 1
    out["SAF14"] = pct(num, den)
    dd05 = 0
    for p in open_plans:
        held = [r for r in reviews_by_plan.get(p["cppl_cp_plan_id"], []) if r["cppr_cp_review_date"] <= pe]
        nxt = add_months(held[-1]["cppr_cp_review_date"], 6) if held else add_months(p["cppl_cp_plan_start_date"], 3)
        if nxt < pe:
            dd05 += 1
    out["DD05"] = count(dd05)

    # SAF15
    ending = [p for p in cpp if _in(p["cppl_cp_plan_end_date"], ps, pe)]
    num = sum(p["cppl_cp_plan_start_date"] is not None
              and (p["cppl_cp_plan_end_date"] - p["cppl_cp_plan_start_date"]).days >= 730 for p in ending)
    out["SAF15"] = pct(num, len(ending))

    # SAF16-SAF17: children looked after
    open_eps = [e for e in clae if _open(e["clae_cla_episode_start_date"], e["clae_cla_episode_ceased_date"], pe)]
    cla_children: dict = {}
    for e in open_eps:
        cur = cla_children.get(e["clae_person_id"])
        if cur is None or (e["clae_cla_episode_start_date"], e["clae_cla_episode_id"]) > \
                (cur["clae_cla_episode_start_date"], cur["clae_cla_episode_id"]):
            cla_children[e["clae_person_id"]] = e
    # Several open episodes (kpis.md decision): the current one is the latest start (ties:
    # highest id), and the period of care began on the earliest entered-care date among
    # the open episodes (SAF19, SAF21, DD06, DD07).
    care_began: dict = {}
    for e in open_eps:
        ent = e["clae_entered_care_date"]
        if ent is not None:
            pid = e["clae_person_id"]
            care_began[pid] = min(care_began.get(pid, ent), ent)
    out["SAF16"] = count(len(cla_children))
    out["SAF16:rate_per_10k"] = rate(len(cla_children), population)
    out["SAF17"] = count(len({e["clae_person_id"] for e in clae if _in(e["clae_entered_care_date"], ps, pe)}))

    # SAF18 / DD07
    entry_by_cla: dict = {}
    for e in clae:
        if e["clae_cla_episode_start_date"] is not None and e["clae_cla_episode_start_date"] <= pe \
                and e["clae_entered_care_date"] is not None:
            k = e["clae_cla_id"]
            entry_by_cla[k] = min(entry_by_cla.get(k, e["clae_entered_care_date"]), e["clae_entered_care_date"])
    clar_by_cla: dict = {}
    for r in clar:
        if r["clar_cla_review_date"] is not None and r["clar_cla_review_cancelled"] != "Y":
            clar_by_cla.setdefault(r["clar_cla_id"], []).append(r)
    for lst in clar_by_cla.values():
        lst.sort(key=lambda r: (r["clar_cla_review_date"], r["clar_cla_review_id"]))

    def cla_rule_due(cla_id, i, lst, began=None):
        if i == 0:
            entry = min((d for d in (entry_by_cla.get(cla_id), began) if d is not None), default=None)
            return _nth_wd(entry, 20) if entry else None
        if i == 1:
            return add_months(lst[0]["clar_cla_review_date"], 3)
        return add_months(lst[i - 1]["clar_cla_review_date"], 6)

    den = num = 0
    for cla_id, lst in clar_by_cla.items():
        for i, r in enumerate(lst):
            if not _in(r["clar_cla_review_date"], ps, pe):
                continue
            den += 1
            due = r["clar_cla_review_due_date"] or cla_rule_due(cla_id, i, lst)
            if due is not None and r["clar_cla_review_date"] <= due:
                num += 1
    out["SAF18"] = pct(num, den)
    dd07 = 0
    for pid, e in cla_children.items():
        cla_id = e["clae_cla_id"]
        held = [r for r in clar_by_cla.get(cla_id, []) if r["clar_cla_review_date"] <= pe]
        due = cla_rule_due(cla_id, len(held), held, care_began.get(pid))
        if due is not None and due < pe:
            dd07 += 1
    out["DD07"] = count(dd07)

    # SAF19 / DD06
    visits_by_child: dict = {}
    for v in clav:
        visits_by_child.setdefault(v["clav_person_id"], []).append(v)
    den = num = 0
    for pid, e in cla_children.items():
        ent = care_began.get(pid)
        if ent is None or (pe - ent).days <= 42:
            continue
        den += 1
        num += any(v["clav_cla_visit_seen"] == "Y" and v["clav_cla_visit_date"] is not None
                   and v["clav_cla_visit_date"] <= pe and (pe - v["clav_cla_visit_date"]).days <= 42
                   for v in visits_by_child.get(pid, []))
    out["SAF19"] = pct(num, den)
    out["DD06"] = count(den - num)

    # SAF20
    plac_by_child: dict = {}
    for p in clap:
        plac_by_child.setdefault(p["clap_person_id"], []).append(p)
    num = 0
    for pid in cla_children:
        ids = {p["clap_cla_placement_id"] for p in plac_by_child.get(pid, [])
               if _in(p["clap_cla_placement_start_date"], r12, pe)}
        num += len(ids) >= 3
    out["SAF20"] = pct(num, len(cla_children))

    # SAF21
    eps_by_child: dict = {}
    for e in clae:
        if e["clae_cla_episode_start_date"] is not None and e["clae_cla_episode_start_date"] <= pe:
            eps_by_child.setdefault(e["clae_person_id"], []).append(e)
    den = num = 0
    for pid, e in cla_children.items():
        ent = care_began.get(pid)
        dob = person.get(pid, {}).get("pers_dob")
        a = age_on(dob, pe)
        if a is None or a >= 16 or ent is None or ent > pe - timedelta(days=913):
            continue
        # coverage of [ent, pe] by the child's episodes, walking back from the open one
        eps = sorted(eps_by_child[pid], key=lambda x: x["clae_cla_episode_start_date"])
        merged = []
        for x in eps:
            s = x["clae_cla_episode_start_date"]
            f = x["clae_cla_episode_ceased_date"]
            f = pe if (f is None or f > pe) else f
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], f)
            else:
                merged.append([s, f])
        block = [m for m in merged if m[0] <= pe <= m[1]]
        if not block or block[0][0] > ent:
            continue
        den += 1
        cur = [p for p in plac_by_child.get(pid, [])
               if _open(p["clap_cla_placement_start_date"], p["clap_cla_placement_end_date"], pe)]
        if cur:
            cur.sort(key=lambda p: (p["clap_cla_placement_start_date"], p["clap_cla_placement_id"]))
            if cur[-1]["clap_cla_placement_start_date"] <= pe - timedelta(days=730):
                num += 1
    out["SAF21"] = pct(num, den)

    # SAF22
    m_in = [m for m in miss if _in(m["miss_missing_episode_start_date"], ps, pe)]
    out["SAF22"] = count(len(m_in))
    out["SAF22:rhi_offered_pct"] = pct(sum(m["miss_missing_rhi_offered"] == "Y" for m in m_in), len(m_in))

    # SAF23
    latest: dict = {}
    for c in clea:
        if c["clea_care_leaver_eligibility"] is None:
            continue
        key = (c["clea_care_leaver_latest_contact"] or date.min, c["clea_table_id"])
        cur = latest.get(c["clea_person_id"])
        if cur is None or key > cur[0]:
            latest[c["clea_person_id"]] = (key, c)
    cohort = []
    for pid, (_, c) in latest.items():
        a = age_on(person.get(pid, {}).get("pers_dob"), pe)
        if a is not None and 17 <= a <= 21:
            cohort.append(c)

    def up(v):
        return (v or "").strip().upper()
    out["SAF23"] = pct(sum(up(c["clea_care_leaver_in_touch"]) in ("YES", "Y") for c in cohort), len(cohort))
    # suitable accommodation = code 1 or Y, Y spelt as the Y/N decision allows (Yes, true, ...)
    out["SAF23:accom_suitable_pct"] = pct(
        sum(_flag(c["clea_care_leaver_accom_suitable"]) == "Y" for c in cohort), len(cohort))
    out["SAF23:eet_pct"] = pct(sum(up(c["clea_care_leaver_activity"]) in EET_CODES for c in cohort), len(cohort))

    # Drift and delay
    alloc_open = [i for i in invo if i["invo_professional_role_id"] == ALLOCATED
                  and _open(i["invo_involvement_start_date"], i["invo_involvement_end_date"], pe)]
    allocated_children = {i["invo_person_id"] for i in alloc_open}
    open_cin = [r for r in cine if _open(r["cine_referral_date"], r["cine_close_date"], pe)
                and r["cine_referral_nfa"] != "Y"]
    open_children = ({r["cine_person_id"] for r in open_cin}
                     | {p["cppl_person_id"] for p in open_plans} | set(cla_children))
    out["DD01"] = count(len(open_children - allocated_children))

    dd02 = 0
    for a in cina:
        st = a["cina_assessment_start_date"]
        au = a["cina_assessment_auth_date"]
        if st is None or st > pe or (au is not None and au <= pe):
            continue
        dd02 += wdb(st, pe) > 45
    out["DD02"] = count(dd02)

    icpc_s47_by = {c["icpc_s47_enquiry_id"] for c in icpc
                   if c["icpc_s47_enquiry_id"] and c["icpc_icpc_date"] is not None and c["icpc_icpc_date"] <= pe}
    dd03 = 0
    for s in s47:
        st = s["s47e_s47_start_date"]
        if st is None or st > pe:
            continue
        nfa = s["s47e_s47_nfa"] == "Y" and s["s47e_s47_end_date"] is not None and s["s47e_s47_end_date"] <= pe
        if nfa or s["s47e_s47_enquiry_id"] in icpc_s47_by:
            continue
        dd03 += wdb(st, pe) > 15
    out["DD03"] = count(dd03)

    out["DD08"] = count(sum((pe - p["cppl_cp_plan_start_date"]).days >= 548 for p in open_plans))
    # DD09 leaves out children on a CP plan or looked after at period_end (kpis.md decision)
    on_plan_or_looked_after = {p["cppl_person_id"] for p in open_plans} | set(cla_children)
    out["DD09"] = count(sum((pe - r["cine_referral_date"]).days >= 730 for r in open_cin
                            if r["cine_person_id"] not in on_plan_or_looked_after))

    caseload: dict = {}
    for i in alloc_open:
        caseload.setdefault(i["invo_professional_id"], set()).add(i["invo_person_id"])
    loads = [len(v) for v in caseload.values() if v]
    out["DD10"] = count(sum(n > dd10_threshold for n in loads))
    out["DD10:mean_caseload"] = ((round_half_up(Fraction(sum(loads), len(loads))), sum(loads), len(loads))
                                 if loads else (None, 0, 0))

    workers: dict = {}
    for i in invo:
        if i["invo_professional_role_id"] != ALLOCATED:
            continue
        s, f = i["invo_involvement_start_date"], i["invo_involvement_end_date"]
        if s is not None and s <= pe and (f is None or f >= r12):
            workers.setdefault(i["invo_person_id"], set()).add(i["invo_professional_id"])
    out["DD11"] = count(sum(len(workers.get(pid, ())) >= 3 for pid in open_children))
    return out
