"""A deterministic generator of realistic households, for benchmarks and tests.

``iter_households(n, seed)`` yields pyarrow tables of households with their members
(a ``list<struct>`` column), ``write_households`` streams them to Parquet, JSONL or
CSV (households + ``<stem>.members.csv``). Row ``i`` depends only on ``(seed, i)``: it
is drawn from the random stream of its block of ``BLOCK`` rows, so a smaller dataset
is a prefix of a larger one, whatever the chunk size, and the same arguments give the
same bytes.

The households fit the policy pack (policy/entities.yaml): every declared household
and member fact, shaped so that every rule branch is reached — every status (and
``registered`` consistent with it), incomes with mass exactly on and one fen either
side of the 4000 / 5000 / 10000 元 lines, 1–7 members whose school stages follow
their ages, dropouts, disabilities, failed guarantees, risk events. Money is drawn
as integer fen and written as exact decimals, never binary floats. Households are
grouped into villages (``village_id``) of ``villages_of`` consecutive rows; villages
differ in how poor they are.

``unknown_rate`` leaves that fraction of every optional fact null (unknown);
``malformed_rate`` breaks that fraction of rows in one of the ways in ``KINDS``, and
each chunk lists the rows it broke (``Chunk.malformed``) so a test can check that
validation rejects exactly those. With malformed rows, ``income_per_capita`` is a
string column (it must hold text such as ``四千``); otherwise it is ``decimal(14,2)``.
"""
from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

BLOCK = 10_000  # rows drawn from one random stream
EPOCH = dt.date(1970, 1, 1)
FORMATS = ("parquet", "jsonl", "csv")

STATUS = ("poor", "exited", "edge", "monitored", "ordinary")
GRADE = ("A", "B", "C", "D")
LABOR = ("full", "partial", "none")
STAGE = ("none", "preschool", "primary", "junior", "high", "vocational", "college")
COLLEGE = ("junior_college", "undergraduate")
POOR, EXITED, EDGE, MONITORED, ORDINARY = range(5)
NONE, PRESCHOOL, PRIMARY, JUNIOR, HIGH, VOCATIONAL, COLLEGE_STAGE = range(7)

# The contract of issue 3: the facts every dataset has (``fields="contract"``).
CONTRACT_HOUSEHOLD = ("id", "registered", "status", "income_per_capita", "food_secure", "clothing_secure",
                      "water_safe", "housing_grade", "risk_event", "members")
CONTRACT_MEMBER = ("age", "labor", "medical_insured", "school_stage", "enrolled", "public_welfare_job",
                   "disability_grade")

# How a malformed row is broken: kind -> what the validator should say.
KINDS = {
    "text_in_number": "E802",   # income_per_capita holds words, not a number
    "undeclared_enum": "E802",  # status or housing_grade outside its enum
    "out_of_range": "E803",     # a member's age below 0
    "missing_required": "E801",  # no household id
    "money_3dp": "E802",        # money below the fen (three decimals)
    "bad_member": "E802/E803",  # a member with an undeclared labour value or disability grade 0 or 5
}
_BAD_TEXT = ("四千", "n/a", "12,5OO", "about 4000", "-", "4000元左右")
_BAD_STATUS = ("lifted", "贫困户", "Poorr", "unknown")  # not a value, nor a label in any case
_BAD_GRADE = ("E", "a+", "0")
_BAD_LABOR = ("半劳力", "strong")


@dataclass(frozen=True)
class Col:
    """One generated column: numpy data in a kind's representation and a validity mask.

    kinds: ``bool``, ``int``, ``money`` (int64 fen), ``dec`` (int64 scaled by 10**scale),
    ``enum`` (int codes into ``values``), ``date`` (days since 1970-01-01), ``str``
    (an arrow string array already).
    """

    kind: str
    data: object
    valid: np.ndarray | None = None  # None: every row has a value
    values: tuple = ()
    scale: int = 0

    def masked(self, keep: np.ndarray) -> "Col":
        """The column with rows where ``keep`` is False made null."""
        valid = keep if self.valid is None else (self.valid & keep)
        return Col(self.kind, self.data, valid, self.values, self.scale)


@dataclass(frozen=True)
class Malformed:
    """A row the generator broke on purpose: ``row`` is the 0-based index in the dataset."""

    row: int
    id: str | None
    kind: str
    field: str
    value: str


@dataclass
class Chunk:
    """Rows ``start … start + table.num_rows - 1`` of the dataset and the rows broken among them."""

    start: int
    table: pa.Table
    malformed: list = field(default_factory=list)


# --- drawing the facts of one block of rows


def _village_poverty(seed: int, village: np.ndarray) -> np.ndarray:
    """How poor each village is, in [0, 1): a hash of (seed, village), so it spans blocks."""
    x = village.astype(np.uint64) + np.uint64((seed * 0x9E3779B97F4A7C15) % 2**64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / 2.0**53


def _pick(rng, p, n: int) -> np.ndarray:
    """``n`` codes drawn with probabilities ``p`` (one row of p, or one row per draw)."""
    p = np.asarray(p, dtype=np.float64)
    cum = np.cumsum(p, axis=-1)
    u = rng.random(n)
    if cum.ndim == 1:
        return np.searchsorted(cum / cum[-1], u, side="right").astype(np.int16)
    return (u[:, None] * cum[:, -1:] >= cum).sum(axis=1).astype(np.int16)


def _yes(rng, p, n: int) -> np.ndarray:
    return rng.random(n) < p


def _incomes(rng, status: np.ndarray, poverty: np.ndarray) -> np.ndarray:
    """Per-capita income in fen: lognormal by status, a sixth exactly on or next to a line."""
    n = len(status)
    median = np.array([3600, 8000, 5500, 6500, 12000], dtype=np.float64)[status]
    sigma = np.array([0.25, 0.45, 0.30, 0.40, 0.60])[status]
    yuan = median * (1.15 - 0.3 * poverty) * np.exp(sigma * rng.standard_normal(n))
    fen = np.clip(yuan * 100, 50_000, 20_000_000).astype(np.int64)
    rounding = _pick(rng, (0.6, 0.25, 0.15), n)  # whole yuan, whole jiao, any fen
    fen = np.where(rounding == 0, fen // 100 * 100, np.where(rounding == 1, fen // 10 * 10, fen))
    on_line = _yes(rng, 1 / 6, n)
    line = np.array([400_000, 500_000, 1_000_000])[_pick(rng, (1, 1, 1), n)]
    offset = np.array([-100, -1, 0, 1, 100])[_pick(rng, (0.15, 0.2, 0.3, 0.2, 0.15), n)]
    return np.where(on_line, line + offset, fen)


def _ages(rng, hh: np.ndarray, pos: np.ndarray, head_age: np.ndarray) -> np.ndarray:
    """Member ages: the head, a spouse or parent, then children, grandchildren or elders."""
    m = len(hh)
    head = head_age[hh]
    spouse = np.maximum(18, head + rng.integers(-6, 7, m))
    elder = np.where(head < 65, np.minimum(98, head + rng.integers(20, 31, m)), spouse)
    child = head - rng.integers(20, 39, m)
    child = np.where(child < 0, rng.integers(0, 18, m), child)
    grandchild = head - rng.integers(42, 61, m)
    grandchild = np.where(grandchild < 0, rng.integers(0, 11, m), grandchild)
    role = _pick(rng, (0.7, 0.2, 0.1), m)  # for position >= 2: child, grandchild, elder
    second = np.where(_yes(rng, 0.85, m), spouse, elder)
    later = np.choose(role, [child, grandchild, elder])
    return np.where(pos == 0, head, np.where(pos == 1, second, later)).astype(np.int64)


def _schooling(rng, age: np.ndarray) -> tuple:
    """School stage, enrolment and college level consistent with age (dropouts included)."""
    m = len(age)
    stage = np.full(m, NONE, dtype=np.int16)
    stage[(age >= 3) & (age <= 5) & _yes(rng, 0.75, m)] = PRESCHOOL
    stage[(age >= 6) & (age <= 11)] = PRIMARY
    stage[(age >= 12) & (age <= 14)] = JUNIOR
    for ages, p in (((15, 15), (0.05, 0, 0, 0.40, 0.35, 0.20, 0)),
                    ((16, 17), (0.15, 0, 0, 0, 0.55, 0.30, 0)),
                    ((18, 18), (0.45, 0, 0, 0, 0.15, 0.10, 0.30)),
                    ((19, 22), (0.60, 0, 0, 0, 0, 0, 0.40))):
        sel = (age >= ages[0]) & (age <= ages[1])
        stage[sel] = _pick(rng, p, int(sel.sum()))
    in_school = stage != NONE
    enrolled = in_school & _yes(rng, np.where(stage == PRESCHOOL, 0.95, 0.965), m)
    college = np.where(_yes(rng, 0.55, m), 1, 0).astype(np.int16)
    return stage, enrolled, Col("enum", college, stage == COLLEGE_STAGE, COLLEGE)


def _members(rng, n: int, registered: np.ndarray, status: np.ndarray) -> tuple:
    """Household sizes and the members' columns (contract facts first, then the pack's)."""
    size = (_pick(rng, (0.12, 0.2, 0.2, 0.2, 0.14, 0.09, 0.05), n) + 1).astype(np.int64)
    head_age = np.clip(rng.triangular(22, 50, 86, n), 22, 85).astype(np.int64)
    hh = np.repeat(np.arange(n), size)
    starts = np.concatenate(([0], np.cumsum(size)[:-1]))
    m = int(size.sum())
    pos = np.arange(m) - np.repeat(starts, size)
    age = _ages(rng, hh, pos, head_age)
    stage, enrolled, college_level = _schooling(rng, age)
    elderly, adult, child = age >= 60, age >= 16, age < 16
    disabled = _yes(rng, np.where(elderly, 0.12, 0.05), m)
    grade = _pick(rng, (0.15, 0.25, 0.3, 0.3), m).astype(np.int64) + 1
    by_age = np.where(child[:, None], [0, 0, 1], np.where(age[:, None] < 60, [0.8, 0.15, 0.05],
                      np.where(age[:, None] < 70, [0.2, 0.5, 0.3], [0, 0.3, 0.7])))
    labor = _pick(rng, by_age, m)
    labor[disabled & (grade <= 2)] = 2
    reg = registered[hh]
    working = adult & (age <= 65) & (labor != 2) & ~enrolled
    cols = {
        "age": Col("int", age),
        "labor": Col("enum", labor, None, LABOR),
        "medical_insured": Col("bool", _yes(rng, np.where(reg, 0.995, 0.98), m)),
        "school_stage": Col("enum", stage, None, STAGE),
        "enrolled": Col("bool", enrolled),
        "public_welfare_job": Col("bool", working & _yes(rng, np.where(reg, 0.12, 0.02), m)),
        "disability_grade": Col("int", grade, disabled),
        "college_level": college_level,
        "newly_enrolled": Col("bool", _yes(rng, 0.25, m), stage != NONE),
        "parent_disabled": Col("bool", _yes(rng, 0.05, m), age < 25),
        "self_care_unable": Col("bool", _yes(rng, np.where(elderly | disabled, 0.12, 0.01), m)),
        "pension_insured": Col("bool", _yes(rng, 0.9, m), adult),
        "practical_skill_trained": Col("bool", _yes(rng, 0.4, m), working),
        "cataract_eyes": Col("int", _pick(rng, (0.9, 0.06, 0.04), m).astype(np.int64), elderly),
        "revolutionary_elder": Col("bool", _yes(rng, 0.02, m), elderly),
        "multiple_illnesses": Col("bool", _yes(rng, np.where(elderly, 0.15, 0.03), m)),
        "seriously_ill": Col("bool", _yes(rng, 0.03, m)),
        "orphan": Col("bool", _yes(rng, 0.01, m), age < 18),
        "guided_training_done": Col("bool", _yes(rng, 0.3, m), working),
        "guided_training_days": Col("int", rng.integers(0, 5, m), working),
        "wants_skill_training": Col("bool", _yes(rng, 0.35, m), working),
        "skill_training_done": Col("bool", _yes(rng, 0.25, m), working),
    }
    return size, cols, hh, age


def _household_cols(rng, status, registered, income, poverty, n) -> dict:
    """The pack's household facts beyond the contract, each drawn where it applies."""
    poor, exited = status == POOR, status == EXITED
    watched = np.isin(status, (EXITED, EDGE, MONITORED))
    steps = np.where(poor, rng.integers(0, 6, n), 5)
    day = lambda first, span: (dt.date.fromisoformat(first) - EPOCH).days + rng.integers(0, span, n)  # noqa: E731
    relocated = _yes(rng, 0.08, n)
    wubao = _yes(rng, 0.03, n)
    self_employed_disabled = _yes(rng, 0.01, n)
    last_year = (income * rng.uniform(0.75, 1.1, n)).astype(np.int64) // 100 * 100
    out = {f"water_{w}_ok": Col("bool", _yes(rng, 0.97, n)) for w in ("quantity", "quality", "access", "supply")}
    for i, step in enumerate(("survey", "committee_vote", "village_appraisal", "township_check", "county_approval")):
        out[f"exit_{step}_done"] = Col("bool", steps > i, registered)
    out |= {
        "assessed_on": Col("date", day("2020-03-20", 45), watched),
        "red_entered_on": Col("date", day("2020-04-01", 40), watched & _yes(rng, 0.5, n)),
        "ledger_built_on": Col("date", day("2020-04-05", 40), exited),
        "shortfall_fixed_on": Col("date", day("2020-05-01", 90), watched & _yes(rng, 0.3, n)),
        "sudden_income_drop_or_expense_rise": Col("bool", _yes(rng, 0.08, n)),
        "last_year_income_per_capita": Col("money", last_year),
        "local_poverty_standard": Col("money", np.full(n, 400_000), _yes(rng, 0.5, n)),
        "willing_and_able": Col("bool", _yes(rng, 0.7, n)),
        "illness_or_disaster_hardship": Col("bool", _yes(rng, np.where(poor, 0.25, 0.05), n)),
        "exited_through_industry": Col("bool", _yes(rng, 0.35, n), exited),
        "driven_by_enterprise": Col("bool", _yes(rng, 0.2, n)),
        "relocated": Col("bool", relocated),
        "relocation_loan_year": Col("int", rng.integers(1, 6, n), relocated),
        "houseless": Col("bool", _yes(rng, 0.03, n)),
        "wubao": Col("bool", wubao),
        "wubao_dispersed": Col("bool", _yes(rng, 0.5, n), wubao),
        "key_special_care": Col("bool", _yes(rng, 0.01, n)),
        "disabled_self_employed": Col("bool", self_employed_disabled),
        "self_employment_support": Col("money", rng.integers(10, 201, n) * 10_000, self_employed_disabled),
        "planned_floor_area": Col("dec", rng.integers(200, 1500, n), relocated, scale=1),
        "inpatient_selfpay_share": Col("dec", rng.integers(0, 300, n), _yes(rng, 0.3, n), scale=3),
        "chronic_outpatient_selfpay_share": Col("dec", rng.integers(0, 300, n), _yes(rng, 0.2, n), scale=3),
        "dibao": Col("bool", _yes(rng, np.where(registered, 0.25, 0.04), n)),
        "urban_dibao": Col("bool", _yes(rng, 0.01, n)),
        "tekun": Col("bool", _yes(rng, 0.02, n)),
        "low_income": Col("bool", _yes(rng, 0.1 + 0.2 * poverty, n)),
        "illness_impoverished": Col("bool", _yes(rng, np.where(poor, 0.3, 0.05), n)),
        "major_illness_relief_claim": Col("money", rng.integers(100, 8000, n) * 1000, _yes(rng, 0.05, n)),
        "medical_self_paid": Col("money", rng.integers(0, 3_000_000, n), _yes(rng, 0.2, n)),
        "urban_resident": Col("bool", np.ones(n, dtype=bool), _yes(rng, 0.02, n)),
        "spouses_both_unemployed": Col("bool", _yes(rng, 0.02, n)),
        "unemployed_count": Col("int", _pick(rng, (0.8, 0.15, 0.05), n).astype(np.int64)),
        "other_stable_income": Col("bool", _yes(rng, 0.5, n)),
        "divorced_or_widowed_with_dependants": Col("bool", _yes(rng, 0.05, n)),
        "stable_job_or_income": Col("bool", _yes(rng, 0.6, n)),
        "preferential_card": Col("bool", _yes(rng, 0.02, n)),
        "self_employed": Col("bool", _yes(rng, 0.1, n)),
        "bed_fee": Col("money", rng.integers(20, 80, n) * 100, _yes(rng, 0.05, n)),
        "public_housing_rent": Col("money", rng.integers(50, 500, n) * 100, _yes(rng, 0.02, n)),
        "supported_projects": Col("int", rng.integers(0, 6, n), registered),
        "stable_income_source": Col("bool", _yes(rng, 0.6, n)),
        "major_illness_relief_available": Col("bool", _yes(rng, 0.85, n)),
        "dibao_eligible": Col("bool", _yes(rng, np.where(poor, 0.4, 0.05), n)),
        "guardian_present": Col("bool", _yes(rng, 0.95, n)),
    }
    return out


def draw_block(seed: int, block: int, villages_of: int) -> tuple:
    """The clean facts of one block: household columns, member sizes and member columns."""
    rng = np.random.default_rng([seed, block, 0])
    n = BLOCK
    rows = np.arange(block * BLOCK, (block + 1) * BLOCK, dtype=np.int64)
    village = rows // villages_of
    poverty = _village_poverty(seed, village)
    p_poor = 0.04 + 0.16 * poverty
    rest = 1 - p_poor
    status = _pick(rng, np.stack([p_poor, rest * 0.5, rest * 0.07, rest * 0.08, rest * 0.35], axis=1), n)
    registered = np.isin(status, (POOR, EXITED, MONITORED))
    income = _incomes(rng, status, poverty)
    poor = status == POOR
    grade_p = np.where(poor[:, None], [0.3, 0.4, 0.22, 0.08], [0.6, 0.36, 0.03, 0.01])
    hh = {
        "id": Col("str", _ids("H", rows, 9)),
        "village_id": Col("str", _ids("V", village, 7)),
        "registered": Col("bool", registered),
        "status": Col("enum", status, None, STATUS),
        "income_per_capita": Col("money", income),
        "food_secure": Col("bool", _yes(rng, np.where(poor, 0.9, 0.985), n)),
        "clothing_secure": Col("bool", _yes(rng, np.where(poor, 0.92, 0.99), n)),
        "water_safe": Col("bool", _yes(rng, np.where(poor, 0.8, 0.95), n)),
        "housing_grade": Col("enum", _pick(rng, grade_p, n), None, GRADE),
        "risk_event": Col("bool", _yes(rng, np.where(np.isin(status, (EDGE, MONITORED)), 0.15, 0.05), n)),
    }
    size, members, _, _ = _members(rng, n, registered, status)
    hh |= _household_cols(rng, status, registered, income, poverty, n)
    return hh, size, members


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    text = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, text, "")


# --- unknowns and malformations


def _unknowns(rng, hh: dict, size: np.ndarray, members: dict, rate: float) -> np.ndarray:
    """Null out ``rate`` of every optional fact; returns which households' members list is unknown."""
    n, m = len(size), int(size.sum())
    for name in list(hh):
        if name not in ("id", "village_id"):
            hh[name] = hh[name].masked(rng.random(n) >= rate)
    for name in list(members):
        if name != "disability_grade":  # absent means "no disability" (when_absent 0), never unknown
            members[name] = members[name].masked(rng.random(m) >= rate)
    return rng.random(n) < rate


def _malform(rng, start: int, hh: dict, size: np.ndarray, members: dict, rate: float, members_unknown) -> list:
    """Break ``rate`` of the rows, each in one way of ``KINDS``; the list of what was done.

    A broken fact is always present (a row made unknown there is given the bad value),
    and a row broken inside a member keeps its members list.
    """
    n = len(size)
    rows = np.flatnonzero(rng.random(n) < rate)
    kinds = rng.integers(0, len(KINDS), len(rows))
    picks = rng.integers(0, 1 << 30, (len(rows), 2))
    offsets = np.concatenate(([0], np.cumsum(size)))
    ids = hh["id"].data
    income = _money_text(hh["income_per_capita"]).to_numpy(zero_copy_only=False).astype(object)
    edit = {("h", k): _editable(hh[k], n) for k in ("status", "housing_grade", "income_per_capita")}
    edit |= {("m", k): _editable(members[k], len(members["age"].data)) for k in ("labor", "disability_grade", "age")}
    id_valid = np.ones(n, dtype=bool)
    out = []
    for row, k, (a, b) in zip(rows, kinds, picks):
        kind, i = list(KINDS)[k], a % size[row]
        member, mpath = offsets[row] + i, f"members[{i}]"
        if kind in ("text_in_number", "money_3dp"):
            bad = _BAD_TEXT[b % len(_BAD_TEXT)] if kind == "text_in_number" else f"{4000 + b % 7000}.{b % 100:02d}{1 + b % 9}"
            income[row] = bad
            where, target, value = "income_per_capita", ("h", "income_per_capita", row), None
        elif kind == "undeclared_enum":
            name, good, extra = ("status", STATUS, _BAD_STATUS) if b % 2 == 0 else ("housing_grade", GRADE, _BAD_GRADE)
            where, target, value = name, ("h", name, row), len(good) + b // 2 % len(extra)
        elif kind == "out_of_range":
            where, target, value = f"{mpath}.age", ("m", "age", member), -1 - b % 9
        elif kind == "missing_required":
            id_valid[row] = False
            where, target, value = "id", None, None
        elif b % 3 == 2:  # bad_member: an undeclared labour value
            where, target, value = f"{mpath}.labor", ("m", "labor", member), len(LABOR) + b % len(_BAD_LABOR)
        else:  # bad_member: disability grade 0 ("none" written as a number) or 5
            where, target, value = f"{mpath}.disability_grade", ("m", "disability_grade", member), (0, 5)[b % 2]
        if target is not None:
            data, valid = edit[target[:2]]
            valid[target[2]] = True
            if value is not None:
                data[target[2]] = value
        if where.startswith("members") and members_unknown is not None:
            members_unknown[row] = False
        shown = income[row] if where == "income_per_capita" else _shown(where, value)
        out.append(Malformed(start + int(row), ids[row].as_py() if id_valid[row] else None, kind, where, shown))
    hh["id"] = Col("str", pc.if_else(pa.array(id_valid), ids, pa.nulls(n, pa.string())))
    hh["income_per_capita"] = Col("str", _with_nulls(income, edit[("h", "income_per_capita")][1]))
    for (side, name), (data, valid) in edit.items():
        if name != "income_per_capita":
            cols = hh if side == "h" else members
            old = cols[name]
            values = old.values + {"status": _BAD_STATUS, "housing_grade": _BAD_GRADE, "labor": _BAD_LABOR}.get(name, ())
            cols[name] = Col(old.kind, data, valid, values)
    return out


def _editable(col: Col, n: int) -> tuple:
    return col.data.copy(), (np.ones(n, dtype=bool) if col.valid is None else col.valid.copy())


def _shown(where: str, value) -> str:
    name = where.rsplit(".", 1)[-1]
    table = {"status": STATUS + _BAD_STATUS, "housing_grade": GRADE + _BAD_GRADE, "labor": LABOR + _BAD_LABOR}
    return "" if value is None else table[name][value] if name in table else str(value)


def _with_nulls(values: np.ndarray, valid) -> pa.Array:
    arr = pa.array(values, pa.string())
    return arr if valid is None else pc.if_else(pa.array(valid), arr, pa.nulls(len(arr), pa.string()))


def _money_text(col: Col) -> pa.Array:
    return pc.cast(_decimal(col.data, 2, None), pa.string())


# --- numpy columns to arrow


def _decimal(data: np.ndarray, scale: int, valid) -> pa.Array:
    """int64 units of 10**-scale as an exact decimal128 array (no float on the way)."""
    words = np.empty((len(data), 2), dtype=np.int64)
    words[:, 0] = data
    words[:, 1] = data >> 63  # sign extension of the 128-bit two's complement
    typ = pa.decimal128(14 if scale == 2 else 9, scale)
    arr = pa.Array.from_buffers(typ, len(data), [None, pa.py_buffer(words.tobytes())])
    return arr if valid is None else pc.if_else(pa.array(valid), arr, pa.nulls(len(data), typ))


def _arrow(col: Col) -> pa.Array:
    mask = None if col.valid is None else ~col.valid
    if col.kind == "str":
        return col.data
    if col.kind == "bool":
        return pa.array(col.data, pa.bool_(), mask=mask)
    if col.kind == "int":
        return pa.array(col.data, pa.int64(), mask=mask)
    if col.kind in ("money", "dec"):
        return _decimal(col.data, 2 if col.kind == "money" else col.scale, col.valid)
    if col.kind == "enum":
        idx = pa.array(col.data.astype(np.int32), pa.int32(), mask=mask)
        return pc.take(pa.array(col.values, pa.string()), idx)
    if col.kind == "date":
        return pa.array(col.data.astype(np.int32), pa.date32(), mask=mask)
    raise ValueError(col.kind)


def _table(hh: dict, size: np.ndarray, members: dict, members_unknown, fields: str) -> pa.Table:
    keep_h = (lambda k: k in CONTRACT_HOUSEHOLD or k == "village_id") if fields == "contract" else (lambda k: True)
    keep_m = (lambda k: k in CONTRACT_MEMBER) if fields == "contract" else (lambda k: True)
    if members_unknown is not None and members_unknown.any():
        kept = np.repeat(~members_unknown, size)
        members = {k: _take(c, kept) for k, c in members.items()}
        size = np.where(members_unknown, 0, size)
    struct = pa.StructArray.from_arrays([_arrow(c) for k, c in members.items() if keep_m(k)],
                                        [k for k in members if keep_m(k)])
    offsets = pa.array(np.concatenate(([0], np.cumsum(size))).astype(np.int32))
    mask = None if members_unknown is None else pa.array(members_unknown)
    lists = pa.ListArray.from_arrays(offsets, struct, mask=mask)
    names = [k for k in hh if keep_h(k)]
    cols = [_arrow(hh[k]) for k in names]
    at = names.index("risk_event") + 1
    return pa.table(cols[:at] + [lists] + cols[at:], names=names[:at] + ["members"] + names[at:])


def _take(col: Col, keep: np.ndarray) -> Col:
    valid = None if col.valid is None else col.valid[keep]
    data = col.data.filter(pa.array(keep)) if col.kind == "str" else col.data[keep]
    return Col(col.kind, data, valid, col.values, col.scale)


def _block_table(seed, block, opts) -> tuple:
    """The arrow table of one block and the rows broken in it."""
    hh, size, members = draw_block(seed, block, opts["villages_of"])
    unknown = None
    if opts["unknown_rate"] > 0:
        unknown = _unknowns(np.random.default_rng([seed, block, 1]), hh, size, members, opts["unknown_rate"])
    broken = []
    if opts["malformed_rate"] > 0:
        broken = _malform(np.random.default_rng([seed, block, 2]), block * BLOCK, hh, size, members,
                          opts["malformed_rate"], unknown)
    return _table(hh, size, members, unknown, opts["fields"]), broken


# --- the public API


def iter_households(n: int, seed: int = 0, *, unknown_rate: float = 0.0, malformed_rate: float = 0.0,
                    villages_of: int = 300, chunk_size: int = 100_000, fields: str = "pack") -> Iterator[Chunk]:
    """Chunks of ``chunk_size`` households (the last one shorter) covering rows ``0 … n-1``.

    ``fields``: ``"pack"`` (every fact policy/entities.yaml declares for households and
    members) or ``"contract"`` (issue 3's contract facts only); both add ``village_id``.
    """
    _check(n, unknown_rate, malformed_rate, villages_of, chunk_size, fields)
    opts = dict(unknown_rate=unknown_rate, malformed_rate=malformed_rate, villages_of=villages_of, fields=fields)
    cached: dict = {}
    for start in range(0, n, chunk_size):
        stop = min(n, start + chunk_size)
        parts, broken = [], []
        for block in range(start // BLOCK, (stop - 1) // BLOCK + 1):
            if block not in cached:
                cached.clear()  # a block is reused only by the next chunk
                cached[block] = _block_table(seed, block, opts)
            table, bad = cached[block]
            lo, hi = max(start, block * BLOCK), min(stop, (block + 1) * BLOCK)
            parts.append(table.slice(lo - block * BLOCK, hi - lo))
            broken += [b for b in bad if lo <= b.row < hi]
        yield Chunk(start, pa.concat_tables(parts).combine_chunks(), broken)


def generate_households(n: int, seed: int = 0, **opts) -> pa.Table:
    """All ``n`` households in one table (see ``iter_households`` for the options)."""
    chunks = [c.table for c in iter_households(n, seed, **opts)]
    return pa.concat_tables(chunks).combine_chunks() if chunks else _empty(seed, opts)


def expected_invalid(n: int, seed: int = 0, **opts) -> list:
    """The rows ``malformed_rate`` breaks (``Malformed`` records, by row)."""
    return [b for c in iter_households(n, seed, **opts) for b in c.malformed]


def records(table: pa.Table, drop=("village_id",)) -> list:
    """The rows as raw facts dicts (what ``Policy.evaluate`` takes); nulls left out."""
    cols = [c for c in table.column_names if c not in drop]
    return [_strip(r) for r in table.select(cols).to_pylist()]


def _strip(rec: dict) -> dict:
    out = {k: v for k, v in rec.items() if v is not None}
    if isinstance(out.get("members"), list):
        out["members"] = [None if m is None else {k: v for k, v in m.items() if v is not None}
                          for m in out["members"]]
    return out


def _empty(seed, opts) -> pa.Table:
    first = next(iter_households(1, seed, **opts)).table
    return first.slice(0, 0)


def _check(n, unknown_rate, malformed_rate, villages_of, chunk_size, fields) -> None:
    if n < 0:
        raise ValueError("n must be >= 0")
    for name, rate in (("unknown_rate", unknown_rate), ("malformed_rate", malformed_rate)):
        if not 0 <= rate <= 1 or math.isnan(rate):
            raise ValueError(f"{name} must be in [0, 1]")
    if villages_of < 1 or chunk_size < 1:
        raise ValueError("villages_of and chunk_size must be >= 1")
    if fields not in ("pack", "contract"):
        raise ValueError("fields must be 'pack' or 'contract'")


# --- writing files


@dataclass
class Written:
    """What ``write_households`` wrote."""

    rows: int
    malformed: int
    files: list


def write_households(n: int, path, fmt: str | None = None, seed: int = 0, progress=None, **opts) -> Written:
    """Stream ``n`` households to ``path`` (format from ``fmt`` or the suffix) chunk by chunk.

    CSV also writes ``<stem>.members.csv`` (joined on ``household_id``); with malformed
    rows, ``<stem>.expected_invalid.csv`` lists them (row, id, kind, field, value); its
    ``row`` is 1-based, counting data rows, as in the quarantine file of ``fupin batch``.
    """
    path = Path(path)
    fmt = fmt or {".parquet": "parquet", ".jsonl": "jsonl", ".csv": "csv"}.get(path.suffix, "")
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)} (or a file suffix that names one)")
    writer = {"parquet": _ParquetOut, "jsonl": _JsonlOut, "csv": _CsvOut}[fmt](path)
    malformed, rows = [], 0
    try:
        for chunk in iter_households(n, seed, **opts):
            writer.write(chunk.table)
            malformed += chunk.malformed
            rows += chunk.table.num_rows
            if progress:
                progress(chunk.table.num_rows)
    finally:
        writer.close()
    files = writer.files
    if malformed:
        side = path.with_name(path.stem + ".expected_invalid.csv")
        with side.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(["row", "id", "kind", "field", "value"])
            out.writerows([b.row + 1, b.id or "", b.kind, b.field, b.value] for b in malformed)
        files.append(side)
    return Written(rows, len(malformed), files)


class _ParquetOut:
    def __init__(self, path: Path):
        self.path, self.files, self.writer = path, [path], None

    def write(self, table: pa.Table) -> None:
        import pyarrow.parquet as pq

        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class _CsvOut:
    """Households without members, and members with their ``household_id``, in input order."""

    def __init__(self, path: Path):
        self.members_path = path.with_name(path.stem + ".members.csv")
        self.files = [path, self.members_path]
        self.paths, self.writers = (path, self.members_path), [None, None]

    def write(self, table: pa.Table) -> None:
        import pyarrow.csv as pcsv

        lists = table.column("members").combine_chunks()
        kids = pa.Table.from_struct_array(lists.flatten())
        owner = pc.take(table.column("id"), pc.list_parent_indices(lists))
        kids = kids.add_column(0, "household_id", owner)
        for i, t in enumerate((table.drop_columns(["members"]), kids)):
            if self.writers[i] is None:
                self.writers[i] = pcsv.CSVWriter(self.paths[i], t.schema, write_options=pcsv.WriteOptions(quoting_style="needed"))
            self.writers[i].write_table(t)

    def close(self) -> None:
        for w in self.writers:
            if w is not None:
                w.close()


class _JsonlOut:
    """One JSON object a line, members nested; built with arrow string kernels, not a Python loop."""

    def __init__(self, path: Path):
        self.files, self.fh = [path], path.open("wb")

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            lines = _json_objects(table)
            self.fh.write(("\n".join(lines.to_pylist()) + "\n").encode("utf-8"))

    def close(self) -> None:
        self.fh.close()


_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"
_MONEY_TEXT = ("income_per_capita",)  # string columns (with malformed rows) whose numbers stay bare


def _json_value(arr: pa.Array, bare_numbers: bool = False) -> pa.Array:
    """Each cell as JSON text (numbers and booleans bare, text and dates quoted); null stays null."""
    t = arr.type
    if pa.types.is_struct(t):
        return _json_objects(pa.Table.from_struct_array(arr), arr.is_valid())
    if pa.types.is_list(t):
        inner = _json_value(arr.flatten())
        offsets = pc.subtract(arr.offsets, arr.offsets[0])
        joined = pc.binary_join(pa.ListArray.from_arrays(offsets, inner), ",")
        text = pc.if_else(arr.is_valid(), pc.binary_join_element_wise("[", joined, "]", ""), pa.scalar(None, pa.string()))
    elif pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_decimal(t):
        text = pc.cast(arr, pa.string())
    else:
        s = pc.cast(arr, pa.string())
        escaped = pc.replace_substring(pc.replace_substring(s, "\\", "\\\\"), '"', '\\"')
        text = pc.binary_join_element_wise('"', escaped, '"', "")
        if bare_numbers:
            text = pc.if_else(pc.match_substring_regex(s, _NUMBER), s, text)
    return text  # null where the cell is null


def _json_objects(table: pa.Table, valid=None) -> pa.Array:
    """``{"name": value, …}`` per row; null facts are left out (absent means unknown)."""
    pieces = [pc.binary_join_element_wise(f'"{name}":', _json_value(col.combine_chunks(), name in _MONEY_TEXT), "")
              for name, col in zip(table.column_names, table.columns)]
    body = pc.binary_join_element_wise(*pieces, ",", null_handling="skip") if pieces \
        else pa.array([""] * table.num_rows)
    text = pc.binary_join_element_wise("{", body, "}", "")
    return text if valid is None else pc.if_else(valid, text, pa.scalar("null"))
