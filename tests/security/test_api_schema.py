"""schemathesis against /api/v1/openapi.json through the WSGI app: for generated requests
(valid and invalid) every endpoint answers without a 5xx and as its schema says
(status code documented, body matching its response schema, content type, headers)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks


@pytest.fixture
def keep_test_connection():
    """The WSGI handler closes "old" connections at the start and end of each request, which
    would end the test's transaction; Django's test client disconnects these signals too."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def api_operations():
    from django.core.wsgi import get_wsgi_application

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.slow
@pytest.mark.django_db
def test_api_matches_its_schema(world, keep_test_connection):
    operations = api_operations()
    labels = sorted(op.label for op in operations)
    assert {"GET /api/v1/tickets", "POST /api/v1/tickets"} <= set(labels), labels
    headers = {"Authorization": f"Bearer {world.raw_token}"}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            check_operation(operation, headers, mode)


def check_operation(operation, headers, mode):
    strategy = operation.as_strategy(generation_mode=mode)
    if strategy is not None:

        @settings(
            max_examples=40,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(data=st.data())
        def check(data):
            case = data.draw(strategy)
            # Invalid requests must not 5xx and must answer as documented; the API is lenient on
            # purpose about an unknown `lang` (it falls back), so "negative data accepted" is no
            # failure here.
            excluded = [checks.negative_data_rejection] if mode == GenerationMode.NEGATIVE else []
            case.call_and_validate(
                headers={**headers, **(case.headers or {})}, excluded_checks=excluded
            )

        check()


@pytest.mark.slow
@pytest.mark.django_db
def test_agents_api_matches_its_schema_with_a_staff_token(world, keep_test_connection):
    """The agents' API (issue #18) with a staff token: generated queue filters, ticket numbers
    and bodies never 5xx and always answer as documented."""
    from diagnosis.desk.api_tokens import staff_token_create

    raw = staff_token_create(user=world.agent)[1]
    operations = [op for op in api_operations() if "/desk/" in op.label]
    assert len(operations) == 5, [op.label for op in operations]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            check_operation(operation, {"Authorization": f"Bearer {raw}"}, mode)
