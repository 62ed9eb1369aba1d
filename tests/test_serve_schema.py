"""schemathesis against the served ``/openapi.json``: requests made from the schema (and
from its negation) never get a 5xx, and every answer conforms to the schema: its status
is documented, its content type too, its body matches.

Examples are bounded for CI (``FUPIN_SCHEMA_EXAMPLES``, default 12 per operation); set it
higher for a longer manual run.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from fupin.web.app import create_app
from fupin.web.config import Limits, ServeConfig
from fupin.web.state import Served

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = int(os.environ.get("FUPIN_SCHEMA_EXAMPLES", "12"))
# many jobs and a long time: a 503 here would be the bound doing its work, not a fault
LIMITS = Limits(jobs=10_000, jobs_kept=8, seconds=60)
APP = create_app(ServeConfig(policy=str(ROOT / "policy"), limits=LIMITS,
                             work_dir=tempfile.mkdtemp(prefix="fupin-schema-")), Served(ROOT / "policy"))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
# The coverage phase walks every boundary of every one of the ~80 facts fields of each
# entity (minutes per operation); CI keeps the examples and fuzzing phases.
schema.config.phases.coverage.enabled = os.environ.get("FUPIN_SCHEMA_COVERAGE") == "1"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_its_schema_says(case):
    case.call_and_validate(checks=CHECKS)
