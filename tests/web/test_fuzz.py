"""Schemathesis against the app's own OpenAPI document, in-process: valid and invalid requests alike
get a documented status, content type and body, and never a server error."""

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config._auth import OpenAPIAuthConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conversations_mock import create_app
from tests.helpers import API_KEY

# Settings from the test alone, never from the machine's environment (as the conftest fixture does).
APP = create_app({}, environ={})
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)
# The key is the document's security scheme, not a parameter: schemathesis sends it through the scheme.
schema.config.auth.openapi = OpenAPIAuthConfig(schemes={"ApiKey": {"api_key": API_KEY}})
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


def test_requests_carry_the_key_through_the_security_scheme():
    # Without it every request would be a 401 and the fuzzing above would test nothing past the key.
    statuses = set()

    @given(case=schema["/chatbots/{chatbot_id}/conversations"]["GET"].as_strategy())
    @settings(max_examples=30, derandomize=True, suppress_health_check=list(HealthCheck), deadline=None)
    def call(case):
        statuses.add(case.call().status_code)

    call()
    assert 200 in statuses, statuses
