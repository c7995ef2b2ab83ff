"""aiohttp records and replays gzip, deflate and br responses, as requests and httpx do.

aiohttp decodes a compressed body before vcrpy's stub reads it; the cassette
must store it decoded, without the Content-Encoding it no longer has.
"""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli
import pytest
import yaml

CODINGS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
}


def payload(coding: str) -> dict[str, object]:
    return {"coding": coding, "items": list(range(40)), "text": "é" * 20}


@pytest.fixture
def compressed_api() -> Iterator[list[str]]:
    """A loopback API answering `/v1/<coding>` compressed that way; yields the paths asked."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            coding = self.path.rsplit("/", 1)[-1]
            data = CODINGS[coding](json.dumps(payload(coding)).encode())
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", coding)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        asked.append(f"http://127.0.0.1:{server.server_address[1]}")
        yield asked
    finally:
        server.shutdown()
        server.server_close()


AIOHTTP_TEST = """
import asyncio

import aiohttp
import pytest

BASE = {base!r}


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_get(hl_cassette, coding):
    async def get():
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{{BASE}}/v1/{{coding}}") as response:
                return response.status, await response.json(), await response.read()

    status, body, raw = asyncio.run(get())
    assert status == 200
    assert body["coding"] == coding and body["items"] == list(range(40))
    assert body["text"] == "\\u00e9" * 20
    assert raw.startswith(b'{{"coding"')
"""


def test_aiohttp_compressed_responses_round_trip(
    pytester: pytest.Pytester, compressed_api: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    base = compressed_api.pop(0)
    pytester.makepyfile(test_aio=AIOHTTP_TEST.format(base=base))

    pytester.runpytest("--hl-record-mode=once", "-p", "no:cacheprovider").assert_outcomes(passed=3)
    assert sorted(compressed_api) == ["/v1/br", "/v1/deflate", "/v1/gzip"]
    for coding in CODINGS:
        path = pytester.path / "cassettes" / "test_aio" / f"test_get[{coding}].yaml"
        (interaction,) = yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]
        response = interaction["response"]
        # Stored decoded, byte for byte (json.dumps's spacing: as text, not compact data).
        assert response["body"] == {"text": json.dumps(payload(coding))}
        assert "content-encoding" not in {name.lower() for name in response["headers"]}

    compressed_api.clear()
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)  # replay
    assert compressed_api == []  # answered from the cassettes
