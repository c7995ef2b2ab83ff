"""hl_testkit.secrets.scrub: pure functions, no network. The keys below are made up."""

from __future__ import annotations

import base64
import copy
import gzip
import json
import zlib
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote, quote_plus

import pytest

from hl_testkit.cassettes import matching
from hl_testkit.cassettes.file import dumps, loads
from hl_testkit.cassettes.model import (
    CassetteData,
    Headers,
    Interaction,
    RecordedRequest,
    RecordedResponse,
)
from hl_testkit.client import PROVIDER_KEY_ARGS
from hl_testkit.secrets import scrub
from hl_testkit.secrets.scrub import (
    REDACTED,
    Leak,
    ScrubError,
    ScrubRules,
    Secret,
    find_key_shaped,
    find_leaks,
    known_secrets,
    scrub_body,
    scrub_interaction,
    scrub_text,
    scrub_uri,
    secret_forms,
)

# `+`, `/` and `=` on purpose: they change under every encoding.
HL_KEY = "hl_sk_Ab+Cd/Ef=Gh9Xy/zZq+Tw0=="
OPENAI_KEY = "sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2"
ANTHROPIC_KEY = "sk-ant-api03-Zz9Yy8Xx7Ww6Vv5Uu4"
ENV = {
    "HUMANLOOP_API_KEY": HL_KEY,
    "OPENAI_API_KEY": OPENAI_KEY,
    "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
}
SECRETS = known_secrets(ENV)
ALL_VALUES = (HL_KEY, OPENAI_KEY, ANTHROPIC_KEY)
BASE = "https://api.humanloop.com/v4"


def exchange(
    uri: str = BASE + "/sessions",
    *,
    request_headers: Headers | None = None,
    request_body: bytes | None = None,
    status: int = 200,
    response_headers: Headers | None = None,
    response_body: bytes = b"",
) -> Interaction:
    return Interaction(
        RecordedRequest("POST", uri, request_headers or {}, request_body),
        RecordedResponse(status, "OK", response_headers or {}, response_body),
    )


def assert_no_secret(text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    for value in ALL_VALUES:
        for form in secret_forms(value):
            assert form.encode() not in data


# -- known secrets and their forms ---------------------------------------------------


def test_known_secrets_reads_env_skips_empty_and_short_and_sorts_longest_first() -> None:
    env = {**ENV, "COHERE_API_KEY": "abc", "AI21_API_KEY": "", "MY_TOKEN": "  tok-123456\n"}
    found = known_secrets(env, extra_env_names=["MY_TOKEN"], extra={"MOCK_API_KEY": "x"})

    assert [s.source for s in found] == [
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "HUMANLOOP_API_KEY",
        "MY_TOKEN",
    ]
    assert found[-1].value == "tok-123456"  # stripped of the shell's whitespace


def test_known_secrets_takes_explicit_extras_and_keeps_the_first_label_of_a_value() -> None:
    found = known_secrets(
        {"HUMANLOOP_API_KEY": HL_KEY},
        extra={"HUMANLOOP_API_KEY_AGAIN": HL_KEY, "OPENAI_AZURE_API_KEY": "azure-key-123"},
    )
    assert [(s.source, s.value) for s in found] == [
        ("HUMANLOOP_API_KEY", HL_KEY),
        ("OPENAI_AZURE_API_KEY", "azure-key-123"),
    ]


def test_every_client_provider_label_is_read_from_the_environment() -> None:
    assert set(PROVIDER_KEY_ARGS.values()) <= set(scrub.DEFAULT_SECRET_ENV)


def test_secret_repr_and_placeholder_never_show_the_value() -> None:
    secret = Secret("HUMANLOOP_API_KEY", HL_KEY)
    assert secret.placeholder == "<HUMANLOOP_API_KEY>"
    assert HL_KEY not in repr(secret)
    assert HL_KEY not in str(SECRETS)


def test_secret_forms_cover_url_and_base64_encodings() -> None:
    raw = HL_KEY.encode()
    expected = {
        HL_KEY,
        quote(HL_KEY, safe=""),
        quote(HL_KEY),
        quote_plus(HL_KEY),
        "hl_sk_Ab%2bCd%2fEf%3dGh9Xy%2fzZq%2bTw0%3d%3d",  # lower-case hex, as some clients send
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }
    assert expected <= secret_forms(HL_KEY)
    assert {"YWJjZGVmZw==", "YWJjZGVmZw"} <= secret_forms("abcdefg")  # with and without padding


# -- by value -------------------------------------------------------------------------


def test_a_key_that_contains_another_is_replaced_whole() -> None:
    inner = Secret("INNER", "abcdef123")
    outer = Secret("OUTER", "abcdef123456")
    secrets = known_secrets({}, extra={"INNER": inner.value, "OUTER": outer.value})
    assert scrub_text("x abcdef123456 y abcdef123 z", secrets) == "x <OUTER> y <INNER> z"


def test_scrub_text_replaces_every_form() -> None:
    text = (
        f"raw {HL_KEY}; pct {quote(HL_KEY, safe='')}; plus {quote_plus(HL_KEY)}; "
        f"b64 {base64.b64encode(HL_KEY.encode()).decode()}; "
        f"b64url {base64.urlsafe_b64encode(OPENAI_KEY.encode()).decode().rstrip('=')}"
    )
    scrubbed = scrub_text(text, SECRETS)
    assert_no_secret(scrubbed)
    assert scrubbed.count("<HUMANLOOP_API_KEY>") == 4
    assert "<OPENAI_API_KEY>" in scrubbed


@pytest.mark.parametrize("user", ["u", "us", "api", "someone@example.com"])
def test_a_key_inside_base64_of_user_colon_key_is_found_at_any_alignment(user: str) -> None:
    blob = base64.b64encode(f"{user}:{HL_KEY}".encode()).decode()
    leaks = find_leaks(blob, SECRETS)
    assert [leak.source for leak in leaks] == ["HUMANLOOP_API_KEY"]
    assert leaks[0].form.startswith("base64")
    assert find_leaks(scrub_text(blob, SECRETS), SECRETS) == []


def test_key_echoed_in_a_response_body_and_error_message_is_replaced() -> None:
    body = f'{{"detail": "Invalid API key {HL_KEY}", "echo": "{ANTHROPIC_KEY}"}}'.encode()
    out = scrub_interaction(exchange(status=401, response_body=body), SECRETS)
    assert out.response.body == (
        b'{"detail": "Invalid API key <HUMANLOOP_API_KEY>", "echo": "<ANTHROPIC_API_KEY>"}'
    )


def test_base64_encoded_key_in_a_body_is_replaced() -> None:
    encoded = base64.b64encode(OPENAI_KEY.encode()).decode()
    out = scrub_interaction(exchange(response_body=f"token={encoded}".encode()), SECRETS)
    assert out.response.body == b"token=<OPENAI_API_KEY>"


def test_json_escaped_slashes_are_replaced() -> None:
    escaped = HL_KEY.replace("/", "\\/")
    out = scrub_interaction(exchange(response_body=f'{{"k": "{escaped}"}}'.encode()), SECRETS)
    assert out.response.body == b'{"k": "<HUMANLOOP_API_KEY>"}'


# -- headers ------------------------------------------------------------------------


ODD = "hl_sk&<te>\"st-K\u00e9~y'9\t8\U0001f600765"  # quote, tab, Latin-1, beyond the BMP


@pytest.mark.parametrize(
    "shown",
    [
        repr(ODD),  # a repr in a failure, a record_property value
        ascii(ODD),  # \xe9, \U0001f600
        ODD.encode("unicode_escape").decode("ascii"),  # pytest's parametrize ids
        json.dumps(ODD),  # \u00e9, a surrogate pair
        json.dumps(ODD, ensure_ascii=False),
    ],
    ids=["repr", "ascii", "unicode_escape", "json-ascii", "json"],
)
def test_a_key_escaped_by_python_or_json_is_replaced_and_named(shown: str) -> None:
    secret = Secret("HUMANLOOP_API_KEY", ODD)
    key = shown[1:-1] if shown[0] in "'\"" else shown  # inside its quotes, if any
    assert scrub_text(f"x{shown}x", [secret]) == "x" + shown.replace(key, secret.placeholder) + "x"
    [(_, name, found)] = scrub._replacer((secret,)).find(f"x{shown}x".encode())
    assert found == secret
    assert name in ("python-escaped", "json-escaped")


def test_headers_by_name_whatever_their_case() -> None:
    out = scrub_interaction(
        exchange(
            request_headers={
                "X-Api-KEY": HL_KEY,
                "AUTHORIZATION": f"Bearer {OPENAI_KEY}",
                "proxy-authorization": "Basic dXNlcjpub3Qta25vd24=",
                "x-custom-token": "unknown-but-named",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Content-Length": "0",
            }
        ),
        SECRETS,
    )
    assert out.request.headers == {
        "X-Api-KEY": "<HUMANLOOP_API_KEY>",
        "AUTHORIZATION": "Bearer <OPENAI_API_KEY>",
        "proxy-authorization": f"Basic {REDACTED}",
        "x-custom-token": REDACTED,
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Content-Length": "0",  # the body did not change
    }


def test_unknown_bearer_token_is_redacted_keeping_the_scheme() -> None:
    out = scrub_interaction(
        exchange(request_headers={"Authorization": "Bearer not-a-known-secret-value"}), SECRETS
    )
    assert out.request.headers == {"Authorization": f"Bearer {REDACTED}"}


def test_basic_auth_carrying_a_known_key_is_redacted_entirely() -> None:
    basic = base64.b64encode(f"user:{HL_KEY}".encode()).decode()
    out = scrub_interaction(exchange(request_headers={"Authorization": f"Basic {basic}"}), SECRETS)
    assert out.request.headers == {"Authorization": f"Basic {REDACTED}"}


def test_cookies_and_repeated_set_cookie_are_redacted() -> None:
    out = scrub_interaction(
        exchange(
            request_headers={"Cookie": "sid=abc123; theme=dark"},
            response_headers={
                "Set-Cookie": ["sid=abc123; Path=/; HttpOnly", f"k={HL_KEY}"],
                "WWW-Authenticate": 'Bearer realm="api"',
            },
        ),
        SECRETS,
    )
    assert out.request.headers == {"Cookie": REDACTED}
    assert out.response.headers == {
        "Set-Cookie": [REDACTED, REDACTED],
        "WWW-Authenticate": 'Bearer realm="api"',  # a challenge, not a credential
    }


def test_location_header_carrying_the_key() -> None:
    location = f"https://example.com/cb?api_key={quote(HL_KEY, safe='')}&state={HL_KEY}#top"
    out = scrub_interaction(
        exchange(status=302, response_headers={"Location": location}),
        SECRETS,
    )
    assert out.response.headers == {
        "Location": f"https://example.com/cb?api_key={REDACTED}&state=<HUMANLOOP_API_KEY>#top"
    }


def test_a_known_key_in_an_ordinary_header_is_replaced() -> None:
    out = scrub_interaction(
        exchange(response_headers={"X-Debug": f"caller={OPENAI_KEY}"}),
        SECRETS,
    )
    assert out.response.headers == {"X-Debug": "caller=<OPENAI_API_KEY>"}


# -- URIs ---------------------------------------------------------------------------


def test_query_parameters_by_name_keep_order_and_other_params() -> None:
    uri = f"{BASE}/sessions?project_id=pr_demo&API-Key=whatever&page=2&x_access_token=t0k&size="
    assert scrub_uri(uri, SECRETS) == (
        f"{BASE}/sessions?project_id=pr_demo&API-Key={REDACTED}&page=2"
        f"&x_access_token={REDACTED}&size="
    )


@pytest.mark.parametrize(
    "encoded", [HL_KEY, quote(HL_KEY, safe=""), quote_plus(HL_KEY), quote(HL_KEY)]
)
def test_key_in_a_query_raw_or_percent_encoded(encoded: str) -> None:
    by_name = scrub_uri(f"{BASE}/sessions?key={encoded}", SECRETS)
    by_value = scrub_uri(f"{BASE}/sessions?state={encoded}&page=1", SECRETS)
    assert by_name == f"{BASE}/sessions?key={REDACTED}"
    assert by_value == f"{BASE}/sessions?state=<HUMANLOOP_API_KEY>&page=1"


def test_pagination_tokens_and_max_tokens_are_not_credentials() -> None:
    uri = f"{BASE}/logs?page_token=abc&next_page_token=def&max_tokens=5"
    assert scrub_uri(uri, SECRETS) == uri


def test_a_scrubbed_uri_still_matches_a_live_request_with_another_key() -> None:
    recorded = scrub_uri(f"{BASE}/sessions?api_key={HL_KEY}&state={HL_KEY}", SECRETS)
    replay_key = "hl_sk_a-different-dummy-key"
    replay_secrets = known_secrets({"HUMANLOOP_API_KEY": replay_key})
    live = scrub_uri(f"{BASE}/sessions?api_key={replay_key}&state={replay_key}", replay_secrets)

    def key(uri: str) -> matching.RequestKey:
        return matching.request_key("GET", uri, None, "/v4")

    assert key(live) == key(recorded)
    assert key(live).query == (("api_key", REDACTED), ("state", "<HUMANLOOP_API_KEY>"))


# -- bodies -------------------------------------------------------------------------


def provider_body() -> bytes:
    body = {
        "provider_api_keys": {
            "openai": OPENAI_KEY,
            "anthropic": ANTHROPIC_KEY,
            "azure": {"key": "az-123456"},
        },
        "config": {"model": "gpt-4", "max_tokens": 100, "nested": [{"cohere_api_key": "co-9999"}]},
        "inputs": {"page_token": "p2"},
        "empty_token": "",
    }
    return json.dumps(body, indent=2).encode()


def test_provider_keys_in_a_json_request_body_with_charset() -> None:
    out = scrub_interaction(
        exchange(
            request_headers={"Content-Type": "application/json; charset=utf-8"},
            request_body=provider_body(),
        ),
        SECRETS,
    )
    assert out.request.body is not None
    assert matching.canonical_body(out.request.body) == matching.canonical_body(
        '{"provider_api_keys": {"openai": "<REDACTED>", "anthropic": "<REDACTED>",'
        ' "azure": {"key": "<REDACTED>"}},'
        ' "config": {"model": "gpt-4", "max_tokens": 100,'
        ' "nested": [{"cohere_api_key": "<REDACTED>"}]},'
        ' "inputs": {"page_token": "p2"}, "empty_token": ""}'
    )


def test_a_body_that_merely_parses_as_json_is_redacted_by_name() -> None:
    body = b'[{"password": "hunter2-hunter2"}]'
    out = scrub_body(body, {"Content-Type": "text/plain"}, SECRETS)
    assert out == b'[{"password":"<REDACTED>"}]'


def test_a_form_encoded_body_is_redacted_by_name() -> None:
    body = b"grant_type=client_credentials&client_secret=s3cr3t-value&scope=all"
    headers: Headers = {"content-type": "application/x-www-form-urlencoded"}
    assert scrub_body(body, headers, SECRETS) == (
        b"grant_type=client_credentials&client_secret=<REDACTED>&scope=all"
    )


def test_a_body_without_secrets_keeps_its_exact_bytes() -> None:
    body = b'{ "b": 1,  "a": [1, 2] }'
    assert scrub_body(body, {}, SECRETS) == body
    assert scrub_body(None, {}, SECRETS) is None


def test_scrubbed_request_body_matches_the_live_one_scrubbed_with_other_keys() -> None:
    stored = scrub_interaction(exchange(request_body=provider_body()), SECRETS).request.body
    other_keys = provider_body().replace(OPENAI_KEY.encode(), b"sk-dummy-for-ci-000000")
    live = scrub_body(other_keys, {}, known_secrets({"OPENAI_API_KEY": "sk-dummy-for-ci-000000"}))
    assert matching.canonical_body(live) == matching.canonical_body(stored)


# -- compressed bodies ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, no zlib wrapper
    ],
)
def test_compressed_body_is_decoded_scrubbed_and_its_headers_fixed(
    encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    plain = f'{{"detail": "bad key {HL_KEY}"}}'.encode()
    packed = compress(plain)
    out = scrub_interaction(
        exchange(
            response_headers={
                "content-encoding": encoding,
                "Content-Length": str(len(packed)),
                "Content-Type": "application/json",
            },
            response_body=packed,
        ),
        SECRETS,
    )
    assert out.response.body == b'{"detail": "bad key <HUMANLOOP_API_KEY>"}'
    assert out.response.headers == {"Content-Type": "application/json"}


def test_stacked_encodings_are_undone_in_reverse_order() -> None:
    packed = zlib.compress(gzip.compress(HL_KEY.encode()))
    body = scrub_body(packed, {"Content-Encoding": "gzip, deflate"}, SECRETS)
    assert body == b"<HUMANLOOP_API_KEY>"


def test_brotli_is_used_when_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = SimpleNamespace(decompress=lambda data: data[::-1])  # a stand-in "codec"
    monkeypatch.setattr(scrub, "_BROTLI", fake)
    body = scrub_body(HL_KEY.encode()[::-1], {"Content-Encoding": "br"}, SECRETS)
    assert body == b"<HUMANLOOP_API_KEY>"


def test_brotli_without_the_module_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scrub, "_BROTLI", None)
    with pytest.raises(ScrubError, match="brotli"):
        scrub_body(b"\x8b\x02\x80", {"Content-Encoding": "br"}, SECRETS)


@pytest.mark.parametrize(
    ("encoding", "body"), [("zstd", b"\x28\xb5\x2f\xfd"), ("gzip", b"not gzip " + b"x" * 20)]
)
def test_undecodable_bodies_are_refused_without_showing_them(encoding: str, body: bytes) -> None:
    with pytest.raises(ScrubError, match=encoding) as info:
        scrub_body(body + HL_KEY.encode(), {"Content-Encoding": encoding}, SECRETS)
    assert HL_KEY not in str(info.value)


# -- the whole interaction ------------------------------------------------------------


def leaky_interaction() -> Interaction:
    basic = base64.b64encode(f"me:{ANTHROPIC_KEY}".encode()).decode()
    return Interaction(
        RecordedRequest(
            "POST",
            f"{BASE}/sessions?api_key={quote(HL_KEY, safe='')}&cb={quote_plus(OPENAI_KEY)}",
            {
                "Content-Type": "application/json; charset=utf-8",
                "X-API-KEY": HL_KEY,
                "Authorization": f"Basic {basic}",
            },
            provider_body(),
        ),
        RecordedResponse(
            401,
            f"Unauthorized {HL_KEY}",
            {
                "Content-Encoding": "gzip",
                "Content-Type": "application/json",
                "Set-Cookie": f"s={OPENAI_KEY}",
                "Location": f"{BASE}/login?token={HL_KEY}",
            },
            gzip.compress(
                f'{{"detail": "Invalid API key {HL_KEY}",'
                f' "b64": "{base64.b64encode(OPENAI_KEY.encode()).decode()}",'
                f' "basic": "{basic}"}}'.encode()
            ),
        ),
    )


def test_a_dumped_cassette_has_no_leaks_after_scrubbing_and_some_before() -> None:
    original = leaky_interaction()
    before = find_leaks(dumps(CassetteData([original])), SECRETS)
    text = dumps(CassetteData([scrub_interaction(original, SECRETS)]))

    assert {leak.source for leak in before} >= {"HUMANLOOP_API_KEY", "OPENAI_API_KEY"}
    assert find_leaks(text, SECRETS) == []
    assert find_key_shaped(text) == []
    assert_no_secret(text)
    assert "<HUMANLOOP_API_KEY>" in text


def test_scrubbing_never_mutates_its_input() -> None:
    original = leaky_interaction()
    untouched = copy.deepcopy(original)
    scrub_interaction(original, SECRETS)
    assert original == untouched


def test_scrubbing_twice_changes_nothing_more() -> None:
    once = scrub_interaction(leaky_interaction(), SECRETS)
    assert scrub_interaction(once, SECRETS) == once


def test_with_no_known_secrets_names_still_protect() -> None:
    out = scrub_interaction(leaky_interaction(), [])
    assert out.request.headers["X-API-KEY"] == REDACTED
    assert out.request.uri.startswith(f"{BASE}/sessions?api_key={REDACTED}&cb=")


# -- user additions -------------------------------------------------------------------


def test_user_added_names_values_and_functions() -> None:
    calls: list[str] = []

    def drop_debug_header(interaction: Interaction) -> Interaction:
        calls.append(interaction.response.headers.get("X-Sig", ""))  # type: ignore[arg-type]
        interaction.response.headers.pop("X-Debug", None)
        return interaction

    rules = ScrubRules().extended(
        header_names=["X-Sig"],
        query_names=["sessionid"],
        field_names=["webhook_*"],
        values={"INTERNAL_TOKEN": "int-0123456789"},
        functions=[drop_debug_header],
    )
    original = exchange(
        uri=f"{BASE}/x?SessionId=abc&q=int-0123456789",
        request_body=b'{"webhook_url": "https://hooks.example.com/T000/B000/XXXX"}',
        response_headers={"X-Sig": "sig-value", "X-Debug": "1"},
    )
    out = scrub_interaction(original, SECRETS, rules)

    assert out.request.uri == f"{BASE}/x?SessionId={REDACTED}&q=<INTERNAL_TOKEN>"
    assert out.request.body == b'{"webhook_url":"<REDACTED>"}'
    assert out.response.headers == {"X-Sig": REDACTED}
    assert calls == [REDACTED]  # functions see the already scrubbed interaction
    assert original.response.headers == {"X-Sig": "sig-value", "X-Debug": "1"}  # on a copy
    assert scrub_uri(f"{BASE}/x?SessionId=abc", SECRETS) == f"{BASE}/x?SessionId=abc"


def test_user_values_too_short_to_scrub_are_an_error_that_hides_them() -> None:
    with pytest.raises(ValueError, match="MY_PIN") as info:
        ScrubRules(values={"MY_PIN": "4711"})
    assert "4711" not in str(info.value)
    assert "int-0123456789" not in repr(ScrubRules(values={"T": "int-0123456789"}))


# -- leaks and key-shaped strings ------------------------------------------------------


def test_find_leaks_reports_source_form_and_line_never_the_value() -> None:
    text = (
        "line one\n"
        f"uri: {BASE}/s?x={quote(HL_KEY, safe='')}\n"
        "line three\n"
        f"b: {base64.b64encode(OPENAI_KEY.encode()).decode()}\n"
        f"raw: {ANTHROPIC_KEY}\n"
    )
    leaks = find_leaks(text, SECRETS)

    assert leaks == [
        Leak("HUMANLOOP_API_KEY", "percent-encoded", 2),
        Leak("OPENAI_API_KEY", "base64", 4),
        Leak("ANTHROPIC_API_KEY", "raw", 5),
    ]
    for shown in (repr(leaks), str(leaks)):
        for value in ALL_VALUES:
            assert value not in shown


def test_find_leaks_works_on_bytes_and_finds_nothing_in_clean_text() -> None:
    assert find_leaks(f"a\n\n{HL_KEY}".encode(), SECRETS) == [Leak("HUMANLOOP_API_KEY", "raw", 3)]
    assert find_leaks("nothing <HUMANLOOP_API_KEY> here", SECRETS) == []
    assert find_leaks(HL_KEY, []) == []


def test_find_key_shaped() -> None:
    text = "\n".join(
        [
            "a: sk-" + "q8Zr2LmX9vTa" * 2,  # 1
            "b: hl_sk_0123456789abcdef01",  # 2
            "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123",  # 3
            "api_key: q8Zr2LmX9vTa7KpW4nBc6YdE1sFh3GjU",  # 4
            '{"client_secret": "Q8zR2lMx9VtA7kPw4NbC6yDe"}',  # 5
            "uri: https://x/y?token=Q8zR2lMx9VtA7kPw4NbC6yDe1sFh&page=1",  # 6
            # not findings:
            "X-API-KEY: <HUMANLOOP_API_KEY>",
            "Authorization: Bearer <OPENAI_API_KEY>",
            "session_key: sesh_q8Zr2LmX9vTa7KpW4nBc6YdE1sFh3GjU",
            "api_key: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",  # long but not random
            "id: q8Zr2LmX9vTa7KpW4nBc6YdE1sFh3GjU",  # random but not under a key name
            "task-" + "q8Zr2LmX9vTa" * 2,
            "max_tokens: 4096",
        ]
    )
    found = find_key_shaped(text)

    assert [(f.line, f.kind, f.field) for f in found] == [
        (1, "sk- key", None),
        (2, "hl_sk_ key", None),
        (3, "bearer token", None),
        (4, "high-entropy value", "api_key"),
        (5, "high-entropy value", "client_secret"),
        (6, "high-entropy value", "token"),
    ]
    assert "q8Zr2LmX9vTa" not in repr(found)


def test_shannon_entropy() -> None:
    assert scrub.shannon_entropy("aaaa") == 0
    assert scrub.shannon_entropy("abcd") == 2.0


def test_rescrubbing_a_stored_cassette_without_the_keys_keeps_its_placeholders() -> None:
    once = scrub_interaction(leaky_interaction(), SECRETS)
    assert scrub_interaction(once, []) == once


# -- credential fields in JSON the parser balks at ------------------------------------------

_UNKNOWN = "sk-unknown-provider-key-1234567890"  # a credential the environment does not hold


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("1" * 5000, "Exceeds the limit (4300 digits) for integer string conversion"),
        ("[" * 5000 + "]" * 5000, "it is nested deeper than Python's recursion limit"),
    ],
)
def test_a_credential_field_in_json_past_the_parsers_limits_is_refused_not_kept(
    extra: str, reason: str
) -> None:
    """Before, the parse failed and the body was kept as it came: the field's value
    reached the file, and the leak guard, which knows only the environment's
    secrets, could not see it."""
    body = f'{{"api_key":"{_UNKNOWN}","n":{extra}}}'.encode()
    with pytest.raises(ScrubError) as caught:
        scrub_interaction(exchange(response_body=body), SECRETS)
    assert str(caught.value).startswith(
        "a JSON body that may hold a credential field could not be parsed to redact it: "
    )
    assert reason in str(caught.value)
    assert _UNKNOWN not in str(caught.value)


def test_json_that_is_not_json_or_names_no_credential_is_kept_as_it_came() -> None:
    for body in (b'{"api_key": oops', b'{"n":' + b"1" * 5000 + b"}"):
        scrubbed = scrub_interaction(exchange(response_body=body), SECRETS)
        assert scrubbed.response.body == body


def test_a_redacted_body_with_a_lone_surrogate_escape_is_written_escaped() -> None:
    # Before: UnicodeEncodeError from the scrubber, a traceback instead of a recording.
    body = f'{{"api_key":"{_UNKNOWN}","s":"\\ud800é"}}'.encode()
    scrubbed = scrub_interaction(exchange(response_body=body), SECRETS).response.body
    assert json.loads(scrubbed) == {"api_key": REDACTED, "s": "\ud800é"}
    assert scrubbed.isascii()
    assert json.loads(dumps_and_loads_body(scrubbed)) == json.loads(scrubbed)


def dumps_and_loads_body(body: bytes) -> bytes:
    data = CassetteData([exchange(response_body=body)])
    (interaction,) = loads(dumps(data), Path("c.yaml")).interactions
    return interaction.response.body
