"""The benchmark ruleset (small_policy/) hand-written in numpy: the yardstick.

What an engineer would write for these six outputs knowing the data is clean (no
unknown facts): boolean masks, ``np.select`` for the tier table, ``np.bincount`` for
the sums and "all members" tests over members grouped by household. It reads the same
in-memory representation as the columnar evaluator (a ``Frame``: enums as int16 codes
in declaration order, money as int64 fen), so both time evaluation only.
"""
from __future__ import annotations

import numpy as np

# Codes: the declaration order of the enums in small_policy/entities.yaml.
POOR, EXITED, EDGE, MONITORED, ORDINARY = range(5)
RED, YELLOW, GREEN, NONE = range(4)
FILL, SUPPORT, GUIDE, NO_MEASURE = range(4)
GRADE_B = 1
HIGH, VOCATIONAL, COLLEGE = 4, 5, 6

FEN = 100
PARAMS = {  # in force on 2020-06-30 (small_policy/household.yaml)
    "exit_income_line": 4000 * FEN,
    "compulsory_school_age_min": 6,
    "compulsory_school_age_max": 15,
    "monitoring_red_income_line": 5000 * FEN,
    "monitoring_green_income_line": 10000 * FEN,
    "edu_aid_high_school": 3000 * FEN,
    "edu_aid_vocational": 2000 * FEN,
    "edu_aid_college": 8000 * FEN,
    "public_welfare_job_pay": 400 * FEN,
}
OUTPUTS = ["guarantees_met", "exit_eligible", "monitoring_tier", "monitoring_measure", "education_aid_once",
           "public_welfare_job_subsidy_monthly"]


def columns(frame) -> tuple:
    """The arrays the ruleset reads: household columns, member columns, member → household."""
    members = frame.children["members"]
    h = {k: c.data for k, c in frame.columns.items()}
    m = {k: c.data for k, c in members.frame.columns.items()}
    return h, m, members.parent


def evaluate(h: dict, m: dict, parent: np.ndarray, p: dict = PARAMS) -> dict:
    """The six outputs for every household (money in fen, tier and measure as codes)."""
    n = len(h["status"])
    in_school_age = (m["age"] >= p["compulsory_school_age_min"]) & (m["age"] <= p["compulsory_school_age_max"])
    education_ok = np.bincount(parent[in_school_age & ~m["enrolled"]], minlength=n) == 0
    medical_ok = np.bincount(parent[~m["medical_insured"]], minlength=n) == 0
    guarantees = (h["food_secure"] & h["clothing_secure"] & h["water_safe"] & (h["housing_grade"] <= GRADE_B)
                  & education_ok & medical_ok)
    status, income, risk = h["status"], h["income_per_capita"], h["risk_event"]
    exit_eligible = (status == POOR) & (income > p["exit_income_line"]) & guarantees
    low = income < p["monitoring_red_income_line"]
    high = income >= p["monitoring_green_income_line"]
    exited, ordinary = status == EXITED, status == ORDINARY
    tier = np.select(
        [(status == MONITORED) | (status == EDGE),
         exited & (low | risk | ~guarantees),
         exited & ~high,
         exited,
         ordinary & low & (risk | ~guarantees)],
        [RED, RED, YELLOW, GREEN, RED], NONE).astype(np.int16)
    measure = np.array([FILL, SUPPORT, GUIDE, NO_MEASURE], dtype=np.int16)[tier]
    registered = h["registered"][parent]
    aid_by_stage = np.zeros(7, dtype=np.int64)
    aid_by_stage[[HIGH, VOCATIONAL, COLLEGE]] = p["edu_aid_high_school"], p["edu_aid_vocational"], p["edu_aid_college"]
    aid = aid_by_stage[m["school_stage"]] * (registered & m["enrolled"])
    job = p["public_welfare_job_pay"] * (registered & m["public_welfare_job"])
    return {
        "guarantees_met": guarantees,
        "exit_eligible": exit_eligible,
        "monitoring_tier": tier,
        "monitoring_measure": measure,
        "education_aid_once": np.bincount(parent, weights=aid, minlength=n).astype(np.int64),
        "public_welfare_job_subsidy_monthly": np.bincount(parent, weights=job, minlength=n).astype(np.int64),
    }
