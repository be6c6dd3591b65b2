import datetime
import time
import uuid
from unittest import mock

import pytest
from django.core import signing
from django.test import RequestFactory

from consent.capture.state import SALT, Consent, state_for
from consent.categories import CATEGORIES
from policy.models import PUBLISHED


def make_consent(**overrides):
    fields = {
        "consent_id": uuid.uuid4(),
        "choices": {slug: slug in ("necessary", "first-party", "session") for slug in CATEGORIES},
        "policy_version": 1,
        "policy_language": "en",
        "given_at": datetime.datetime(2026, 11, 25, 10, 0, tzinfo=datetime.UTC),
    }
    return Consent(**{**fields, **overrides})


def test_a_consent_survives_the_round_trip_through_its_cookie_value():
    consent = make_consent(gpc_recorded=True)

    assert Consent.loads(consent.dumps()) == consent


def tampered(value: str) -> str:
    payload, rest = value.split(":", 1)
    return payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + ":" + rest


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "a:b:c",
        "\udcff\udcfe",
        "x" * 5000,
        "eyJpZCI6IjEifQ:1tAbCd:forged-signature-forged-signature",
    ],
    ids=["empty", "garbage", "colons", "not-utf8", "oversized", "forged"],
)
def test_a_garbled_or_forged_value_is_no_consent(value):
    assert Consent.loads(value) is None


def test_an_altered_payload_is_no_consent():
    assert Consent.loads(tampered(make_consent().dumps())) is None


def test_a_value_signed_with_another_salt_is_no_consent():
    value = make_consent().dumps()
    payload = signing.loads(value, salt=SALT)

    assert Consent.loads(signing.dumps(payload, salt="another")) is None


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "not-a-uuid", "c": "11000", "v": 1, "l": "en", "t": 0, "d": 1, "g": 0},
        {"id": uuid.uuid4().hex, "c": "110", "v": 1, "l": "en", "t": 0, "d": 1, "g": 0},
        {"id": uuid.uuid4().hex, "c": "11x00", "v": 1, "l": "en", "t": 0, "d": 1, "g": 0},
        {"id": uuid.uuid4().hex, "c": "11000", "v": "one", "l": "en", "t": 0, "d": 1, "g": 0},
        {"id": uuid.uuid4().hex},
        ["a", "list"],
    ],
)
def test_a_well_signed_but_malformed_payload_is_no_consent(payload):
    # Only a leaked or rotated key could produce these, but they must still never raise.
    assert Consent.loads(signing.dumps(payload, salt=SALT)) is None


def test_an_expired_value_is_no_consent(settings):
    settings.CONSENT_MAX_AGE = 60 * 60
    with mock.patch("time.time", return_value=time.time() - 2 * 60 * 60):
        value = make_consent().dumps()

    assert Consent.loads(value) is None


def test_necessary_is_on_even_if_the_cookie_says_otherwise():
    consent = make_consent(choices=dict.fromkeys(CATEGORIES, False))

    assert Consent.loads(consent.dumps()).choices["necessary"] is True


def test_a_consent_names_its_record_in_a_short_cookie():
    consent = make_consent(gpc_recorded=True, record_id=2**40)

    value = consent.dumps()

    assert Consent.loads(value) == consent
    # A 13-digit record ID adds 24 characters: far under MAX_COOKIE_LENGTH and a browser's 4 KB.
    assert len(value) - len(make_consent().dumps()) <= 24
    assert len(value) < 256


def test_a_cookie_from_before_cookies_named_their_record_is_still_a_consent():
    consent = make_consent()
    payload = signing.loads(consent.dumps(), salt=SALT)
    assert "r" not in payload

    old = Consent.loads(signing.dumps(payload, salt=SALT, compress=False))

    assert old == consent
    assert old.record_id is None


@pytest.mark.parametrize("record", ["12", 0, -3, True, 1.5, [1]])
def test_a_well_signed_cookie_naming_no_real_record_id_is_no_consent(record):
    payload = signing.loads(make_consent().dumps(), salt=SALT)

    assert Consent.loads(signing.dumps({**payload, "r": record}, salt=SALT)) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("gpc", "gpc_recorded", "third_party"),
    [
        ("", False, True),  # no signal: the consent as given
        ("1", False, False),  # a signal the consent has not seen (its record may have failed)
        ("1", True, True),  # seen, and third-party chosen since: that choice stands
        ("0", False, True),
    ],
)
def test_a_gpc_signal_the_consent_has_not_seen_refuses_third_party(gpc, gpc_recorded, third_party):
    policy = PUBLISHED.get().current("en")
    consent = make_consent(
        choices=dict.fromkeys(CATEGORIES, True),
        policy_version=policy.number,
        gpc_recorded=gpc_recorded,
    )
    request = RequestFactory().get("/", HTTP_SEC_GPC=gpc)

    state = state_for(request, consent)

    assert state.choices["third-party"] is third_party
    assert state.choices["first-party"] is True
    assert state.gpc is (gpc == "1")
