"""Schemathesis fuzzes every API operation from the OpenAPI schema: no 5xx, and every answer is one the
schema documents (status code, content type, headers and body).

Derandomized (the same examples every run) and bounded (`MAX_EXAMPLES` per operation), so it is a
regular, fast test. It runs as every role: as an admin, who passes every role check, so the handlers
behind the checks are reached with `MAX_EXAMPLES` each; as a merchandiser, a buyer and a factory with
`ROLE_EXAMPLES` each, so what a role may not do answers as documented too (403, 404, and the buyer's
rate limits' 429). A workspace with factories, a trend series and a published design gives the ids the
fuzzer tries (small integers) something to find.
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
ROLE_EXAMPLES = 4  # per operation for the other roles: the handlers are reached as admin already
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
            factory_id = production.factories(s)[0].factory_id
            tokens = {}
            for role, extra in (("admin", {}), ("merchandiser", {}), ("buyer", {}), ("factory", {"factory_id": factory_id})):
                user = accounts.create_user(s, f"fuzz-{role}", "correct horse battery", role, **extra)
                tokens[role] = accounts.issue_token(s, user, utcnow(), timedelta(hours=1))
    finally:
        ws.close()
    return create_app(settings_), tokens


@pytest.mark.parametrize("role", ["admin", "merchandiser", "buyer", "factory"])
def test_every_operation_answers_as_documented_and_never_500(fuzz_target, role):
    app, tokens = fuzz_target
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {tokens[role]}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    # Signing out would end the fuzzer's own session half-way; the auth tests cover it. So would an admin
    # taking its own fuzzing accounts away (they are refused only for the admin's own account).
    operations = [op for op in operations if (op.method.upper(), op.path) != ("DELETE", "/api/v1/auth/token")]
    assert len(operations) >= 25
    most = MAX_EXAMPLES if role == "admin" else ROLE_EXAMPLES
    for operation in operations:
        fewer = FEWER.get((operation.method.upper(), operation.path), most)

        @given(case=operation.as_strategy())
        @settings(max_examples=min(most, fewer if role == "admin" else 1 if fewer < most else most), derandomize=True,
                  deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def fuzz(case: schemathesis.Case) -> None:
            # generating up to 100 designs, each with its image, outlasts the 10 s default on a busy machine
            case.call_and_validate(headers=headers, checks=CHECKS, timeout=120)

        fuzz()
