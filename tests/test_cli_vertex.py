"""`GATEWAY_UPSTREAM=vertex gemini-gateway serve --emulator` for real, in a subprocess: the
demo of Vertex mode runs offline (tokens from the emulator's metadata server) and answers."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import openai

from tests.test_cli import _free_port


def test_serve_emulator_in_vertex_mode_answers():
    port = _free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "GATEWAY_", "GOOGLE_"))
    }
    env["GATEWAY_UPSTREAM"] = "vertex"
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--emulator", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):  # bounded: up to ~10 s
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("the gateway did not become healthy")
        client = openai.OpenAI(base_url=f"{base}/v1", api_key="anything", max_retries=0)
        reply = client.chat.completions.create(
            model="gemini-3-pro-preview", messages=[{"role": "user", "content": "hello"}]
        )
        assert reply.choices[0].message.content
        google = reply.choices[0].message.model_dump()["extra_content"]["google"]
        assert google["backend"] == "vertex:emulator-project"
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert b"ya29." not in stderr  # the token never reaches a log line
    assert b"Vertex AI paths" in stderr
