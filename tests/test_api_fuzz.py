"""Every operation of the OpenAPI document, fuzzed by schemathesis (Hypothesis) as a
signed-in customer, salesman and driver: no answer is a 5xx, and every answer matches
the document (status, content type, body schema). Runs once per CI run (the SQLite
pass): the database engine changes nothing here that the rest of the suite does not
cover on PostgreSQL."""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from tests.conftest import TEST_DATABASE_URL
from tests.order_factory import World
from tests.test_api import bearer, tokens_for

pytestmark = pytest.mark.skipif(bool(TEST_DATABASE_URL),
                                reason="fuzzed once per CI run, on the SQLite pass")
# Examples per operation; CI keeps it small, a developer may raise it (PIFA_FUZZ_EXAMPLES).
EXAMPLES = int(os.environ.get("PIFA_FUZZ_EXAMPLES", "8"))


@pytest.fixture
def fuzz_scene(app, make):
    """A customer with an order, its region's salesman and the assigned driver (made
    again for each operation: every test starts from an empty database)."""
    with app.app_context():
        world = World(app, make)
        world.order("assigned")
    client = app.test_client()
    people = {who: bearer(tokens_for(client, ref.mobile)["access_token"])
              for who, ref in (("customer", world.customer), ("salesman", world.salesman),
                               ("driver", world.driver))}
    return people


def test_every_operation_answers_as_documented(app, fuzz_scene):
    # One test walks the operations (schemathesis's pytest plugin needs pytest < 9);
    # a failure names its operation, and Hypothesis shows the smallest failing case.
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:
        run = given(case=operation.as_strategy())(settings(
            max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
            suppress_health_check=list(HealthCheck))(_calls(fuzz_scene)))
        try:
            run()
        except Exception as exc:
            raise AssertionError(f"{operation.label}: {exc}") from exc


# What must always hold. Not "a schema-valid request is accepted" (positive data
# acceptance): a well-formed but wrong bind ticket, order number or code must be refused.
CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_schema_conformance]


def _calls(people):
    def call(case):
        for headers in people.values():
            case.call_and_validate(headers={**headers, "Accept-Language": "zh"},
                                   checks=CHECKS)

    return call
