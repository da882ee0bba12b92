"""Legitimate fetches and the fetch limits (test plan S2), against a loopback server.

The loopback server is reachable only because each policy here allow-lists it explicitly; the
same server without the allow-list is refused like any other loopback address.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import logging
import ssl
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.errors import InvalidImageUrlError
from gateway.media.fetch import FetchedImage, FetchPolicy, ImageFetcher
from gateway.media.pinned_transport import Resolver

pytestmark = pytest.mark.anyio

PARAM = "messages[0].content[1].image_url.url"


def allow(server: Any, **overrides: Any) -> FetchPolicy:
    return FetchPolicy(allowed_hosts=frozenset({server.host}), **overrides)


async def fetch(policy: FetchPolicy, url: str, **kwargs: Any) -> FetchedImage:
    async with ImageFetcher(policy, **kwargs) as fetcher:
        return await fetcher.fetch(url, param=PARAM)


async def refusal(policy: FetchPolicy, url: str, **kwargs: Any) -> str:
    with pytest.raises(InvalidImageUrlError) as info:
        await fetch(policy, url, **kwargs)
    assert info.value.param == PARAM
    assert info.value.code == "invalid_image_url"
    return info.value.message


# ------------------------------------------------------------------------ allow-list


async def test_allowlisted_loopback_server_serves_a_png(server: Any, png_bytes: bytes) -> None:
    server.respond("/cat.png?sig=secret", body=png_bytes, headers={"content-type": "image/png"})
    image = await fetch(allow(server), server.url("/cat.png?sig=secret"))
    assert image.mime_type == "image/png"
    assert image.size == len(png_bytes)
    assert base64.b64decode(image.data_b64) == png_bytes
    sent = server.requests[0].headers
    assert "authorization" not in sent and "cookie" not in sent
    assert sent["accept-encoding"] == "identity"


async def test_cookies_a_server_sets_are_never_sent_back(server: Any, png_bytes: bytes) -> None:
    server.respond("/a.png", body=png_bytes, headers={"set-cookie": "session=abc; Path=/"})
    async with ImageFetcher(allow(server, cache_entries=0)) as fetcher:
        await fetcher.fetch(server.url("/a.png"), param=PARAM)
        await fetcher.fetch(server.url("/a.png"), param=PARAM)
    assert [r.headers.get("cookie") for r in server.requests] == [None, None]


def test_policy_rejects_settings_that_disable_a_limit() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        FetchPolicy(max_bytes=0)
    with pytest.raises(ValueError, match="timeouts"):
        FetchPolicy(total_timeout=0)


async def test_allowlist_entry_without_port_allows_any_port(server: Any, png_bytes: bytes) -> None:
    server.respond("/a.png", body=png_bytes)
    policy = FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"}))
    assert (await fetch(policy, server.url("/a.png"))).mime_type == "image/png"


async def test_same_server_is_refused_without_allowlist(server: Any, png_bytes: bytes) -> None:
    server.respond("/a.png", body=png_bytes)
    policy = FetchPolicy(allowed_ports=frozenset({80, 443, server.port}))
    message = await refusal(policy, server.url("/a.png"))
    assert message == "image URL refused: host resolves to a loopback address"
    assert server.hits["/a.png"] == 0


async def test_host_off_a_nonempty_allowlist_is_refused(server: Any, png_bytes: bytes) -> None:
    server.respond("/a.png", body=png_bytes)
    policy = FetchPolicy(allowed_hosts=frozenset({"images.example.com"}))
    assert "allow-list" in await refusal(policy, server.url("/a.png"))
    assert server.hits["/a.png"] == 0


async def test_allowlisted_name_is_dialled_at_the_resolved_address(
    server: Any, png_bytes: bytes, dial_guard: list[str], stub_resolver: Callable[..., Resolver]
) -> None:
    server.respond("/a.png", body=png_bytes)
    calls: list[str] = []
    resolver = stub_resolver({"images.internal": ["127.0.0.1"]}, calls)
    policy = FetchPolicy(allowed_hosts=frozenset({f"images.internal:{server.port}"}))
    image = await fetch(policy, f"http://images.internal:{server.port}/a.png", resolver=resolver)
    assert image.size == len(png_bytes)
    assert calls == ["images.internal"] and dial_guard == ["127.0.0.1"]
    assert server.requests[0].headers["host"] == f"images.internal:{server.port}"


async def test_disabled_fetching_is_refused(server: Any) -> None:
    async with ImageFetcher(allow(server, enabled=False)) as fetcher:
        with pytest.raises(InvalidImageUrlError) as info:
            await fetcher.fetch(server.url("/a.png"), param=PARAM)
        assert fetcher.stats["refusals"] == 1
    assert info.value.message == "image URL fetching is disabled on this gateway"
    assert server.hits["/a.png"] == 0


async def test_http_refused_when_only_https_is_allowed(server: Any) -> None:
    message = await refusal(allow(server, allow_http=False), server.url("/a.png"))
    assert message == "image URL refused: only https URLs can be fetched"


# ------------------------------------------------------------------------ content sniffing


async def test_html_labelled_png_is_refused(server: Any) -> None:
    body = b"<!doctype html><html><body>Not Found</body></html>" * 4
    server.respond("/a.png", body=body, headers={"content-type": "image/png"})
    message = await refusal(allow(server), server.url("/a.png"))
    assert "did not return a supported image" in message
    assert "html" not in message.lower()  # the body is never echoed


async def test_png_labelled_text_plain_is_accepted(server: Any, png_bytes: bytes) -> None:
    server.respond("/a.txt", body=png_bytes, headers={"content-type": "text/plain"})
    assert (await fetch(allow(server), server.url("/a.txt"))).mime_type == "image/png"


async def test_jpeg_and_webp_are_accepted(
    server: Any, jpeg_bytes: bytes, webp_bytes: bytes
) -> None:
    server.respond("/a", body=jpeg_bytes)
    server.respond("/b", body=webp_bytes)
    assert (await fetch(allow(server), server.url("/a"))).mime_type == "image/jpeg"
    assert (await fetch(allow(server), server.url("/b"))).mime_type == "image/webp"


async def test_gif_is_refused_with_a_conversion_hint(server: Any, gif_bytes: bytes) -> None:
    server.respond("/a.gif", body=gif_bytes, headers={"content-type": "image/gif"})
    message = await refusal(allow(server), server.url("/a.gif"))
    assert "GIF" in message and "PNG or JPEG" in message


async def test_tiny_body_is_refused(server: Any) -> None:
    server.respond("/a.png", body=b"\x89PN")
    assert "supported image" in await refusal(allow(server), server.url("/a.png"))


async def test_compressed_response_is_refused(server: Any, png_bytes: bytes) -> None:
    server.respond("/a.png", body=png_bytes, headers={"content-encoding": "gzip"})
    assert "Content-Encoding" in await refusal(allow(server), server.url("/a.png"))


async def test_error_status_is_refused(server: Any) -> None:
    assert await refusal(allow(server), server.url("/missing")) == ("image URL returned HTTP 404")


# ------------------------------------------------------------------------ size and time


async def test_declared_oversize_is_refused_before_the_body(server: Any) -> None:
    async def handler(_request: Any, writer: asyncio.StreamWriter) -> None:
        writer.write(server.head(200, {"content-length": str(10**9)}))
        await writer.drain()
        await asyncio.sleep(30)  # the body never comes; the client must not wait for it

    server.routes["/huge.png"] = handler
    message = await refusal(allow(server), server.url("/huge.png"))
    assert message == "image is larger than the 20 MiB limit"


async def test_chunked_body_is_cut_at_the_cap(server: Any, png_bytes: bytes) -> None:
    sent: list[int] = []

    async def handler(_request: Any, writer: asyncio.StreamWriter) -> None:
        writer.write(server.head(200, {"transfer-encoding": "chunked"}))
        chunk = png_bytes[:16] + b"\0" * 4080
        for _ in range(25_000):  # 100 MB if nobody stops reading: more than socket buffers hold
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
            sent.append(len(chunk))
        writer.write(b"0\r\n\r\n")

    server.routes["/stream.png"] = handler
    message = await refusal(allow(server, max_bytes=64 * 1024), server.url("/stream.png"))
    assert message == "image is larger than the 64 KiB limit"
    assert sum(sent) < 25_000 * 4096


async def test_slow_drip_is_cut_at_the_total_deadline(server: Any, png_bytes: bytes) -> None:
    async def handler(_request: Any, writer: asyncio.StreamWriter) -> None:
        writer.write(server.head(200, {"content-length": str(len(png_bytes))}))
        for byte in png_bytes:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.5)  # each read succeeds well inside read_timeout

    server.routes["/drip.png"] = handler
    policy = allow(server, total_timeout=1.5, read_timeout=10.0)
    assert await refusal(policy, server.url("/drip.png")) == "timed out fetching image URL"


# ------------------------------------------------------------------------ redirects


async def test_redirects_within_the_allowlist_are_followed(server: Any, png_bytes: bytes) -> None:
    server.redirect("/a", 302, "/b")
    server.redirect("/b", 308, server.url("/c.png"))
    server.respond("/c.png", body=png_bytes)
    assert (await fetch(allow(server), server.url("/a"))).size == len(png_bytes)


async def test_redirect_chain_longer_than_the_limit_is_refused(server: Any) -> None:
    for i in range(6):
        server.redirect(f"/r{i}", 302, f"/r{i + 1}")
    message = await refusal(allow(server, max_redirects=3), server.url("/r0"))
    assert message == "image URL refused: too many redirects"
    assert sum(server.hits.values()) == 4  # the first request plus three hops


async def test_redirect_without_location_is_refused(server: Any) -> None:
    server.respond("/r", status=302)
    assert "no Location" in await refusal(allow(server), server.url("/r"))


# ------------------------------------------------------------------------ cache


def cache_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    """The cache decisions logged at debug: (host, decision), never a path."""
    return [
        (r.image_host, r.cache)  # type: ignore[attr-defined]
        for r in caplog.records
        if r.getMessage() == "image fetch cache"
    ]


async def test_same_url_twice_hits_the_server_once(
    server: Any, png_bytes: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="gateway.media")
    server.respond("/a.png", body=png_bytes)
    async with ImageFetcher(allow(server)) as fetcher:
        first = await fetcher.fetch(server.url("/a.png"), param=PARAM)
        second = await fetcher.fetch(server.url("/a.png"), param=PARAM)
        assert fetcher.stats == {"fetches": 1, "cache_hits": 1, "revalidations": 0, "refusals": 0}
    assert first == second
    assert server.hits["/a.png"] == 1
    assert cache_lines(caplog) == [(server.host, "miss"), (server.host, "hit")]
    assert "a.png" not in caplog.text


async def test_cache_scopes_do_not_share_entries(server: Any, png_bytes: bytes) -> None:
    server.respond("/a.png", body=png_bytes)
    async with ImageFetcher(allow(server)) as fetcher:
        await fetcher.fetch(server.url("/a.png"), param=PARAM, scope="tenant-a")
        await fetcher.fetch(server.url("/a.png"), param=PARAM, scope="tenant-b")
    assert server.hits["/a.png"] == 2


async def test_no_store_is_fetched_every_time(server: Any, png_bytes: bytes) -> None:
    server.respond("/a.png", body=png_bytes, headers={"cache-control": "no-store"})
    async with ImageFetcher(allow(server)) as fetcher:
        await fetcher.fetch(server.url("/a.png"), param=PARAM)
        await fetcher.fetch(server.url("/a.png"), param=PARAM)
        assert fetcher.stats["cache_hits"] == 0
    assert server.hits["/a.png"] == 2


async def test_disabled_cache_fetches_every_time(server: Any, png_bytes: bytes) -> None:
    server.respond("/a.png", body=png_bytes)
    async with ImageFetcher(allow(server, cache_entries=0)) as fetcher:
        await fetcher.fetch(server.url("/a.png"), param=PARAM)
        await fetcher.fetch(server.url("/a.png"), param=PARAM)
    assert server.hits["/a.png"] == 2


@pytest.mark.parametrize(
    ("validator", "conditional"),
    [
        ({"etag": '"v1"'}, ("if-none-match", '"v1"')),
        (
            {"last-modified": "Tue, 25 Nov 2025 10:00:00 GMT"},
            ("if-modified-since", "Tue, 25 Nov 2025 10:00:00 GMT"),
        ),
    ],
)
async def test_stale_entry_is_revalidated_and_reused_on_304(
    server: Any,
    png_bytes: bytes,
    validator: dict[str, str],
    conditional: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="gateway.media")
    header, value = conditional

    async def handler(request: Any, writer: asyncio.StreamWriter) -> None:
        if request.headers.get(header) == value:
            writer.write(server.head(304, {**validator, "cache-control": "max-age=0"}))
        else:
            length = str(len(png_bytes))
            headers = {**validator, "cache-control": "max-age=0", "content-length": length}
            writer.write(server.head(200, headers) + png_bytes)
        await writer.drain()

    server.routes["/a.png"] = handler
    async with ImageFetcher(allow(server)) as fetcher:
        first = await fetcher.fetch(server.url("/a.png"), param=PARAM)
        second = await fetcher.fetch(server.url("/a.png"), param=PARAM)
        assert fetcher.stats["revalidations"] == 1
    assert second == first
    assert server.hits["/a.png"] == 2
    assert header not in server.requests[0].headers
    assert server.requests[1].headers[header] == value
    decisions = [cache for _, cache in cache_lines(caplog)]
    assert decisions == ["miss", "stale", "revalidated"]


# ------------------------------------------------------------------------ TLS through a pinned IP


def _self_signed(name: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


async def test_tls_verifies_the_host_name_while_dialling_the_checked_ip(
    tmp_path: Any,
    server_factory: Any,
    png_bytes: bytes,
    stub_resolver: Callable[..., Resolver],
    dial_guard: list[str],
) -> None:
    """The socket goes to 127.0.0.1, but SNI and the certificate check still use the name."""
    cert_pem, key_pem = _self_signed("img.test")
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    seen_sni: list[str | None] = []
    server_ctx.sni_callback = lambda _sock, name, _ctx: seen_sni.append(name)
    client_ctx = ssl.create_default_context(cadata=cert_pem.decode("ascii"))

    tls = await server_factory(ssl_context=server_ctx)
    tls.respond("/a.png", body=png_bytes)
    resolver = stub_resolver({"img.test": ["127.0.0.1"], "wrong.test": ["127.0.0.1"]})
    policy = FetchPolicy(
        allowed_hosts=frozenset({f"img.test:{tls.port}", f"wrong.test:{tls.port}"})
    )

    image = await fetch(
        policy, f"https://img.test:{tls.port}/a.png", resolver=resolver, ssl_context=client_ctx
    )
    assert image.size == len(png_bytes)
    assert seen_sni == ["img.test"] and dial_guard == ["127.0.0.1"]

    # Same IP, a name the certificate does not cover: verification must fail.
    message = await refusal(
        policy, f"https://wrong.test:{tls.port}/a.png", resolver=resolver, ssl_context=client_ctx
    )
    assert message == "image URL could not be fetched: connection failed"
    assert tls.hits["/a.png"] == 1
