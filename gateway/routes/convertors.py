"""The `anypath` route parameter: starlette's `path` is `.*`, which stops at a newline, so
`GET /v1/models/a%0A:b` matched no GET route, fell through to the POST route beside it and got a
405 (a client's odd id deserves the model route's own 404). `anypath` takes every character."""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class AnyPath(Convertor[str]):
    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


ANYPATH = "anypath"
register_url_convertor(ANYPATH, AnyPath())


def route_label(template: str) -> str:
    """The route template as logs and the `route` metric label show it: `anypath` is an
    implementation detail, the label stays `{…:path}` as documented (docs/logging.md), so
    dashboards and alerts keyed on it keep working."""
    return template.replace(f":{ANYPATH}}}", ":path}")
