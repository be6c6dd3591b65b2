"""Hostile input against the consent endpoints: a clear 4xx or ignored, never a 500, never a record.

SPEC, "Reliability and security goals". Hand-written corpora hold the attacks we know of;
hypothesis adds the cases nobody thought of, derandomized so that CI replays the same ones. Every
request goes through `Probe.send`, which checks what must hold whatever the input (no 5xx, exactly
the records intended, no header smuggled in, no redirect off the site) and counts the cases for
the figures printed at the end of the run: the records of the valid decisions a test means to
make (a hostile `next` on a valid form, a GPC signal on a hostile path) are reported apart. The
one request that only sets a case up (the decision whose cookie is then replayed) is not counted.
"""

from __future__ import annotations

import datetime
import io
import json
import string
import time
import uuid
from collections.abc import Awaitable, Iterator
from typing import Any
from unittest import mock
from urllib.parse import urlencode, urlsplit

import pytest
from asgiref.sync import async_to_sync
from django.core import signing
from django.test import AsyncClient, Client
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from consent.categories import CATEGORIES, OPTIONAL, normalise
from consent.decisions import ACTIONS
from consent.models import ConsentRecord, UnknownCookie
from consent.state import SALT, Consent
from consent.unknown import sightings
from consent.views import API_SURFACES, RECEIPT_SALT
from tests.factories import make_consent_cookie

pytestmark = pytest.mark.django_db

COOKIE = "iportalis_consent"
HOST = "testserver"
# What every injection attempt tries to smuggle into the response.
INJECTED_HEADER = "x-hostile"
INJECTED_COOKIE = "hostile"
PAGES = ("/", "/cookie-settings/", "/cookie-settings/receipt.json", "/api/consent/")
ENDPOINTS = ("/consent/", "/api/consent/", "/cookie-settings/", "/cookie-settings/receipt.json")
ACTION_VALUES = tuple(str(action) for action in ACTIONS)
SURFACE_VALUES = tuple(str(surface) for surface in API_SURFACES)
FIELDS = ("action", "choices", "surface", "path")
VALID_JSON = json.dumps({"action": "accept_all"}).encode()
VALID_FORM = urlencode({"action": "accept_all", "surface": "banner", "next": "/"}).encode()
FORM = "application/x-www-form-urlencoded"
ALNUM = set(string.ascii_letters + string.digits)
# A CSRF secret and the token that matches it: the controls that pass the CSRF check.
CSRF_SECRET = "Hostile0Input0Csrf0Secret0abcdef"

fuzz = hypothesis_settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


class Probe:
    """Send hostile requests, check what every answer must hold, and count them."""

    def __init__(self) -> None:
        self.sent = 0
        self.server_errors = 0
        self.unintended_records = 0
        self.decisions = 0

    def send(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        content_type: str = "application/json",
        *,
        client: Client | AsyncClient | None = None,
        records: int = 0,
        **extra: Any,
    ) -> Any:
        """Send one request and check it: below 500, exactly `records` records written, no
        consent cookie without a record, nothing injected, no redirect off the site."""
        client = client or Client()
        before = ConsentRecord.objects.count()
        self.sent += 1
        try:
            if isinstance(client, AsyncClient):
                response = async_to_sync(awaited)(
                    client.generic(method, path, body, content_type, **extra)
                )
            else:
                response = client.generic(method, path, body, content_type, **extra)
        except Exception:
            # The test client re-raises what would have been a 500.
            self.server_errors += 1
            raise
        written = ConsentRecord.objects.count() - before
        if response.status_code >= 500:
            self.server_errors += 1
        if records:
            self.decisions += written
        else:
            self.unintended_records += written
        case = f"{method} {path} {body[:200]!r} {extra}"
        assert response.status_code < 500, case
        assert written == records, case
        if not records:
            assert COOKIE not in response.cookies, case
        assert_nothing_injected(response, case)
        if response.has_header("Location"):
            assert not leaves_site(response["Location"]), case
        return response

    def get(self, path: str, **extra: Any) -> Any:
        return self.send("GET", path, **extra)

    def post_json(self, body: bytes, **extra: Any) -> Any:
        return self.send("POST", "/api/consent/", body, "application/json", **extra)

    def post_form(self, fields: dict[str, str] | bytes, **extra: Any) -> Any:
        body = fields if isinstance(fields, bytes) else urlencode(fields).encode()
        return self.send("POST", "/consent/", body, FORM, **extra)


async def awaited(request: Awaitable[Any]) -> Any:
    return await request


@pytest.fixture(autouse=True)
def no_rate_limit(settings: Any) -> None:
    """Lift the limit on decisions per address (test_rate_limit.py tests it): here every case
    must meet the validation it guards, not a 429 because an earlier case used up the limit."""
    settings.CONSENT_RATE_LIMIT = "1000000/m"


@pytest.fixture
def probe(figures: Any) -> Iterator[Probe]:
    probe = Probe()
    yield probe
    figures("cases tried", probe.sent)
    figures("5xx", probe.server_errors)
    figures("records written", probe.unintended_records)
    if probe.decisions:
        figures("records written by the valid decisions the test intends", probe.decisions)


def assert_nothing_injected(response: Any, case: str) -> None:
    for name, value in response.items():
        assert name.lower() != INJECTED_HEADER, case
        assert not set(value) & {"\r", "\n", "\x00"}, case
    # The middleware may expire a refused cookie of that name; nothing may set one.
    assert not (INJECTED_COOKIE in response.cookies and response.cookies[INJECTED_COOKIE].value)
    for morsel in response.cookies.values():
        assert not set(morsel.OutputString()) & {"\r", "\n", "\x00"}, case


def leaves_site(location: str) -> bool:
    """Return whether a browser following this Location could land on another site.

    Read the way browsers read URLs (WHATWG): leading controls and spaces dropped, tabs and
    newlines removed anywhere, backslashes taken for slashes; conservative about the rest.
    """
    url = location.lstrip("".join(map(chr, range(0x21))))
    url = url.translate({ord("\t"): None, ord("\n"): None, ord("\r"): None}).replace("\\", "/")
    try:
        parts = urlsplit("http:" + url if url.startswith("//") else url)
    except ValueError:
        return True
    if not parts.scheme:
        return False  # relative: this site
    return parts.scheme not in ("http", "https") or parts.netloc != HOST


def cookie_header(value: str) -> str:
    return f"{COOKIE}={value}"


def raw(data: bytes) -> str:
    """Return the WSGI value of a header that carried these bytes: one character per byte."""
    return data.decode("latin-1")


def sent(text: str) -> str:
    """Return the WSGI value of a header a client wrote as UTF-8 text."""
    return raw(text.encode())


def signed(payload: Any, *, salt: str = SALT) -> str:
    return signing.dumps(payload, salt=salt, compress=False)


def payload(**overrides: Any) -> dict[str, Any]:
    fields = {"id": uuid.uuid4().hex, "c": "11111", "v": 1, "l": "en", "t": int(time.time())}
    return {**fields, "d": 1, "g": 0, **overrides}


def assert_ignored(page: str, response: Any, *, consent_kept: bool = False) -> None:
    """Assert the visitor is treated as undecided: asked again, nothing optional granted.

    `consent_kept`: the cookie was ours and still names the visitor's consent ID, which their
    next decision continues (an expired policy version), so the receipt is still theirs.
    """
    if page == "/api/consent/":
        state = response.json()
        assert state["needs_decision"] is True
        assert not any(state["choices"][slug] for slug in OPTIONAL)
        assert (state["consent_id"] is not None) is consent_kept
    elif page == "/":
        assert response.status_code == 200
        assert b'id="consent-banner"' in response.content
    elif page == "/cookie-settings/":
        assert response.status_code == 200
        assert b"data-consent-undecided" in response.content
    else:
        assert response.status_code == (200 if consent_kept else 404)


# Cookies ---------------------------------------------------------------------------------------


def hostile_cookies() -> list[tuple[str, str]]:
    """Return (name, Cookie header value) for consent cookies that must count as no consent."""
    valid = make_consent_cookie(*OPTIONAL)
    head, stamp, signature = valid.rsplit(":", 2)
    with mock.patch("time.time", return_value=time.time() - 2 * 365 * 24 * 60 * 60):
        expired = make_consent_cookie(*OPTIONAL)
    receipt = signing.dumps({"consent_id": str(uuid.uuid4())}, salt=RECEIPT_SALT)
    cases = {
        "empty": "",
        "garbage": "garbage",
        "colons": ":::",
        "forged signature": f"{head}:{stamp}:{'A' * len(signature)}",
        "signature of another value": f"{head}:{stamp}:{make_consent_cookie().rsplit(':', 1)[1]}",
        "payload changed": f"{head[:-2]}{'AA' if head[-2:] != 'AA' else 'BB'}:{stamp}:{signature}",
        "timestamp changed": f"{head}:{stamp[:-1]}{'0' if stamp[-1] != '0' else '1'}:{signature}",
        "unsigned payload": head,
        "signed with another salt": signed(payload(), salt="iportalis.consent.other"),
        "a receipt's signature": receipt,
        "signed with another key": signing.dumps(payload(), key="another-key", salt=SALT),
        "expired": expired,
        "oversized (8 KB)": valid + "A" * (8192 - len(valid)),
        "oversized garbage (8 KB)": "x" * 8192,
        "non-UTF-8 bytes": raw(b"\xff\xfe\x80\xc0\xaf" * 20),
        "non-UTF-8 inside a valid value": valid[:20] + raw(b"\xff\xc3") + valid[22:],
        "UTF-8 overlong slash": raw(b"\xc0\xaf\xe0\x80\xaf"),
        "weird unicode": raw("\u202e\ufeff\u0000\U0001f36a\u2028ŝ̷̛".encode()),
        "quoted": '"\\"\\\\\\012"',
        "NUL": "\x00" * 10,
        "header injection": "x\r\nX-Hostile: 1",
        "Set-Cookie smuggling": f"x; {INJECTED_COOKIE}=1; Path=/",
        "signed list": signed(["a", "list"]),
        "signed string": signed("11111"),
        "signed null": signed(None),
        "signed, id not a UUID": signed(payload(id="not-a-uuid")),
        "signed, too few categories": signed(payload(c="111")),
        "signed, categories not bits": signed(payload(c="1x111")),
        "signed, categories not text": signed(payload(c=None)),
        "signed, version not a number": signed(payload(v="one")),
        "signed, time not a number": signed(payload(t="noon")),
        "signed, time out of range": signed(payload(t=10**20)),
        "signed, time infinite": signed(payload(t=float("inf"))),
        "signed, time NaN": signed(payload(t=float("nan"))),
        "signed, fields missing": signed({"id": uuid.uuid4().hex}),
        "a 32 KB signed payload": signed(payload(l="x" * 32768)),
    }
    for length in (1, len(valid) // 2, len(head), len(head) + 1, len(valid) - 1):
        cases[f"truncated to {length}"] = valid[:length]
    return [(name, cookie_header(value)) for name, value in cases.items()] + [
        ("two cookies, both bad", f"{COOKIE}=bad; {COOKIE}=worse"),
        ("name in another case", f"{COOKIE.upper()}={valid}"),
        ("name with a space", f"{COOKIE} ={valid}x"),
    ]


def test_hostile_consent_cookies_are_ignored_on_every_page(probe):
    for name, header in hostile_cookies():
        for page in PAGES:
            response = probe.get(page, HTTP_COOKIE=header)
            try:
                assert_ignored(page, response)
            except AssertionError as error:
                raise AssertionError(f"{name!r} on {page}") from error


def test_a_consent_cookie_for_a_policy_version_that_does_not_exist_asks_again(probe):
    """Our own signature, but a version this site never published (another deployment sharing
    the key, or a database restored from before it): the visitor consented to a text we cannot
    show, so they are asked again, under the same consent ID."""
    for version in (0, 3, 999, 2**40):
        header = cookie_header(make_consent_cookie(*OPTIONAL, policy_version=version))
        for page in PAGES:
            assert_ignored(page, probe.get(page, HTTP_COOKIE=header), consent_kept=True)


@fuzz
@given(
    value=st.binary(max_size=300).map(raw) | st.text(max_size=300).map(sent),
    page=st.sampled_from(PAGES),
)
def test_fuzzed_consent_cookies_are_ignored(probe, value, page):
    assert_ignored(page, probe.get(page, HTTP_COOKIE=cookie_header(value)))


@fuzz
@given(
    cut=st.integers(min_value=0, max_value=200),
    replacement=st.sampled_from(sorted(ALNUM | set("-_:.=+/~!"))),
    kind=st.sampled_from(["truncate", "replace", "insert", "append"]),
    page=st.sampled_from(PAGES),
)
def test_a_valid_consent_cookie_changed_anywhere_is_ignored(probe, cut, replacement, kind, page):
    valid = make_consent_cookie(*OPTIONAL)
    at = cut % len(valid)
    value = {
        "truncate": valid[:at],
        "replace": valid[:at] + replacement + valid[at + 1 :],
        "insert": valid[:at] + replacement + valid[at:],
        "append": valid + replacement,
    }[kind]
    assume(value != valid)
    assert_ignored(page, probe.get(page, HTTP_COOKIE=cookie_header(value)))


def test_a_consent_cookie_replayed_from_another_visitor_stands_for_that_consent(probe):
    """Decision: a replayed cookie is accepted as the consent it records, and a later decision
    continues its consent ID's chain.

    The cookie is signed, not bound to a browser: it says what was chosen, under which consent ID.
    Telling two browsers apart would take fingerprinting, itself a tracking technique that needs
    consent. Copying someone's cookie gains nothing they could not choose for themselves: it
    carries no personal data, and the receipt it yields shows only what the cookie holds plus the
    chain's last hash. Each record keeps its own IP HMAC and user agent, so an auditor sees two
    browsers on one consent ID.
    """
    alice = Client(REMOTE_ADDR="203.0.113.7")
    alice.post("/consent/", {"action": "accept_all", "surface": "banner"})
    first = ConsentRecord.objects.get()
    header = cookie_header(alice.cookies[COOKIE].value)
    mallory = {"HTTP_COOKIE": header, "REMOTE_ADDR": "198.51.100.66", "HTTP_USER_AGENT": "curl/8"}

    state = probe.get("/api/consent/", **mallory).json()
    assert state["consent_id"] == str(first.consent_id)
    assert state["needs_decision"] is False
    assert all(state["choices"].values())
    assert b'id="consent-banner"' not in probe.get("/", **mallory).content
    assert str(first.consent_id).encode() in probe.get("/cookie-settings/", **mallory).content
    receipt = probe.get("/cookie-settings/receipt.json", **mallory).json()["receipt"]
    assert receipt["record"]["hash"] == first.hash

    response = probe.post_form(
        {"action": "reject_all", "surface": "settings", "next": "/"}, records=1, **mallory
    )

    assert response.status_code == 303
    second = ConsentRecord.objects.latest("id")
    assert second.consent_id == first.consent_id
    assert (second.chain, second.seq, second.prev_hash) == (first.chain, first.seq + 1, first.hash)
    assert second.ip_hmac != first.ip_hmac
    assert Consent.loads(response.cookies[COOKIE].value).consent_id == first.consent_id


def test_hostile_consent_cookies_are_ignored_under_asgi_too(probe):
    client = AsyncClient()
    for name, header in hostile_cookies():
        response = probe.send("GET", "/api/consent/", client=client, headers={"Cookie": header})
        try:
            assert_ignored("/api/consent/", response)
        except AssertionError as error:
            raise AssertionError(name) from error


HOSTILE_COOKIE_HEADERS = [
    "garbage",  # a nameless cookie, as `document.cookie = "garbage"` makes
    "=garbage",
    ";;;",
    "=",
    "Path=/",
    "expires=Thu, 01 Jan 1970 00:00:00 GMT",
    "Max-Age=0; Domain=evil.example; Secure; HttpOnly; SameSite=None",
    "a b=1",
    "a,b=1",
    "a\tb=1",
    "a(b)=1",
    "a\x00b=1",
    "\x00=\x00",
    raw("é=1".encode()),
    raw(b"\xff\xfe=1"),
    "x" * 300 + "=1",
    "; ".join(f"c{i}=1" for i in range(600)),
    "a=" + "b" * 8192,
    f"{COOKIE}",
    f"{COOKIE}=; {COOKIE}",
    "x=1\r\nX-Hostile: 1",
    f"{INJECTED_COOKIE}=1\r\nSet-Cookie: {INJECTED_COOKIE}=1",
]


def test_hostile_cookie_names_are_ignored(probe):
    """Every cookie the browser sends passes the middleware, which hides and expires the ones not
    consented to: a name no Set-Cookie can carry must not stop the page."""
    for header in HOSTILE_COOKIE_HEADERS:
        for page in PAGES:
            assert_ignored(page, probe.get(page, HTTP_COOKIE=header))


@fuzz
@given(
    header=st.binary(max_size=200).map(raw) | st.text(max_size=200).map(sent),
    page=st.sampled_from(PAGES),
)
def test_fuzzed_cookie_headers_are_ignored(probe, header, page):
    assert_ignored(page, probe.get(page, HTTP_COOKIE=header))


def test_hostile_cookie_names_and_paths_are_counted_without_a_500(probe):
    """Unknown cookie names are counted in memory and written every 30 s by whichever request
    comes then: what one client sent must not fail that other request."""
    for header in HOSTILE_COOKIE_HEADERS:
        probe.get("/%00/", HTTP_COOKIE=header)

    sightings.flush()  # what the middleware does on the first request 30 s later

    assert UnknownCookie.objects.get(name="a b").example_path == "/\ufffd/"
    assert UnknownCookie.objects.filter(name="x" * 300).exists() is False  # too long to count


# Sec-GPC ---------------------------------------------------------------------------------------

HOSTILE_GPC = [
    "0",
    "",
    "true",
    "yes",
    "11",
    "1, 1",
    "1;1",
    "01",
    "1.0",
    "+1",
    "\uff11",  # FULLWIDTH DIGIT ONE
    "\u0661",  # ARABIC-INDIC DIGIT ONE
    "1\x00",
    "\x001",
    "1\r\nX-Hostile: 1",
    "1" * 8192,
    raw("\xff1".encode()),
    raw(b"\xff\xfe1"),
]


def test_hostile_gpc_values_are_ignored(probe):
    for value in HOSTILE_GPC:
        state = probe.get("/api/consent/", HTTP_SEC_GPC=value).json()
        assert state["gpc"] is False, value
        assert probe.get("/", HTTP_SEC_GPC=value).status_code == 200


@fuzz
@given(value=st.binary(max_size=50).map(raw) | st.text(max_size=50).map(sent))
def test_fuzzed_gpc_values_are_ignored(probe, value):
    assume(value.strip() != "1")
    assert probe.get("/api/consent/", HTTP_SEC_GPC=value).json()["gpc"] is False


def test_a_gpc_signal_on_a_hostile_path_is_recorded_with_a_clean_path(probe):
    """A valid Sec-GPC: 1 is recorded on whatever page it arrives, 404s included: one record each
    (intended), with a path PostgreSQL can store."""
    for path in (
        "/%00",
        "/a%00b/",
        "/%FF%FE",
        "/%ED%A0%80",
        "/" + "a" * 5000,
        "/%0d%0aX-Hostile:1",
    ):
        response = probe.get(path, HTTP_SEC_GPC="1", records=1)
        assert response.status_code == 404
        record = ConsentRecord.objects.latest("id")
        assert record.event == "gpc"
        assert record.path.startswith("/") and "\x00" not in record.path
        assert len(record.path) <= 500


HOSTILE_LANGUAGES = [
    "*",
    "x" * 10_000,
    "\x00",
    "en;q=NaN",
    "en;q=1e999",
    "de;q=-1, fr;q=2",
    "de-" + "a" * 500,
    "zz, ;;;, =",
    raw(b"\xff\xfe"),
    "en\r\nX-Hostile: 1",
    ",".join(["fr;q=0.1"] * 2000),
]


def test_a_hostile_accept_language_fails_no_page_and_no_record(probe):
    """Pages with a hostile Accept-Language; then a valid GPC signal with it, which is recorded
    (intended) in a language the site has."""
    for value in HOSTILE_LANGUAGES:
        for page in PAGES:
            assert_ignored(page, probe.get(page, HTTP_ACCEPT_LANGUAGE=value))
    for value in HOSTILE_LANGUAGES:
        probe.get("/", HTTP_ACCEPT_LANGUAGE=value, HTTP_SEC_GPC="1", records=1)
        assert ConsentRecord.objects.latest("id").language in ("en", "de", "fr")


# The JSON API ----------------------------------------------------------------------------------


def body(data: Any) -> bytes:
    return json.dumps(data).encode()


def decision(**fields: Any) -> bytes:
    return body({"action": "accept_all", **fields})


HOSTILE_JSON: list[tuple[str, bytes, int]] = [
    ("empty body", b"", 415),  # no body, no Content-Type
    ("whitespace", b"   ", 400),
    ("not JSON", b"{not json", 400),
    ("truncated", VALID_JSON[:-1], 400),
    ("JavaScript", b"{action: 'accept_all'}", 400),
    ("non-UTF-8", b"\xff\xfe\x00\x80", 400),
    ("non-UTF-8 in a string", b'{"action": "accept_all", "path": "/\xff\xfe"}', 400),
    ("null", b"null", 400),
    ("true", b"true", 400),
    ("number", b"1", 400),
    ("string", b'"accept_all"', 400),
    ("array", b"[]", 400),
    ("array of decisions", b'[{"action": "accept_all"}]', 400),
    ("deep arrays", b"[" * 4000, 400),
    ("deep arrays, closed", b"[" * 2000 + b"]" * 2000, 400),
    ("deep objects", b'{"a":' * 800, 400),
    ("deep choices", b'{"choices": {"first-party": ' + b"[" * 3000 + b"]" * 1000 + b"}}", 400),
    ("big number", b'{"action": "accept_all", "path": ' + b"9" * 4000 + b"}", 400),
    ("NaN", b'{"choices": {"first-party": NaN}}', 400),
    ("Infinity", b'{"choices": {"first-party": Infinity}}', 400),
    ("duplicate key, last wrong", b'{"action": "accept_all", "action": "accept"}', 400),
    ("unknown field", decision(extra=1), 400),
    ("field in another case", body({"Action": "accept_all"}), 400),
    ("field with a space", body({"action ": "accept_all"}), 400),
    ("prototype pollution", body({"__proto__": {"action": "accept_all"}}), 400),
    ("unknown category", decision(choices={"advertising": True}), 400),
    ("category in another case", body({"choices": {"First-Party": True}}), 400),
    ("category with an underscore", body({"choices": {"first_party": True}}), 400),
    ("empty category", body({"choices": {"": True}}), 400),
    ("category with NUL", body({"choices": {"first-party\x00": True}}), 400),
    ("category as a lone surrogate", b'{"choices": {"\\ud800": true}}', 400),
    ("choices a list", body({"choices": ["first-party"]}), 400),
    ("choices a string", body({"choices": "all"}), 400),
    ("choices null", body({"choices": None}), 400),
    ("value a string", body({"choices": {"first-party": "true"}}), 400),
    ("value a number", body({"choices": {"first-party": 1}}), 400),
    ("value zero", body({"choices": {"first-party": 0}}), 400),
    ("value null", body({"choices": {"first-party": None}}), 400),
    ("value a list", body({"choices": {"first-party": [True]}}), 400),
    ("value an object", body({"choices": {"first-party": {"$ne": False}}}), 400),
    ("necessary refused", body({"choices": {"necessary": False}}), 400),
    ("necessary refused on accept_all", decision(choices={"necessary": False}), 400),
    ("action unknown", body({"action": "accept"}), 400),
    ("action in capitals", body({"action": "ACCEPT_ALL"}), 400),
    ("action gpc", body({"action": "gpc"}), 400),
    ("action reconsent", body({"action": "reconsent"}), 400),
    ("action null", body({"action": None}), 400),
    ("action a list", body({"action": ["accept_all"]}), 400),
    ("action an object", body({"action": {"$ne": ""}}), 400),
    ("action with NUL", body({"action": "accept_all\x00"}), 400),
    ("surface gpc", decision(surface="gpc"), 400),
    ("surface unknown", decision(surface="admin"), 400),
    ("surface a number", decision(surface=1), 400),
    ("path a number", decision(path=1), 400),
    ("path null", decision(path=None), 400),
    ("path a list", decision(path=["/"]), 400),
    ("path an object", decision(path={"/": 1}), 400),
    ("path true", decision(path=True), 400),
    ("path empty", decision(path=""), 400),
    ("path relative", decision(path="cookie-policy/"), 400),
    ("path absolute URL", decision(path="https://evil.example/"), 400),
    ("path with a leading space", decision(path=" /"), 400),
    ("path with a backslash", decision(path="\\\\evil.example"), 400),
    ("path with NUL", decision(path="/\x00"), 400),
    ("path with NUL inside", decision(path="/cookie-policy/\x00/x"), 400),
    ("path a lone high surrogate", b'{"action": "accept_all", "path": "/\\ud800"}', 400),
    ("path a lone low surrogate", b'{"action": "accept_all", "path": "/\\udfff"}', 400),
    ("path surrogates reversed", b'{"action": "accept_all", "path": "/\\udc00\\ud800"}', 400),
    ("path a raw surrogate", b'{"action": "accept_all", "path": "/\xed\xa0\x80"}', 400),
    ("path with header injection", decision(path="/\r\nX-Hostile: 1\x00"), 400),
    ("over the limit", b" " * 4097, 413),
    ("valid, padded over the limit", VALID_JSON + b" " * 4096, 413),
    ("long path", decision(path="/" + "a" * 5000), 413),
    ("a megabyte", b"[" * 1_000_000, 413),
]


def test_the_api_answers_hostile_json_with_a_clear_4xx(probe):
    for name, data, status in HOSTILE_JSON:
        response = probe.post_json(data)
        assert response.status_code == status, name
        assert response.json()["error"], name


LYING_LENGTHS: list[tuple[str, bytes, str, int]] = [
    # Declared shorter than the body: only what it declares is read, and that is cut.
    ("declared too short", VALID_JSON, "5", 400),
    ("declared zero", VALID_JSON, "0", 400),
    ("declared negative", VALID_JSON, "-1", 400),
    ("declared not a number", VALID_JSON, "abc", 400),
    ("declared as a float", VALID_JSON, "1e3", 400),
    ("declared huge, body small", VALID_JSON, str(10**12), 413),
    ("declared small, body huge", b"[" * 100_000, "100", 400),
    ("declared just over", VALID_JSON, "4097", 413),
]


def test_the_api_does_not_trust_content_length(probe):
    for name, data, length, status in LYING_LENGTHS:
        # A stream that ends where the body ends, as a closed connection does (the test client's
        # FakePayload raises when read past its end instead).
        stream = io.BytesIO(data)
        response = probe.post_json(data, CONTENT_LENGTH=length, **{"wsgi.input": stream})
        assert response.status_code == status, name


NOT_JSON_TYPES = [
    "text/plain",
    FORM,
    "multipart/form-data; boundary=x",
    "application/jsonx",
    "application/json-patch+json",
    "application/javascript",
    "json",
    "application/json\r\nX-Hostile: 1",
    "",
]


def test_the_api_wants_a_json_content_type(probe):
    for content_type in NOT_JSON_TYPES:
        response = probe.send("POST", "/api/consent/", VALID_JSON, content_type)
        assert response.status_code == 415, content_type


TOUCHES = {
    "category": "choices",
    "value": "choices",
    "necessary": "choices",
    "choices": "choices",
    "action": "action",
    "surface": "surface",
}


@st.composite
def broken_decisions(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """Return what is wrong, and a JSON decision with exactly that one thing wrong."""
    short_text = st.text(max_size=20)
    values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | short_text,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(short_text, inner, max_size=3),
        max_leaves=6,
    )
    data: dict[str, Any] = {
        "action": draw(st.sampled_from(ACTION_VALUES)),
        "choices": draw(st.dictionaries(st.sampled_from(OPTIONAL), st.booleans())),
        "surface": draw(st.sampled_from(SURFACE_VALUES)),
        "path": draw(st.sampled_from(["/", "/cookie-policy/", "/a?b=c#d"])),
    }
    wrong = draw(
        st.sampled_from(["field", "category", "value", "necessary", "choices", "action", "surface"])
        | st.sampled_from(["path type", "path start", "path NUL", "path surrogate"])
    )
    if wrong == "field":
        data[draw(short_text.filter(lambda key: key not in FIELDS))] = draw(values)
    elif wrong == "category":
        data["choices"][draw(short_text.filter(lambda key: key not in CATEGORIES))] = draw(values)
    elif wrong == "value":
        slug = draw(st.sampled_from(CATEGORIES))
        data["choices"][slug] = draw(values.filter(lambda value: not isinstance(value, bool)))
    elif wrong == "necessary":
        data["choices"]["necessary"] = False
    elif wrong == "choices":
        data["choices"] = draw(values.filter(lambda value: not isinstance(value, dict)))
    elif wrong == "action":
        data["action"] = draw(values.filter(lambda value: value not in ACTION_VALUES))
    elif wrong == "surface":
        data["surface"] = draw(values.filter(lambda value: value not in SURFACE_VALUES))
    elif wrong == "path type":
        data["path"] = draw(values.filter(lambda value: not isinstance(value, str)))
    elif wrong == "path start":
        data["path"] = draw(short_text.filter(lambda path: not path.startswith("/")))
    elif wrong == "path NUL":
        data["path"] = "/" + draw(short_text) + "\x00" + draw(short_text)
    else:
        data["path"] = (
            "/" + draw(short_text) + draw(st.sampled_from(["\ud800", "\udbff", "\udc00"]))
        )
    touched = "path" if wrong.startswith("path") else TOUCHES.get(wrong, "")
    # Any of the other fields may be missing: each has a default.
    for field in draw(st.sets(st.sampled_from(FIELDS))) - {touched}:
        del data[field]
    return wrong, data


@hypothesis_settings(fuzz, max_examples=200)
@given(case=broken_decisions())
def test_a_decision_with_one_thing_wrong_is_a_400(probe, case):
    wrong, data = case
    response = probe.post_json(json.dumps(data).encode())

    assert response.status_code == 400, wrong
    assert response.json()["error"], wrong


def parses_as_object(data: bytes) -> bool:
    try:
        return isinstance(json.loads(data), dict)
    except (ValueError, RecursionError):
        return False


@fuzz
@given(
    data=st.binary(min_size=1, max_size=500)
    | st.text(alphabet='{}[]":,.-+0123456789eEtrufalsn \\ud800', min_size=1, max_size=500).map(
        str.encode
    )
)
def test_garbage_bodies_are_a_400(probe, data):
    assume(not parses_as_object(data))
    response = probe.post_json(data)

    assert response.status_code == 400
    assert response.json()["error"]


# The decision form -----------------------------------------------------------------------------


def form(**fields: str) -> dict[str, str]:
    return {"action": "accept_all", "surface": "banner", "next": "/", **fields}


HOSTILE_FORMS: list[tuple[str, dict[str, str] | bytes, str]] = [
    ("empty", {}, FORM),
    ("no action", {"surface": "banner"}, FORM),
    ("no surface", {"action": "accept_all"}, FORM),
    ("action unknown", form(action="accept"), FORM),
    ("action gpc", form(action="gpc"), FORM),
    ("action with a space", form(action=" accept_all"), FORM),
    ("action with NUL", form(action="accept_all\x00"), FORM),
    ("action huge", form(action="a" * 100_000), FORM),
    ("surface api", form(surface="api"), FORM),
    ("surface gpc", form(surface="gpc"), FORM),
    ("surface with NUL", form(surface="banner\x00"), FORM),
    ("next with NUL", form(next="/\x00"), FORM),
    ("next too long", form(next="/" + "a" * 2000), FORM),
    ("non-UTF-8 action", b"action=\xff\xfe&surface=banner", FORM),
    ("non-UTF-8 percent-encoded", b"action=%FF%FE&surface=banner", FORM),
    ("broken percent-encoding", b"action=%G1&surface=%", FORM),
    ("unknown category, no action", {"advertising": "on", "surface": "banner"}, FORM),
    ("too many fields", "&".join(f"f{i}=1" for i in range(1200)).encode() + b"&", FORM),
    ("over the upload limit", VALID_FORM + b"&x=" + b"a" * 2_700_000, FORM),
    ("JSON body", VALID_JSON, "application/json"),
    ("multipart without a boundary", VALID_FORM, "multipart/form-data"),
    (
        "multipart, garbled",
        b"--x\r\nContent-Disposition: form-da",
        "multipart/form-data; boundary=x",
    ),
    ("multipart, bad boundary", VALID_FORM, "multipart/form-data; boundary=" + "\x7f" * 80),
    ("text", VALID_FORM, "text/plain"),
    # Codecs Python knows that are no text encoding, and one that turns the body into noise.
    ("charset rot13", VALID_FORM, FORM + "; charset=rot13"),
    ("charset base64", VALID_FORM, FORM + "; charset=base64"),
    ("charset UTF-16", VALID_FORM, FORM + "; charset=utf-16"),
    ("charset unknown", b"action=%FF&surface=banner", FORM + "; charset=x-hostile"),
]


def test_the_form_answers_hostile_bodies_with_a_400(probe):
    for name, fields, content_type in HOSTILE_FORMS:
        data = fields if isinstance(fields, bytes) else urlencode(fields).encode()
        response = probe.send("POST", "/consent/", data, content_type)
        assert response.status_code == 400, name


@fuzz
@given(
    fields=st.dictionaries(
        st.sampled_from(["action", "surface", "next", *OPTIONAL]) | st.text(max_size=10),
        st.text(max_size=30),
        max_size=6,
    ),
    action=st.text(max_size=30).filter(lambda action: action not in ACTION_VALUES),
)
def test_a_fuzzed_form_with_a_bad_action_is_a_400(probe, fields, action):
    response = probe.post_form({**fields, "action": action})

    assert response.status_code == 400


def test_the_form_records_only_the_categories_it_knows(probe):
    """A valid decision (recorded, as intended) carrying switches the form does not have: they are
    ignored, as an HTML form ignores fields it does not define, and necessary stays on."""
    fields = form(action="custom", **{"first-party": "on"})
    extra = {"advertising": "on", "First-Party": "on", "third_party": "on", "necessary": ""}

    response = probe.post_form({**fields, **extra}, records=1)

    assert response.status_code == 303
    record = ConsentRecord.objects.get()
    assert record.choices == {
        **dict.fromkeys(CATEGORIES, False),
        "necessary": True,
        "first-party": True,
    }


OPEN_REDIRECTS = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example/",
    "///evil.example/",
    "////evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "\\/evil.example/",
    "/\t/evil.example/",
    "/\n/evil.example/",
    " //evil.example/",
    "\x01//evil.example/",
    "\x7f//evil.example/",
    "https:evil.example",
    "https:/evil.example",
    "https:\\\\evil.example",
    "HTTPS://evil.example/",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "ftp://evil.example/",
    "http://testserver@evil.example/",
    "http://evil.example\\@testserver/",
    "http://testserver.evil.example/",
    "http://evil.example#@testserver/",
    "http://evil.example?@testserver/",
    "//testserver@evil.example",
    "//evil.example%2f@testserver",
    "http://[::1",
    "http://evil\u3002example/",
    "\r\n//evil.example/",
]

# Header injection: Probe.send checks that no header or cookie comes out of these.
INJECTIONS = [
    "\r\nSet-Cookie: hostile=1",
    "/\r\nSet-Cookie: hostile=1",
    "/\r\nX-Hostile: 1",
    "/\rX-Hostile: 1",
    "/\nX-Hostile: 1",
    "/%0d%0aX-Hostile:%201",
    "/%0D%0ASet-Cookie:%20hostile=1",
    "/\u0085X-Hostile: 1",  # NEL, a line break to str.splitlines()
    "/\u2028X-Hostile: 1",  # LINE SEPARATOR
    # U+560A U+560D: cut to their low bytes (as some servers do), an LF and a CR.
    "/\u560a\u560dX-Hostile: 1",
]

# Hostile-looking, but paths on this site: a browser does not decode them into another host.
ON_SITE = [
    "/\u2028/evil.example",  # sent percent-encoded
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%2F/evil.example",
    "/.//evil.example",
    "\uff0f\uff0fevil.example",  # FULLWIDTH SOLIDUS: sent percent-encoded, a relative path
]


@st.composite
def crafted_next(draw: st.DrawFn) -> str:
    prefix = draw(
        st.sampled_from(
            ["", "/", "//", "///", "/\\", "\\\\", "/\t/", " //", "http://", "https:", "https:/"]
        )
    )
    host = draw(
        st.sampled_from(
            [
                "evil.example",
                HOST,
                f"{HOST}.evil.example",
                f"evil.example@{HOST}",
                f"{HOST}@evil.example",
                f"{HOST}:80",
                "127.0.0.1",
                "[::1]",
            ]
        )
    )
    suffix = draw(
        st.sampled_from(["", "/", "/p?q=1#f", "\r\nX-Hostile: 1", "\\@evil.example", "#@evil"])
    )
    return prefix + host + suffix


def next_is_accepted(next_url: str) -> bool:
    """Return whether DecisionForm takes this `next` (the redirect is then decided by the view)."""
    return "\x00" not in next_url and len(next_url.strip()) <= 2000


@hypothesis_settings(fuzz, max_examples=150)
@given(
    next_url=st.sampled_from(OPEN_REDIRECTS + INJECTIONS + ON_SITE)
    | crafted_next()
    | st.text(max_size=80)
)
def test_a_hostile_next_never_redirects_off_the_site(probe, next_url):
    """A valid decision with a hostile `next`: recorded (that is intended), and the redirect
    stays on this site; the "is off the site" check is in Probe.send."""
    accepted = next_is_accepted(next_url)
    response = probe.post_form(
        {"action": "reject_all", "surface": "banner", "next": next_url}, records=int(accepted)
    )

    assert response.status_code == (303 if accepted else 400)


def test_every_known_open_redirect_goes_to_the_settings_page(probe):
    for next_url in OPEN_REDIRECTS:
        response = probe.post_form(
            {"action": "reject_all", "surface": "banner", "next": next_url}, records=1
        )
        assert response["Location"] == "/cookie-settings/", next_url


def test_no_header_comes_out_of_next(probe):
    """Checked in Probe.send: no header value with CR or LF, no X-Hostile header, no cookie
    named hostile; the redirect stays on the site (to the settings page or the path)."""
    for next_url in INJECTIONS + ON_SITE:
        response = probe.post_form(
            {"action": "reject_all", "surface": "banner", "next": next_url}, records=1
        )
        assert response.status_code == 303, next_url


def test_a_hostile_host_header_is_a_400(probe):
    for host in ("evil.example", f"{HOST}@evil.example", f"{HOST}:abc", f"{HOST}\r\nX-Hostile: 1"):
        response = probe.post_form(form(next=f"http://{host}/"), HTTP_HOST=host)
        assert response.status_code == 400, host


def test_a_hostile_user_agent_is_stored_without_a_500(probe):
    """A valid decision (recorded, as intended) from a client sending any bytes it likes."""
    for user_agent in ("\x00", "Mozilla\x00/5.0", raw(b"\xff\xfe\xed\xa0\x80"), "x" * 10_000):
        response = probe.post_json(VALID_JSON, HTTP_USER_AGENT=user_agent, records=1)
        assert response.status_code == 201
        assert "\x00" not in ConsentRecord.objects.latest("id").user_agent


# Methods and CSRF ------------------------------------------------------------------------------


WRONG_METHODS = ("PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "FOO")


def test_wrong_methods_are_a_405(probe):
    """With a valid decision as the body, so that a method let through by mistake would record;
    with CSRF checks on, the 403 may come first."""
    for method in WRONG_METHODS:
        for path in ENDPOINTS:
            for data, content_type in ((VALID_JSON, "application/json"), (VALID_FORM, FORM)):
                response = probe.send(method, path, data, content_type)
                assert response.status_code == 405, (method, path)
                csrf_checked = probe.send(
                    method, path, data, content_type, client=Client(enforce_csrf_checks=True)
                )
                assert csrf_checked.status_code in (403, 405), (method, path)


def test_a_method_the_view_does_not_take_is_a_405(probe):
    for path, method in (
        ("/consent/", "GET"),
        ("/consent/", "HEAD"),
        ("/cookie-settings/", "POST"),
        ("/cookie-settings/receipt.json", "POST"),
        ("/.well-known/gpc.json", "POST"),
    ):
        assert probe.send(method, path, VALID_FORM, FORM).status_code == 405, (method, path)


def csrf_token_is_well_formed(token: str) -> bool:
    return len(token) in (32, 64) and set(token) <= ALNUM


def csrf_cases() -> list[tuple[str, dict[str, Any]]]:
    other = "Another0Secret0For0Another0Visit"
    assert csrf_token_is_well_formed(other) and other != CSRF_SECRET
    cookie = f"csrftoken={CSRF_SECRET}"
    return [
        ("no cookie, no token", {}),
        ("cookie, no token", {"HTTP_COOKIE": cookie}),
        ("token, no cookie", {"HTTP_X_CSRFTOKEN": CSRF_SECRET}),
        ("another visitor's token", {"HTTP_COOKIE": cookie, "HTTP_X_CSRFTOKEN": other}),
        ("token too short", {"HTTP_COOKIE": cookie, "HTTP_X_CSRFTOKEN": CSRF_SECRET[:-1]}),
        ("token too long", {"HTTP_COOKIE": cookie, "HTTP_X_CSRFTOKEN": CSRF_SECRET + "a"}),
        ("token masked wrong", {"HTTP_COOKIE": cookie, "HTTP_X_CSRFTOKEN": "a" * 64}),
        ("token with a space", {"HTTP_COOKIE": cookie, "HTTP_X_CSRFTOKEN": f" {CSRF_SECRET}"}),
        ("token non-ASCII", {"HTTP_COOKIE": cookie, "HTTP_X_CSRFTOKEN": raw(b"\xff" * 32)}),
        ("token with NUL", {"HTTP_COOKIE": cookie, "HTTP_X_CSRFTOKEN": "\x00" * 32}),
        ("cookie garbled", {"HTTP_COOKIE": "csrftoken=\xff\x00;;", "HTTP_X_CSRFTOKEN": "\xff"}),
        ("cookie 8 KB", {"HTTP_COOKIE": "csrftoken=" + "a" * 8192, "HTTP_X_CSRFTOKEN": "a" * 8192}),
        (
            "cross-site Origin",
            {
                "HTTP_COOKIE": cookie,
                "HTTP_X_CSRFTOKEN": CSRF_SECRET,
                "HTTP_ORIGIN": "https://evil.example",
            },
        ),
        (
            "null Origin",
            {"HTTP_COOKIE": cookie, "HTTP_X_CSRFTOKEN": CSRF_SECRET, "HTTP_ORIGIN": "null"},
        ),
        (
            "https without Referer",
            {"HTTP_COOKIE": cookie, "HTTP_X_CSRFTOKEN": CSRF_SECRET, "secure": True},
        ),
        (
            "https, cross-site Referer",
            {
                "HTTP_COOKIE": cookie,
                "HTTP_X_CSRFTOKEN": CSRF_SECRET,
                "HTTP_REFERER": "https://evil.example/",
                "secure": True,
            },
        ),
        (
            "https, garbled Referer",
            {
                "HTTP_COOKIE": cookie,
                "HTTP_X_CSRFTOKEN": CSRF_SECRET,
                "HTTP_REFERER": "https://[::1",
                "secure": True,
            },
        ),
    ]


def test_a_missing_or_garbled_csrf_token_is_a_403(probe):
    client = Client(enforce_csrf_checks=True)
    for name, extra in csrf_cases():
        for path, data, content_type in (
            ("/api/consent/", VALID_JSON, "application/json"),
            ("/consent/", VALID_FORM, FORM),
        ):
            response = probe.send("POST", path, data, content_type, client=client, **extra)
            assert response.status_code == 403, (name, path)
    # The form field is checked like the header.
    for token in ("", "x", CSRF_SECRET[:-1] + "!", "\x00" * 32):
        body = VALID_FORM + b"&" + urlencode({"csrfmiddlewaretoken": token}).encode()
        cookie = f"csrftoken={CSRF_SECRET}"
        response = probe.send("POST", "/consent/", body, FORM, client=client, HTTP_COOKIE=cookie)
        assert response.status_code == 403, token


@fuzz
@given(
    cookie=st.none() | st.text(max_size=70).map(sent) | st.just(CSRF_SECRET),
    token=st.none()
    | st.text(max_size=70).map(sent).filter(lambda token: not csrf_token_is_well_formed(token)),
    path=st.sampled_from(["/api/consent/", "/consent/"]),
)
def test_a_fuzzed_csrf_token_is_a_403(probe, cookie, token, path):
    extra = {}
    if cookie is not None:
        extra["HTTP_COOKIE"] = f"csrftoken={cookie}"
    if token is not None:
        extra["HTTP_X_CSRFTOKEN"] = token
    data, content_type = (VALID_JSON, "application/json") if "api" in path else (VALID_FORM, FORM)
    client = Client(enforce_csrf_checks=True)

    response = probe.send("POST", path, data, content_type, client=client, **extra)

    assert response.status_code == 403


def test_the_csrf_cases_fail_for_their_csrf_alone(probe):
    """The control: the same bodies with a matching cookie and token are recorded."""
    client = Client(enforce_csrf_checks=True)
    extra = {"HTTP_COOKIE": f"csrftoken={CSRF_SECRET}", "HTTP_X_CSRFTOKEN": CSRF_SECRET}

    assert probe.post_json(VALID_JSON, client=client, records=1, **extra).status_code == 201
    assert probe.post_form(VALID_FORM, client=client, records=1, **extra).status_code == 303


def test_the_forged_payloads_have_the_shape_of_a_real_cookie():
    # Guards the corpus above: `payload()` must stay the shape Consent.dumps writes.
    consent = Consent(
        consent_id=uuid.uuid4(),
        choices=normalise(dict.fromkeys(CATEGORIES, True)),
        policy_version=1,
        policy_language="en",
        given_at=datetime.datetime.now(tz=datetime.UTC).replace(microsecond=0),
    )
    assert set(signing.loads(consent.dumps(), salt=SALT)) == set(payload())
