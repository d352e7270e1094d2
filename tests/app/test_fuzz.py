"""Schemathesis fuzzes every API operation from the OpenAPI schema: no 5xx, and every answer is one the
schema documents (status code, content type, headers and body).

Derandomized (the same examples every run) and bounded (`MAX_EXAMPLES` per operation), so it is a
regular, fast test. It runs as an admin, who passes every role check, so the handlers behind the
checks are reached; a workspace with factories, a trend series and a published design gives the ids
the fuzzer tries (small integers) something to find.
"""

from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from app.api.main import create_app
from app.db import transaction
from app.models import utcnow
from app.services import accounts, designs, production, trends
from app.settings import Settings
from app.workspace import Workspace
from generation.trends.synthetic import make_trend_sample
from matching.factories.synthetic import make_factory_registry

MAX_EXAMPLES = 12
# Generating renders an image per design (n up to 100): a few examples show it answers as documented.
FEWER = {("POST", "/api/v1/merchandiser/designs/generate"): 3}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory):
    """(app, admin token) over a small workspace; schemathesis runs the app's lifespan itself."""
    settings_ = Settings(home=tmp_path_factory.mktemp("fuzz"), decide_every_s=0)
    ws = Workspace.open(settings_)
    try:
        with transaction(ws.sessions) as s:
            production.import_factories(s, make_factory_registry(60))
            sample = make_trend_sample(ws.taxonomy, weeks=104, seed=2).frame
            trends.ingest_frame(s, sample, ws.taxonomy, source="fuzz")
            (draft,) = designs.generate(s, ws.taxonomy, ws.images, settings_.images_dir, n=1,
                                        cost_share=settings_.cost_share)
            designs.publish(s, ws, [draft.id], now=utcnow())
            accounts.create_user(s, "shop", "correct horse battery", "buyer")
            admin = accounts.create_user(s, "root", "correct horse battery", "admin")
            token = accounts.issue_token(s, admin, utcnow(), timedelta(hours=1))
    finally:
        ws.close()
    return create_app(settings_), token


def test_every_operation_answers_as_documented_and_never_500(fuzz_target):
    app, token = fuzz_target
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    # Signing out would end the fuzzer's own session half-way; the auth tests cover it.
    operations = [op for op in operations if (op.method.upper(), op.path) != ("DELETE", "/api/v1/auth/token")]
    assert len(operations) >= 25
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=FEWER.get((operation.method.upper(), operation.path), MAX_EXAMPLES), derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        fuzz()
