"""The gateway's own OpenAPI description (GET /openapi.json) and a schemathesis run against it
(§6 R2): generated requests for every operation, positive and negative, the app on the
emulator, in-process. (schemathesis' pytest plugin does not run on pytest 9, so each operation's
strategy is driven by hypothesis directly.)"""

from __future__ import annotations

import re
from importlib.resources import files

import httpx
import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from gateway.app import build_app
from gateway.emulator.app import build_emulator_app
from tests.conftest import emulator_stack, make_settings

EXAMPLES = {GenerationMode.POSITIVE: 40, GenerationMode.NEGATIVE: 25}
DOCUMENT = orjson.loads(files("gateway").joinpath("openapi.json").read_bytes())
OPERATIONS = [
    (path, method.upper(), mode)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    for mode in EXAMPLES
    # negative data needs a JSON body to break: a path parameter cannot be made invalid, and in
    # a multipart form every value is text (a "wrong type" is just a repeated field)
    if mode is GenerationMode.POSITIVE
    or "application/json" in operation.get("requestBody", {}).get("content", {})
]


@pytest.fixture(scope="module")
def api_schema():
    emulator = build_emulator_app()
    app = build_app(
        make_settings(fetch_images=False, keepalive_interval=5.0),
        upstream_transport=httpx.ASGITransport(app=emulator),
    )
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.parametrize(
    ("path", "method", "mode"), OPERATIONS, ids=[f"{m} {p} {g}" for p, m, g in OPERATIONS]
)
def test_operation_conforms(api_schema, path, method, mode):
    """Every default check except positive_data_acceptance: the schema cannot say everything
    the gateway validates (a tool message needs its call id, an upload must be an image)."""
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(case):
        case.call_and_validate(excluded_checks=[positive_data_acceptance])

    check()


@pytest.mark.anyio
async def test_openapi_document_is_served_and_describes_every_route():
    async with emulator_stack() as stack, stack.http() as http:
        response = await http.get("/openapi.json")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        doc = response.json()
        # One path item may hold several routes (GET /v1/models/{model_id:anypath}, and the
        # native POST /v1/models/{model_id} whose id is `{model}:{method}`).
        routes = {re.sub(r":\w+}", "}", getattr(route, "path", "")) for route in stack.app.routes}
    assert doc == DOCUMENT
    assert doc["openapi"].startswith("3.1")
    assert routes == set(doc["paths"])
