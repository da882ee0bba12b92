"""An offline, deterministic Gemini look-alike (ASGI), for `serve --emulator` and end-to-end tests.

Entry point: `gateway.emulator.app.build_emulator_app`. Nothing in the gateway imports this
package except the CLI, which mounts it through `httpx.ASGITransport`.
"""
