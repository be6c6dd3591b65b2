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
import struct
import time
import uuid
from dataclasses import replace
from typing import Any
from unittest import mock
from urllib.parse import quote, urlencode

import pytest
from django.core import signing
from django.test import AsyncClient, Client
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from consent.capture.decisions import ACTIONS
from consent.capture.forms import API_SURFACES
from consent.capture.state import SALT, Consent
from consent.categories import CATEGORIES, OPTIONAL, normalise
from consent.enforcement.unknown import sightings
from consent.log import note, store, tiles
from consent.log.integration import integrate
from consent.log.models import Cosignature, LogCheckpoint, LogLeaf, LogTile, Witness
from consent.models import ConsentRecord, UnknownCookie
from policy.models import PolicyVersion
from tests.factories import make_consent_cookie, make_record
from tests.hostile import COOKIE, EDITS, FORM, HOST, INJECTED_COOKIE, Probe, edited, raw

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limit")]

PAGES = ("/", "/cookie-settings/", "/cookie-settings/receipt.json", "/api/consent/")
ENDPOINTS = ("/consent/", "/api/consent/", "/cookie-settings/", "/cookie-settings/receipt.json")
ACTION_VALUES = tuple(str(action) for action in ACTIONS)
SURFACE_VALUES = tuple(str(surface) for surface in API_SURFACES)
FIELDS = ("action", "choices", "surface", "path")
VALID_JSON = json.dumps({"action": "accept_all"}).encode()
VALID_FORM = urlencode({"action": "accept_all", "surface": "banner", "next": "/"}).encode()
ALNUM = set(string.ascii_letters + string.digits)
# A CSRF secret and the token that matches it: the controls that pass the CSRF check.
CSRF_SECRET = "Hostile0Input0Csrf0Secret0abcdef"
# Receipts were once HMAC-signed with Django's key under this salt; such a value is no cookie.
OLD_RECEIPT_SALT = "iportalis.consent.log.receipt"

fuzz = hypothesis_settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def cookie_header(value: str) -> str:
    return f"{COOKIE}={value}"


def sent(text: str) -> str:
    """Return the WSGI value of a header a client wrote as UTF-8 text."""
    return raw(text.encode())


def signed(payload: Any, *, salt: str = SALT) -> str:
    return signing.dumps(payload, salt=salt, compress=False)


def payload(**overrides: Any) -> dict[str, Any]:
    fields = {"id": uuid.uuid4().hex, "c": "11111", "v": 1, "l": "en", "t": int(time.time())}
    return {**fields, "d": 1, "g": 0, "r": 1, **overrides}


def assert_ignored(page: str, response: Any, *, consent_kept: bool = False) -> None:
    """Assert the visitor is treated as undecided: asked again, nothing optional granted.

    `consent_kept`: the cookie was ours and still names the visitor's consent ID, which their
    next decision continues (an expired policy version). A receipt is of the record a cookie
    names, and none of these names one that exists: never a receipt.
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
        assert response.status_code == 404


# Cookies ---------------------------------------------------------------------------------------


def hostile_cookies() -> list[tuple[str, str]]:
    """Return (name, Cookie header value) for consent cookies that must count as no consent."""
    valid = make_consent_cookie(*OPTIONAL)
    head, stamp, signature = valid.rsplit(":", 2)
    with mock.patch("time.time", return_value=time.time() - 2 * 365 * 24 * 60 * 60):
        expired = make_consent_cookie(*OPTIONAL)
    receipt = signing.dumps({"consent_id": str(uuid.uuid4())}, salt=OLD_RECEIPT_SALT)
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
        "signed, record ID not a number": signed(payload(r="1")),
        "signed, record ID zero": signed(payload(r=0)),
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
    kind=st.sampled_from(EDITS),
    page=st.sampled_from(PAGES),
)
def test_a_valid_consent_cookie_changed_anywhere_is_ignored(probe, cut, replacement, kind, page):
    valid = make_consent_cookie(*OPTIONAL)
    value = edited(valid, cut, replacement, kind)
    assume(value != valid)
    assert_ignored(page, probe.get(page, HTTP_COOKIE=cookie_header(value)))


def test_a_consent_cookie_replayed_from_another_visitor_stands_for_that_consent(probe):
    """Decision: a replayed cookie is accepted as the consent it records, and a later decision
    continues its consent ID.

    The cookie is signed, not bound to a browser: it says what was chosen, under which consent ID.
    Telling two browsers apart would take fingerprinting, itself a tracking technique that needs
    consent. Copying someone's cookie gains nothing they could not choose for themselves: it
    carries no personal data, and the receipt it yields is of the record the cookie names, which
    the copier could have downloaded as it is. Each record keeps its own IP HMAC and user agent,
    so an auditor sees two browsers on one consent ID; and each browser's receipt stays of its
    own decision.
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
    receipt = probe.get("/cookie-settings/receipt.json", **mallory).json()
    assert receipt["record"]["id"] == first.pk

    response = probe.post_form(
        {"action": "reject_all", "surface": "settings", "next": "/"}, records=1, **mallory
    )

    assert response.status_code == 303
    second = ConsentRecord.objects.latest("id")
    assert second.consent_id == first.consent_id
    assert second.ip_hmac != first.ip_hmac
    replayed = Consent.loads(response.cookies[COOKIE].value)
    assert (replayed.consent_id, replayed.record_id) == (first.consent_id, second.pk)
    assert (
        probe.get("/cookie-settings/receipt.json", HTTP_COOKIE=header).json()["record"]
        == (receipt["record"])
    )


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


def test_the_form_refuses_fields_it_does_not_have(probe):
    """A decision carrying switches the form does not have is a 400, as the API answers unknown
    fields (issue 14): "necessary" cannot be switched off by leaving it out either."""
    fields = form(action="custom", **{"first-party": "on"})
    extra = {"advertising": "on", "First-Party": "on", "third_party": "on", "necessary": ""}

    for name, value in extra.items():
        response = probe.post_form({**fields, name: value})
        assert response.status_code == 400, name
        assert "Unknown fields" in response.content.decode(), name


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
        record_id=1,
    )
    assert set(signing.loads(consent.dumps(), salt=SALT)) == set(payload())


# The log's public endpoints ---------------------------------------------------------------------

TILE = "/consent-log/tile/"
COSIGN = "/consent-log/cosignature"
LOG_ENDPOINTS = ("/consent-log/checkpoint", f"{TILE}0/000.p/1", "/consent-log/key", COSIGN)
LOG_MODELS = (LogLeaf, LogTile, LogCheckpoint, Witness, Cosignature)


def log_rows() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in LOG_MODELS}


class Log:
    """A log of the published policy versions and three records in two checkpoints (one partial
    tile), the witnesses of the cosignature cases, and the rows every hostile request must leave
    as they are."""

    def __init__(self) -> None:
        make_record()
        self.older = integrate()
        make_record()
        make_record()
        self.latest = integrate()
        published = PolicyVersion.objects.published().count()
        assert (self.older.size, self.latest.size) == (published + 1, published + 3)
        self.size = self.latest.size
        assert self.size < tiles.WIDTH
        self.body = note.split_note(self.latest.note)[0]
        self.witness = witness_key("witness.example/w1")
        self.inactive = witness_key("witness.example/retired", active=False)
        # Registered by hand, past the admin's checks: matches no cosignature, fails nothing.
        Witness.objects.create(name="broken", key="not a key")
        signing_key = note.generate_signer("witness.example/signing-key")
        Witness.objects.create(name="signing key", key=str(signing_key.verifier))
        self.signing_key = signing_key
        self.rows = log_rows()

    def line(self, witness: note.Signer, body: str | None = None, when: int = 1_800_000_000) -> str:
        return note.cosign(self.body if body is None else body, witness, when).line()

    def cosigned(self, *witnesses: note.Signer) -> str:
        return self.latest.note + "".join(self.line(w) for w in witnesses)


def witness_key(name: str, *, active: bool = True) -> note.Signer:
    signer = note.generate_signer(name, note.COSIGNATURE_V1)
    Witness.objects.create(name=name, key=str(signer.verifier), active=active)
    return signer


@pytest.fixture
def log() -> Log:
    return Log()


def send_to_log(probe: Probe, log: Log, method: str, path: str, body: bytes = b"", **extra: Any):
    """Send one request to a log endpoint: Probe.send's checks, and no row of the log written."""
    response = probe.send(method, path, body, extra.pop("content_type", "text/plain"), **extra)
    assert log_rows() == log.rows, f"{method} {path} {body[:200]!r}"
    return response


MALFORMED_TILE_PATHS = [
    "0",
    "0/",
    "/0/000",
    "0//000",
    "0/00",
    "0/0000",
    "0/1",
    "00/000",
    "-1/000",
    "8/000",  # level 8 would hold trees of more than 2**63 leaves
    "9/000",
    "a/000",
    "0/abc",
    "0/x000",
    "0/x000/000",
    "0/x001",
    "0/x1/000",
    "0/X001/000",
    "0/000/",
    "0/000.p",
    "0/000.p/",
    "0/000.P/1",
    "0/000.p/1/",
    "0/000.p/1.p/1",
    "0/000.p/-1",
    "0/000.p/+1",
    "0/000.p/ 1",
    "0/000.p/0x1",
    "\u0660/\u0660\u0660\u0660",  # ARABIC-INDIC DIGIT ZERO: \d takes it, no tile path does
    "0/\u0660\u0660\u0661",
    "0/000.p/\uff11",  # FULLWIDTH DIGIT ONE
    "0/000\x00",
    "0/\x00",
    "0/000 ",
    " 0/000",
    "0/000\n",
    "0/000\r\nX-Hostile: 1",
    "0/" + "x001/" * 7 + "000",  # eight groups: beyond any tree
    "data/000",
    "entries/000",  # C2SP's entry bundles: the entries are consent records, never published
    "entries/000.p/1",
    "../checkpoint",
    "0/../000",
    "0/./000.p/1",
    "0/000.p/1;x",
    "0/000.p/1.json",
    "0" * 5000,
    "0/" + "x999/" * 2000 + "999",
]


def beyond_the_tree(size: int) -> list[str]:
    """Return tile paths beyond a tree of fewer leaves than a tile holds."""
    return [
        "0/000",  # a partial tile
        f"0/000.p/{size + 1}",
        "0/000.p/255",
        "0/001",
        "0/001.p/1",
        "0/999",
        "0/x999/x999/x999/x999/x999/x999/999",
        "1/000.p/1",
        "1/000",
        "7/000.p/1",
        "7/x999/x999/x999/x999/x999/x999/999",
    ]


def test_malformed_tile_paths_are_a_400(probe, log):
    """Or a 404 where no URL pattern takes the path (a line break, a NUL) and the view never
    sees it."""
    for path in MALFORMED_TILE_PATHS:
        response = send_to_log(probe, log, "GET", TILE + quote(path))
        assert response.status_code in (400, 404), path
        if response.status_code == 400:
            assert "Not a tile path" in response.content.decode(), path


def test_tiles_beyond_the_tree_are_a_404(probe, log):
    for path in beyond_the_tree(log.size):
        response = send_to_log(probe, log, "GET", TILE + path)
        assert response.status_code == 404, path
        assert f"tree of {log.size} entries has no tile" in response.content.decode(), path


def test_partial_widths_out_of_range_are_a_4xx(probe, log):
    """Every width from 0 to 300 of the one partial tile: 1 to the tree's size are the tree's,
    the next ones to 255 are beyond it, and the others are no width at all."""
    leaves = b"".join(
        bytes(h) for h in LogLeaf.objects.order_by("index").values_list("hash", flat=True)
    )
    for width in range(301):
        response = send_to_log(probe, log, "GET", f"{TILE}0/000.p/{width}")
        if 1 <= width <= log.size:
            assert response.status_code == 200, width
            assert response.content == leaves[: 32 * width]
        else:
            assert response.status_code == (404 if log.size < width <= 255 else 400), width
    for width in ("00", "01", "004", "1000", "99999999999999999999"):
        assert send_to_log(probe, log, "GET", f"{TILE}0/000.p/{width}").status_code == 400


@fuzz
@given(
    path=st.text(alphabet="0123456789xp./-", max_size=40)
    | st.text(max_size=40)
    | st.binary(max_size=40).map(raw)
)
def test_fuzzed_tile_paths_are_a_tile_or_a_4xx(probe, log, path):
    response = send_to_log(probe, log, "GET", TILE + quote(path, safe="/"))

    assert response.status_code in (200, 400, 404)
    if response.status_code == 200:
        assert tiles.tile_path(*tiles.parse_tile_path(path)) == path


def cosignature_cases(log: Log) -> list[tuple[str, bytes, int]]:
    """Return (name, body, status): cosignatures the site must refuse, writing nothing."""
    latest, older, witness = log.latest.note, log.older.note, log.witness
    good = log.line(witness)
    older_line = log.line(witness, note.split_note(older)[0])
    signature = note.split_note(latest + good)[1][-1]
    flipped = bytes([signature.signature[-1] ^ 1])
    forged = note.Signature(signature.name, signature.id, signature.signature[:-1] + flipped)
    retimed = struct.pack(">Q", 1_800_000_001) + signature.signature[8:]
    other_log = note.generate_signer(store.signer().name)
    stranger = note.generate_signer(witness.name, note.COSIGNATURE_V1)  # a registered name
    unregistered = note.generate_signer("witness.example/stranger", note.COSIGNATURE_V1)
    fork = note.Checkpoint(store.signer().name, log.latest.size, b"\x07" * 32)
    fork_note = note.sign_note(fork.body(), store.signer())
    never = note.Checkpoint(store.signer().name, 99, b"\x01" * 32).body()
    foreign = note.Checkpoint("another.example/log", log.latest.size, log.latest.root).body()
    ours = note.split_note(latest)[1][0]
    # The last byte flipped, never set: an Ed25519 signature ends in 0x00 one time in 16 or so.
    forged_log = note.Signature(
        ours.name, ours.id, ours.signature[:-1] + bytes([ours.signature[-1] ^ 1])
    )
    cut = note.Signature(signature.name, signature.id, signature.signature[:-1])
    resized = latest.replace(f"\n{log.size}\n", f"\n{log.size - 1}\n", 1)
    assert resized != latest
    at_the_limit = (latest + good).encode()
    at_the_limit += b"x" * (note.MAX_NOTE + 1 - len(at_the_limit))
    # A log key's signature in a cosignature's place: the signing key is registered as a
    # witness, by hand, yet is no cosignature key.
    as_log_key = note.Signature(
        log.signing_key.name,
        log.signing_key.verifier.id,
        struct.pack(">Q", 1_800_000_000)
        + log.signing_key.sign(note.cosigned_message(log.body, 1_800_000_000)),
    )
    cases: list[tuple[str, str | bytes, int]] = [
        ("empty", b"", 415),  # no body, no Content-Type
        ("garbage", "garbage", 400),
        ("only a blank line", "\n\n", 400),
        ("non-UTF-8", (latest + good).encode() + b"\xff\xfe", 400),
        ("a raw surrogate", (latest + good).encode() + b"\xed\xa0\x80", 400),
        ("NUL in the text", latest.replace("\n", "\x00\n", 1) + good, 400),
        ("CRLF line ends", (latest + good).replace("\n", "\r\n"), 400),
        ("no blank line", (latest + good).replace("\n\n", "\n"), 400),
        ("no final newline", (latest + good)[:-1], 400),
        ("a line without an em dash", latest + good.replace("\u2014", "-"), 400),
        ("a signature not base64", latest + good[:-3] + "!!\n", 400),
        ("a signature too short", latest + "\u2014 witness.example/w1 AAAA\n", 400),
        ("a signer name with a space", latest + good.replace("w1", "w 1"), 400),
        ("only the log's signature", latest, 400),
        (
            "a note the log signed that is no checkpoint",
            note.sign_note("hi\n", store.signer()),
            400,
        ),
        ("a checkpoint of another origin", note.sign_note(foreign, store.signer()) + good, 400),
        ("a cosignature of the year 10000", latest + log.line(witness, when=253_402_300_800), 400),
        ("a cosignature at the end of time", latest + log.line(witness, when=2**63 - 1), 400),
        ("forged: a bit flipped", latest + forged.line(), 403),
        ("forged: the time changed", latest + replace(signature, signature=retimed).line(), 403),
        ("forged: the signature cut short", latest + cut.line(), 403),
        ("a time beyond 2**63", latest + log.line(witness, when=2**64 - 1), 403),
        ("forged: the note's text changed", resized + good, 403),
        ("not signed by the log", note.sign_note(log.body, other_log) + good, 403),
        ("the log's signature forged", log.body + "\n" + forged_log.line() + good, 403),
        ("from an unregistered key", log.cosigned(unregistered), 403),
        ("a registered name, another key", log.cosigned(stranger), 403),
        ("from an inactive witness", log.cosigned(log.inactive), 403),
        ("from a log key registered as a witness", latest + as_log_key.line(), 403),
        ("one good, one unregistered", log.cosigned(witness, unregistered), 403),
        ("one good, one forged", latest + good + forged.line(), 403),
        ("replayed for another checkpoint", latest + older_line, 403),
        ("another checkpoint's, replayed on it", older + good, 403),
        ("a size the log never had", note.sign_note(never, store.signer()) + good, 404),
        ("a fork signed with the log's key", fork_note + good, 409),
        ("oversized", log.cosigned(witness) + "x" * note.MAX_NOTE, 413),
        ("oversized by one byte", at_the_limit, 413),
        ("oversized by many lines", latest + good * 200, 413),
        ("a megabyte", b"\xff" * 1_000_000, 413),
    ]
    return [(name, b if isinstance(b, bytes) else b.encode(), status) for name, b, status in cases]


def test_hostile_cosignatures_are_a_clear_4xx_and_write_nothing(probe, log):
    for name, data, status in cosignature_cases(log):
        response = send_to_log(probe, log, "POST", COSIGN, data)
        assert response.status_code == status, name
        assert response["Content-Type"] == "text/plain; charset=utf-8", name
        assert len(response.content.decode().strip()) > 20, name


def test_the_cosignature_cases_fail_for_their_fault_alone(probe, log):
    """The control: the same witness's good cosignature is kept, once."""
    data = log.cosigned(log.witness).encode()
    assert len(data) <= note.MAX_NOTE

    assert probe.send("POST", COSIGN, data, "text/plain").status_code == 201
    assert probe.send("POST", COSIGN, data, "text/plain").status_code == 200
    assert Cosignature.objects.get().line + "\n" == log.line(log.witness)


COSIGNATURE_LENGTHS: list[tuple[str, str, int]] = [
    ("declared zero", "0", 400),
    ("declared too short", "40", 400),
    ("declared negative", "-1", 400),
    ("declared not a number", "abc", 400),
    ("declared huge, body small", str(10**12), 413),
    ("declared just over", str(note.MAX_NOTE + 1), 413),
]


def test_the_cosignature_endpoint_does_not_trust_content_length(probe, log):
    data = log.cosigned(log.witness).encode()
    for name, length, status in COSIGNATURE_LENGTHS:
        stream = io.BytesIO(data)
        response = send_to_log(
            probe, log, "POST", COSIGN, data, CONTENT_LENGTH=length, **{"wsgi.input": stream}
        )
        assert response.status_code == status, name
    huge = io.BytesIO(b"x" * 100_000)
    response = send_to_log(
        probe, log, "POST", COSIGN, data, CONTENT_LENGTH="100", **{"wsgi.input": huge}
    )
    assert response.status_code == 400


def test_the_cosignature_endpoint_wants_text(probe, log):
    data = log.cosigned(log.witness).encode()
    others = [t for t in NOT_JSON_TYPES if t != "text/plain"]
    for content_type in [*others, "application/json", "text/html", "text"]:
        response = send_to_log(probe, log, "POST", COSIGN, data, content_type=content_type)
        assert response.status_code == 415, content_type


@fuzz
@given(
    cut=st.integers(min_value=0, max_value=1000),
    replacement=st.characters(codec="utf-8"),
    kind=st.sampled_from(EDITS),
)
def test_a_cosigned_note_changed_anywhere_is_refused(probe, log, cut, replacement, kind):
    """Base64 ignores the unused low bits of its last character, so a change there still
    decodes to the very same signature: that one is the cosignature itself, and may be kept."""
    valid = log.cosigned(log.witness)
    changed = edited(valid, cut, replacement, kind)
    assume(changed != valid)
    before = log_rows()
    response = probe.send("POST", COSIGN, changed.encode(), "text/plain")

    if response.status_code < 400:
        assert note.split_note(changed) == note.split_note(valid)
        assert Cosignature.objects.count() == 1
    else:
        assert log_rows() == before


@fuzz
@given(data=st.binary(max_size=600) | st.text(max_size=600).map(str.encode))
def test_fuzzed_cosignature_bodies_are_a_4xx(probe, log, data):
    response = send_to_log(probe, log, "POST", COSIGN, data)

    assert 400 <= response.status_code < 500


def test_the_log_endpoints_take_their_methods_only(probe, log):
    for method in WRONG_METHODS:
        for path in LOG_ENDPOINTS:
            response = send_to_log(probe, log, method, path, log.cosigned(log.witness).encode())
            assert response.status_code == 405, (method, path)
    for path in LOG_ENDPOINTS[:3]:
        response = send_to_log(probe, log, "POST", path, log.cosigned(log.witness).encode())
        assert response.status_code == 405, path
    assert send_to_log(probe, log, "GET", COSIGN).status_code == 405


def test_hostile_log_requests_under_asgi_too(probe, log):
    client = AsyncClient()
    for path in MALFORMED_TILE_PATHS[:10] + beyond_the_tree(log.size)[:5]:
        response = send_to_log(probe, log, "GET", TILE + quote(path), client=client)
        assert response.status_code in (400, 404), path
    for name, data, status in cosignature_cases(log)[:12]:
        response = send_to_log(probe, log, "POST", COSIGN, data, client=client)
        assert response.status_code == status, name
