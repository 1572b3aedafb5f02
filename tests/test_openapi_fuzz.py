"""schemathesis against the REST API's OpenAPI schema on a live server: generated requests, valid and invalid,
must never get a server error, and the answers must match the schema (response bodies, content types).

The schema is the one the server publishes at /api/openapi.json (`api.openapi.build_openapi`, checked equal below);
operations are collected from it directly, with Hypothesis driving schemathesis's strategies (schemathesis's own
pytest plugin does not run under pytest 9)."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from test_pages import live_server

from api import openapi

EXAMPLES = 10  # per operation and mode: every parameter's edge cases without a long run
SCHEMA = schemathesis.openapi.from_dict(openapi.build_openapi())
OPERATIONS = {op.label: op for op in (r.ok() for r in SCHEMA.get_all_operations())}
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def base(request) -> str:
    return live_server(request)


def test_served_schema_is_the_one_fuzzed(base):
    assert httpx.get(f"{base}/api/openapi.json", timeout=30).json() == openapi.build_openapi()
    assert len(OPERATIONS) >= 9


def _cases() -> list:
    """(operation, mode): valid requests for every operation, invalid ones for those with parameters."""
    out = []
    for label in sorted(OPERATIONS):
        method, path = label.split(" ", 1)
        has_parameters = bool(SCHEMA.raw_schema["paths"][path][method.lower()].get("parameters"))
        out.append(pytest.param(label, GenerationMode.POSITIVE, id=f"{label}-valid"))
        if has_parameters:
            out.append(pytest.param(label, GenerationMode.NEGATIVE, id=f"{label}-invalid"))
    return out


@pytest.mark.parametrize(("label", "mode"), _cases())
def test_operation_never_fails(base, label, mode):
    operation = OPERATIONS[label]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
    )
    def run(case):
        case.call_and_validate(base_url=base, checks=CHECKS, timeout=120)

    run()
