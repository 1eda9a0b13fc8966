"""The OpenAPI description against the app: schemathesis generates requests for every
operation (at least 500 in all) and checks that none answers 5xx and that every answer
matches its documented status, content type, headers and schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.errors import PROBLEM
from api.settings import Settings
from engine.clock import FixedClock
from tests.api.harness import KEYS, OPERATOR
from tests.api.rules import NOW, write_rules

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 30
MIN_REQUESTS = 500


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def app_for(rules: Path) -> Any:
    return create_app(Settings(rules_dir=rules, clock=FixedClock(NOW), api_keys=KEYS))


def test_the_description_documents_bodies_errors_and_keys(tmp_path: Path) -> None:
    document = app_for(write_rules(tmp_path)).openapi()
    claim = document["paths"]["/v1/claims"]["post"]
    assert claim["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ClaimRequest"
    }
    assert claim["parameters"][0]["name"] == "Idempotency-Key"
    assert claim["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ClaimResponse"
    }
    unavailable = claim["responses"]["503"]
    assert list(unavailable["content"]) == [PROBLEM] and "Retry-After" in unavailable["headers"]
    assert claim["security"] == [{"bearer": []}]
    assert "HTTPValidationError" not in document["components"]["schemas"]
    upload = document["paths"]["/v1/rulesets"]["post"]["requestBody"]["content"]
    assert set(upload) == {"text/plain", "application/json"}


def test_schemathesis_finds_no_5xx_and_no_answer_off_its_schema(tmp_path: Path) -> None:
    app = app_for(EXAMPLES)  # the rules `make serve` serves, which the examples name
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    sent = 0
    try:
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                pytest.fail(f"an operation of the description is invalid: {result.err()}")
            operation = result.ok()

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                derandomize=True,  # the same requests on every run: no flaky CI
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def exercise(case: schemathesis.Case[Any]) -> None:
                nonlocal sent
                sent += 1
                case.call_and_validate(headers=OPERATOR, checks=CHECKS)

            exercise()
    finally:
        asgi.shutdown_lifespans()
    assert sent >= MIN_REQUESTS
