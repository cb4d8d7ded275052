"""Schemathesis against the app's own OpenAPI document, in-process: valid and invalid requests alike
get a documented status, content type and body, and never a server error."""

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conversations_mock import create_app

# Settings from the test alone, never from the machine's environment (as the conftest fixture does).
APP = create_app({}, environ={})
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)
# Bounded and derandomised so CI stays fast and a failure is the same on every run.
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=150, deterministic=True
)
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


@schema.hook("map_headers")
def no_simulated_errors_or_delays(ctx, headers):
    """Prefer asks for a simulated 500 (code=500) or a wait (delay=60000) by design: fuzz the rest of it."""
    if headers and any(word in str(headers.get("Prefer", "")).lower() for word in ("code", "delay")):
        headers = {name: value for name, value in headers.items() if name != "Prefer"}
    return headers


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_api_conforms_to_its_document(case):
    case.call_and_validate(checks=CHECKS)
