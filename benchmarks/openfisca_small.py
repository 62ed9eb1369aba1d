"""The benchmark ruleset (small_policy/) written the way OpenFisca intends.

A person entity (the members) and a household group entity; dated parameters in a
``ParameterNode``; one ``Variable`` per rule with a vectorized formula: enums as
``Enum`` classes, the tier table as ``select`` over Enum items, members aggregated with
``household.all`` / ``household.sum`` and read back with ``person.household``. Amounts
are OpenFisca floats (float32), as a model would declare them; ``run.py`` compares
them with fupin's exact fen after rounding to the fen.

openfisca-core is a benchmark-only dependency (benchmarks/requirements.txt).
"""
from __future__ import annotations

import numpy as np
from openfisca_core.entities import build_entity
from openfisca_core.indexed_enums import Enum
from openfisca_core.model_api import select
from openfisca_core.parameters import ParameterNode
from openfisca_core.periods import DateUnit
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

YEAR = DateUnit.YEAR
PERIOD = "2020"  # parameters are read on 2020-01-01: the same values as on 2020-06-30
OUTPUTS = ["guarantees_met", "exit_eligible", "monitoring_tier", "monitoring_measure", "education_aid_once",
           "public_welfare_job_subsidy_monthly"]

Person = build_entity(key="person", plural="persons", label="Household member", is_person=True)
Household = build_entity(key="household", plural="households", label="Household",
                         roles=[{"key": "member", "plural": "members", "label": "Member"}])


class Status(Enum):
    poor = "未脱贫"
    exited = "已脱贫"
    edge = "边缘户"
    monitored = "脱贫监测户"
    ordinary = "一般农户"


class HousingGrade(Enum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Labor(Enum):
    full = "full"
    partial = "partial"
    none = "none"


class SchoolStage(Enum):
    none = "none"
    preschool = "preschool"
    primary = "primary"
    junior = "junior"
    high = "high"
    vocational = "vocational"
    college = "college"


class Tier(Enum):
    red = "red"
    yellow = "yellow"
    green = "green"
    none = "none"


class Measure(Enum):
    fill = "fill"
    support = "support"
    guide = "guide"
    none = "none"


def _input(name, entity, value_type, enum=None):
    attrs = {"value_type": value_type, "entity": entity, "definition_period": YEAR, "label": name}
    if enum is not None:
        attrs |= {"possible_values": enum, "default_value": list(enum)[0]}
    return type(name, (Variable,), attrs)


INPUTS = [
    _input("registered", Household, bool), _input("status", Household, Enum, Status),
    _input("income_per_capita", Household, float), _input("food_secure", Household, bool),
    _input("clothing_secure", Household, bool), _input("water_safe", Household, bool),
    _input("housing_grade", Household, Enum, HousingGrade), _input("risk_event", Household, bool),
    _input("age", Person, int), _input("labor", Person, Enum, Labor), _input("medical_insured", Person, bool),
    _input("school_stage", Person, Enum, SchoolStage), _input("enrolled", Person, bool),
    _input("public_welfare_job", Person, bool), _input("disability_grade", Person, int),
]


class housing_safe(Variable):
    value_type, entity, definition_period = bool, Household, YEAR

    def formula(household, period, parameters):
        grade = household("housing_grade", period)
        return (grade == HousingGrade.A) + (grade == HousingGrade.B)


class compulsory_school_age(Variable):
    value_type, entity, definition_period = bool, Person, YEAR

    def formula(person, period, parameters):
        p = parameters(period).compulsory_school_age
        age = person("age", period)
        return (age >= p.min) * (age <= p.max)


class education_ok(Variable):
    value_type, entity, definition_period = bool, Household, YEAR

    def formula(household, period, parameters):
        in_age = household.members("compulsory_school_age", period)
        enrolled = household.members("enrolled", period)
        return household.all(~in_age + enrolled)


class medical_ok(Variable):
    value_type, entity, definition_period = bool, Household, YEAR

    def formula(household, period, parameters):
        return household.all(household.members("medical_insured", period))


class guarantees_met(Variable):
    value_type, entity, definition_period = bool, Household, YEAR

    def formula(household, period, parameters):
        return (household("food_secure", period) * household("clothing_secure", period)
                * household("water_safe", period) * household("housing_safe", period)
                * household("education_ok", period) * household("medical_ok", period))


class exit_eligible(Variable):
    value_type, entity, definition_period = bool, Household, YEAR

    def formula(household, period, parameters):
        line = parameters(period).exit_income_line
        return ((household("status", period) == Status.poor) * (household("income_per_capita", period) > line)
                * household("guarantees_met", period))


class monitoring_tier(Variable):
    value_type, entity, definition_period = Enum, Household, YEAR
    possible_values, default_value = Tier, Tier.none

    def formula(household, period, parameters):
        p = parameters(period).monitoring
        status = household("status", period)
        income = household("income_per_capita", period)
        guarantees = household("guarantees_met", period)
        risk = household("risk_event", period)
        low, high = income < p.red_income_line, income >= p.green_income_line
        exited = status == Status.exited
        return select(
            [(status == Status.monitored) + (status == Status.edge),
             exited * (low + risk + ~guarantees),
             exited * ~high,
             exited,
             (status == Status.ordinary) * low * (risk + ~guarantees)],
            [Tier.red, Tier.red, Tier.yellow, Tier.green, Tier.red], Tier.none)


class monitoring_measure(Variable):
    value_type, entity, definition_period = Enum, Household, YEAR
    possible_values, default_value = Measure, Measure.none

    def formula(household, period, parameters):
        tier = household("monitoring_tier", period)
        return select([tier == Tier.red, tier == Tier.yellow, tier == Tier.green],
                      [Measure.fill, Measure.support, Measure.guide], Measure.none)


class member_education_aid_once(Variable):
    value_type, entity, definition_period = float, Person, YEAR

    def formula(person, period, parameters):
        p = parameters(period).edu_aid
        stage = person("school_stage", period)
        amount = select([stage == SchoolStage.high, stage == SchoolStage.vocational, stage == SchoolStage.college],
                        [p.high_school, p.vocational, p.college], 0)
        return amount * person.household("registered", period) * person("enrolled", period)


class education_aid_once(Variable):
    value_type, entity, definition_period = float, Household, YEAR

    def formula(household, period, parameters):
        return household.sum(household.members("member_education_aid_once", period))


class member_job_subsidy_monthly(Variable):
    value_type, entity, definition_period = float, Person, YEAR

    def formula(person, period, parameters):
        pay = parameters(period).public_welfare_job_pay
        return pay * person.household("registered", period) * person("public_welfare_job", period)


class public_welfare_job_subsidy_monthly(Variable):
    value_type, entity, definition_period = float, Household, YEAR

    def formula(household, period, parameters):
        return household.sum(household.members("member_job_subsidy_monthly", period))


def _values(dated: dict) -> dict:
    return {"values": {day: {"value": v} for day, v in dated.items()}}


PARAMETERS = {
    "exit_income_line": _values({"2016-01-01": 4000}),
    "compulsory_school_age": {"min": _values({"2016-01-01": 6}), "max": _values({"2016-01-01": 15})},
    "monitoring": {"red_income_line": _values({"2020-01-01": 5000}),
                   "green_income_line": _values({"2020-01-01": 10000})},
    "edu_aid": {"high_school": _values({"2016-01-01": 3000}), "vocational": _values({"2016-01-01": 2000}),
                "college": _values({"2016-01-01": 8000})},
    "public_welfare_job_pay": _values({"2020-01-01": 400}),
}


class SmallSystem(TaxBenefitSystem):
    """The six outputs and the rules they need, over the contract facts."""

    def __init__(self):
        super().__init__([Person, Household])
        for var in [*INPUTS, housing_safe, compulsory_school_age, education_ok, medical_ok, guarantees_met,
                    exit_eligible, monitoring_tier, monitoring_measure, member_education_aid_once,
                    education_aid_once, member_job_subsidy_monthly, public_welfare_job_subsidy_monthly]:
            self.add_variable(var)
        self.parameters = ParameterNode("", data=PARAMETERS)


def simulation(system, h: dict, m: dict, parent: np.ndarray):
    """A simulation over households ``h`` and members ``m`` (numpy columns, as numpy_small reads)."""
    builder = SimulationBuilder()
    builder.create_entities(system)
    builder.declare_person_entity("person", np.arange(len(parent)))
    households = builder.declare_entity("household", np.arange(len(h["status"])))
    builder.join_with_persons(households, parent, np.zeros(len(parent), dtype=np.int64))
    sim = builder.build(system)
    for name in ("registered", "food_secure", "clothing_secure", "water_safe", "risk_event", "status",
                 "housing_grade"):
        sim.set_input(name, PERIOD, h[name])
    sim.set_input("income_per_capita", PERIOD, h["income_per_capita"] / 100)
    for name in ("age", "labor", "medical_insured", "school_stage", "enrolled", "public_welfare_job"):
        sim.set_input(name, PERIOD, m[name])
    return sim


def evaluate(sim) -> dict:
    """The six outputs: booleans, enum indices (int16), amounts in fen (rounded from floats)."""
    out = {}
    for name in OUTPUTS:
        value = sim.calculate(name, PERIOD)
        if name in ("monitoring_tier", "monitoring_measure"):
            value = np.asarray(value).astype(np.int16)
        elif value.dtype.kind == "f":
            value = np.round(value.astype(np.float64) * 100).astype(np.int64)
        out[name] = value
    return out
