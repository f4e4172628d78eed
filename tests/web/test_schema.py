"""schemathesis against the API's own OpenAPI document: generated requests to every operation,
as an administrator (the widest access), must never produce a server error."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from openeis.web.app import create_app
from support.web_world import KEY, WEB_CONFIG, build_world

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    work = tmp_path_factory.mktemp("schema")
    return build_world(str(work / "web.duckdb"), work, officers=60)


def test_api_never_fails_with_a_server_error(world):
    """Every operation, 25 generated requests each (hypothesis, as schemathesis draws them).
    Driven by hand rather than by schemathesis' pytest plugin, which does not load under
    pytest 9."""
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(world.url, KEY, WEB_CONFIG, vault_key_file=world.vault_key_file))
    headers = {"Authorization": f"Bearer {world.tokens['admin']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 23  # every operation is exercised (a new one raises the count)
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def exercise(case):
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])

        exercise()
