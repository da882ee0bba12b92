"""A multi-MB JSON answer goes out in pieces over a real socket, whole and with its length."""

from __future__ import annotations

import os

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.routes.common import PIECE_BYTES, PiecewiseResponse, json_response
from tests.hardening.loopback import serve

BIG = {"data": os.urandom(3 * 1024 * 1024).hex(), "n": 1}


async def big(request: Request) -> Response:
    return json_response(BIG, headers={"x-check": "yes"})


def test_large_answers_are_piecewise_and_small_ones_are_not():
    assert isinstance(json_response(BIG), PiecewiseResponse)
    assert not isinstance(json_response({"a": "x" * PIECE_BYTES}), PiecewiseResponse)


def test_a_large_answer_arrives_whole_over_a_socket():
    app = Starlette(routes=[Route("/big", big)])
    with serve(app, http="httptools") as base:
        answer = httpx.get(base + "/big", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-length"] == str(len(answer.content))
    assert answer.headers["x-check"] == "yes"
    assert orjson.loads(answer.content) == BIG
