"""Hostile input against the admin's login: the lockout (django-axes) and the TOTP code
(django-otp). A clear answer below 500, never a consent record, never a cookie outside the
registry's necessary ones."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from axes.models import AccessAttempt
from django.test import Client

from consent.models import RegisteredCookie
from tests.factories import make_consent_cookie, make_staff
from tests.hostile import FORM, INJECTED_HEADER, Probe, raw

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "not-a-real-password"


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def login(probe: Probe, client: Client, fields: dict[str, str], **extra: str):
    return probe.send("POST", LOGIN, urlencode(fields).encode(), FORM, client=client, **extra)


def assert_only_necessary_cookies(response) -> None:
    necessary = set(
        RegisteredCookie.objects.filter(cookiegroup__varname="necessary").values_list(
            "name", flat=True
        )
    )
    assert set(response.cookies) <= necessary, set(response.cookies)


@pytest.mark.parametrize(
    "visitor",
    [
        {},
        {"decided": True},
        {"HTTP_SEC_GPC": "1"},
    ],
    ids=["undecided", "decided", "GPC"],
)
def test_a_lockout_answers_429_and_writes_no_consent_record(probe, settings, visitor):
    """Probe.send checks each answer: no 5xx, no consent record, no consent cookie."""
    if visitor.pop("decided", False):
        visitor = {"HTTP_COOKIE": f"iportalis_consent={make_consent_cookie()}"}
    user = make_staff()
    client = Client()
    wrong = {"username": user.username, "password": "wrong"}
    # A GPC signal is recorded the first time it arrives, on this page as on any other; the
    # client keeps the consent cookie that says so.
    gpc = 1 if "HTTP_SEC_GPC" in visitor else 0
    assert login(probe, client, wrong, records=gpc, **visitor).status_code == 200
    for _ in range(settings.AXES_FAILURE_LIMIT - 2):
        assert login(probe, client, wrong, **visitor).status_code == 200

    responses = [login(probe, client, wrong, **visitor) for _ in range(3)]
    responses.append(login(probe, client, {**wrong, "password": PASSWORD}, **visitor))

    for response in responses:
        assert response.status_code == 429
        assert_only_necessary_cookies(response)


HOSTILE_FIELDS = [
    {},
    {"username": "staff"},
    {"password": PASSWORD},
    {"username": "", "password": ""},
    {"username": "staff\x00", "password": PASSWORD},
    {"username": "x" * 10_000, "password": "wrong"},
    {"username": "x" * 151, "password": "wrong"},
    {"username": "staff", "password": "x" * 100_000},
    {"username": raw(b"\xff\xfe\xc0\xaf"), "password": raw(b"\xed\xa0\x80")},
    {"username": f"staff\r\n{INJECTED_HEADER}: 1", "password": "wrong"},
    {"username": "' OR 1=1 --", "password": "' OR 1=1 --"},
]


def test_hostile_login_bodies_get_the_form_back_without_a_500(probe):
    make_staff()
    for fields in HOSTILE_FIELDS:
        response = login(probe, Client(), fields)
        assert response.status_code == 200, fields
        assert_only_necessary_cookies(response)
    # Nothing signed anyone in.
    assert "sessionid" not in response.cookies


@pytest.mark.parametrize(
    "header",
    [
        {"HTTP_USER_AGENT": "Mozilla\x00/5.0"},
        {"HTTP_USER_AGENT": raw(b"\xff\xfe\xed\xa0\x80") * 100},
        {"HTTP_USER_AGENT": "x" * 10_000},
        {"HTTP_ACCEPT": "text/html\x00" * 500},
        {"REMOTE_ADDR": "not-an-address"},
        {"QUERY_STRING": "next=%00&x=" + "y" * 5000},
    ],
    ids=["NUL agent", "non-UTF-8 agent", "long agent", "NUL accept", "bad address", "query"],
)
def test_wrong_passwords_with_hostile_headers_are_counted_without_a_500(probe, settings, header):
    user = make_staff()
    client = Client()
    wrong = {"username": user.username, "password": "wrong"}
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(probe, client, wrong, **header).status_code == 200

    assert login(probe, client, wrong, **header).status_code == 429
    assert AccessAttempt.objects.count() == 1


HOSTILE_CODES = [
    "",
    "0",
    "12345",
    "1234567",
    "abcdef",
    "12 34 56",
    "123456\x00",
    "１２３４５６",  # full-width digits
    "-123456",
    "9" * 10_000,
    raw(b"\xff\xfe"),
]


def test_hostile_codes_and_devices_are_refused_without_a_500(probe, settings):
    settings.STAFF_TWO_FACTOR_REQUIRED = True
    user = make_staff()
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    other = TOTPDevice.objects.create(
        user=make_staff(username="other"), name="authenticator", confirmed=True
    )
    devices = [
        "",
        device.persistent_id,
        other.persistent_id,
        "otp_totp.totpdevice/999999",
        "otp_totp.totpdevice/-1",
        "otp_totp.totpdevice/99999999999999999999",
        "otp_static.staticdevice/1",
        "auth.user/1",
        "x" * 5000,
        "no.such.model/1",
    ]
    base = {"username": user.username, "password": PASSWORD}
    for token in HOSTILE_CODES:
        for otp_device in devices:
            fields = {**base, "otp_token": token, "otp_device": otp_device}
            response = login(probe, Client(), fields)
            assert response.status_code == 200, fields
            assert "sessionid" not in response.cookies, fields
            assert_only_necessary_cookies(response)
