"""Staff sign-in: the lockout after repeated wrong passwords (django-axes), and the TOTP code
that production asks for (django-otp), for admins and auditors alike."""

import os
import re
import subprocess
import sys
from base64 import b32decode
from datetime import timedelta
from io import StringIO
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db.models import F
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from consent.models import ConsentRecord, RegisteredCookie
from tests.factories import make_auditor, make_staff

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent
LOGIN = "/admin/login/"
PASSWORD = "not-a-real-password"  # tests/factories.py gives its users this one
LOCKED = "Too many failed sign-ins"


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    """A wrong password costs PBKDF2's million rounds otherwise; the hash is not under test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def two_factor(settings):
    """Production's rule (iportalis/settings/production.py), in this process."""
    settings.STAFF_TWO_FACTOR_REQUIRED = True


def sign_in(client, username, password, next_url="/admin/", **extra):
    fields = {"username": username, "password": password, "next": next_url}
    return client.post(LOGIN, {**fields, **extra.pop("fields", {})}, **extra)


def signed_in(response) -> bool:
    return response.status_code == 302 and "sessionid" in response.cookies


def enrol(user) -> TOTPDevice:
    """Enrol an authenticator as the README says, and return its device."""
    out = StringIO()
    call_command("enrol_totp", user.username, "--no-qr", stdout=out)
    return TOTPDevice.objects.get(user=user)


def code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """Return what the authenticator app shows now (or `steps_ahead` periods later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time += steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def necessary_cookies() -> set[str]:
    return set(
        RegisteredCookie.objects.filter(cookiegroup__varname="necessary").values_list(
            "name", flat=True
        )
    )


# The lockout ----------------------------------------------------------------------------------


def test_repeated_wrong_passwords_lock_out_the_login_until_the_cool_off_ends(client, settings):
    user = make_staff()
    for attempt in range(1, settings.AXES_FAILURE_LIMIT):
        response = sign_in(client, user.username, "wrong")
        assert response.status_code == 200, attempt
        assert "Please enter the correct username and password" in response.content.decode()

    locked = sign_in(client, user.username, "wrong")
    right_password = sign_in(client, user.username, PASSWORD)

    for response in (locked, right_password):
        assert response.status_code == 429
        assert LOCKED in response.content.decode()
        assert "for 15 minutes, even with the right password" in response.content.decode()
        assert response["Retry-After"] == str(15 * 60)
        assert "no-store" in response["Cache-Control"]
        assert "sessionid" not in response.cookies
    assert client.get("/admin/").status_code == 302, "not signed in"

    # Fifteen minutes later.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=15))
    assert signed_in(sign_in(client, user.username, PASSWORD))
    assert client.get("/admin/").status_code == 200


def test_sign_ins_refused_during_a_lockout_neither_prolong_it_nor_grow_its_row(client, settings):
    user = make_staff()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, user.username, "wrong")
    before = AccessAttempt.objects.get()

    for _ in range(20):
        assert sign_in(client, user.username, "wrong").status_code == 429

    after = AccessAttempt.objects.get()
    assert after.failures_since_start == settings.AXES_FAILURE_LIMIT
    assert (after.attempt_time, after.post_data) == (before.attempt_time, before.post_data)


def test_the_lockout_keeps_no_password_and_no_code(client, settings, two_factor):
    user = make_staff()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, user.username, "s3cret-guess", fields={"otp_token": "123456"})

    attempt = AccessAttempt.objects.get()
    assert "s3cret-guess" not in attempt.post_data
    assert "123456" not in attempt.post_data


def test_a_lockout_is_for_one_username_from_one_address(client, settings):
    user = make_staff()
    other = make_staff(username="other")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, user.username, "wrong", REMOTE_ADDR="192.0.2.1")

    assert sign_in(client, user.username, PASSWORD, REMOTE_ADDR="192.0.2.1").status_code == 429
    assert signed_in(sign_in(client, other.username, PASSWORD, REMOTE_ADDR="192.0.2.1"))
    assert signed_in(sign_in(client, user.username, PASSWORD, REMOTE_ADDR="192.0.2.2"))


def test_ipv6_addresses_count_per_64_and_ipv4_mapped_ones_as_ipv4(client, settings):
    user = make_staff()
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, user.username, "wrong", REMOTE_ADDR=f"2001:db8::{n + 1}")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "other", "wrong", REMOTE_ADDR="::ffff:192.0.2.7")

    assert sign_in(client, user.username, PASSWORD, REMOTE_ADDR="2001:db8::ff").status_code == 429
    assert sign_in(client, "other", "x", REMOTE_ADDR="192.0.2.7").status_code == 429
    assert signed_in(sign_in(client, user.username, PASSWORD, REMOTE_ADDR="2001:db8:0:1::1"))


def test_a_successful_sign_in_starts_the_count_again(client, settings):
    user = make_staff()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, user.username, "wrong")
    assert signed_in(sign_in(client, user.username, PASSWORD))
    client.logout()

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, user.username, "wrong").status_code == 200


def test_the_readme_unlocks_a_locked_out_user(client, settings):
    user = make_staff()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, user.username, "wrong")

    call_command("axes_reset_username", user.username, stdout=StringIO())

    assert signed_in(sign_in(client, user.username, PASSWORD))


def test_the_lockout_and_the_login_set_only_necessary_cookies(client, settings, two_factor):
    user = make_staff()
    device = enrol(user)
    responses = [client.get(LOGIN)]
    responses.append(sign_in(client, user.username, PASSWORD, fields={"otp_token": code(device)}))
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        responses.append(sign_in(client, user.username, "wrong"))

    assert responses[1].status_code == 302
    assert responses[-1].status_code == 429
    set_names = {name for response in responses for name in response.cookies}
    assert set_names, "the session and CSRF cookies at least"
    assert set_names <= necessary_cookies()
    assert not ConsentRecord.objects.exists()


@pytest.mark.parametrize("variable", ["AXES_FAILURE_LIMIT", "AXES_COOLOFF_MINUTES"])
def test_a_lockout_without_a_limit_or_an_end_is_refused_at_start(variable):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env={**os.environ, variable: "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert ("staff.E002" if variable == "AXES_FAILURE_LIMIT" else "staff.E003") in result.stderr


# The second factor ---------------------------------------------------------------------------


def test_development_keeps_the_plain_admin_login(client):
    user = make_staff()

    page = client.get(LOGIN).content.decode()

    assert 'name="otp_token"' not in page
    assert signed_in(sign_in(client, user.username, PASSWORD))


def test_with_two_factor_the_login_page_asks_for_the_code(client, two_factor):
    page = client.get(LOGIN).content.decode()

    assert 'name="otp_token"' in page
    assert 'autocomplete="one-time-code"' in page
    assert "Code from your authenticator app" in page


def test_a_staff_login_without_a_code_is_refused(client, two_factor):
    user = make_staff()
    enrol(user)

    response = sign_in(client, user.username, PASSWORD)

    assert response.status_code == 200
    assert "Please enter your OTP token." in response.content.decode()
    assert not signed_in(response)
    assert client.get("/admin/").status_code == 302


def test_a_staff_login_with_a_wrong_or_stale_code_is_refused(client, two_factor):
    user = make_staff()
    device = enrol(user)

    for token in ("000000", code(device, steps_ahead=-10), "not a code", "1" * 16):
        response = sign_in(client, user.username, PASSWORD, fields={"otp_token": token})
        assert response.status_code == 200, token
        assert not signed_in(response), token


def test_a_code_works_once(client, two_factor):
    user = make_staff()
    device = enrol(user)
    token = code(device)
    assert signed_in(sign_in(client, user.username, PASSWORD, fields={"otp_token": token}))
    client.logout()

    response = sign_in(client, user.username, PASSWORD, fields={"otp_token": token})

    assert not signed_in(response)


def test_a_staff_member_without_an_authenticator_cannot_sign_in(client, two_factor):
    user = make_staff()

    response = sign_in(client, user.username, PASSWORD, fields={"otp_token": "123456"})

    assert response.status_code == 200
    assert "no authenticator app enrolled yet" in response.content.decode()
    assert not signed_in(response)


def test_an_admin_with_a_valid_code_gets_into_the_admin_and_the_audit_pages(client, two_factor):
    admin = User.objects.create_superuser("admin", password=PASSWORD)
    device = enrol(admin)

    response = sign_in(client, "admin", PASSWORD, fields={"otp_token": code(device)})

    assert signed_in(response)
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/consent/consentrecord/").status_code == 200
    assert client.get("/audit/verify/").status_code == 200
    assert client.get("/audit/statistics/").status_code == 200


def test_an_auditor_with_a_valid_code_gets_into_the_audit_pages(client, two_factor):
    auditor = make_auditor()
    device = enrol(auditor)

    response = sign_in(
        client,
        auditor.username,
        PASSWORD,
        next_url="/audit/statistics/",
        fields={"otp_token": code(device)},
    )

    assert signed_in(response)
    assert response["Location"] == "/audit/statistics/"
    assert client.get("/audit/statistics/").status_code == 200
    assert client.get("/audit/consents.csv").status_code == 200
    assert client.get("/admin/consent/consentrecord/").status_code == 200


def test_a_session_that_signed_in_without_a_code_is_signed_out_everywhere(client, settings):
    """A session from before the rule (or from anywhere that skipped the code) lets no one in."""
    auditor = make_auditor()
    client.force_login(auditor)
    assert client.get("/audit/statistics/").status_code == 200

    settings.STAFF_TWO_FACTOR_REQUIRED = True

    for url in ("/admin/", "/admin/consent/consentrecord/", "/audit/statistics/", "/audit/verify/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert urlsplit(response["Location"]).path == LOGIN, url
    assert client.get("/audit/consents.csv").status_code == 302


def test_a_code_for_another_users_authenticator_is_refused(client, two_factor):
    user = make_staff()
    enrol(user)
    other = make_staff(username="other")
    other_device = enrol(other)

    response = sign_in(
        client,
        user.username,
        PASSWORD,
        fields={"otp_token": code(other_device), "otp_device": other_device.persistent_id},
    )

    assert not signed_in(response)


# Enrolment ------------------------------------------------------------------------------------


def test_enrol_totp_prints_the_uri_and_a_qr_code_an_app_makes_the_right_codes_from(client):
    user = make_staff()
    out = StringIO()

    call_command("enrol_totp", user.username, stdout=out)

    text = out.getvalue()
    uri = re.search(r"otpauth://totp/\S+", text)[0]
    assert urlsplit(uri).path == "/iPortalis%3Astaff"
    query = parse_qs(urlsplit(uri).query)
    assert query["issuer"] == ["iPortalis"]
    assert (query["digits"], query["period"], query["algorithm"]) == (["6"], ["30"], ["SHA1"])
    assert "█" in text, "a QR code a phone can scan from the terminal"
    device = TOTPDevice.objects.get(user=user)
    assert b32decode(query["secret"][0]) == device.bin_key
    assert device.confirmed


def test_enrol_totp_refuses_what_would_not_sign_in_and_replaces_only_when_asked(client):
    make_staff()
    User.objects.create_user("visitor", password=PASSWORD)
    with pytest.raises(CommandError, match="No user is named 'nobody'"):
        call_command("enrol_totp", "nobody", stdout=StringIO())
    with pytest.raises(CommandError, match="not an active staff member"):
        call_command("enrol_totp", "visitor", stdout=StringIO())

    call_command("enrol_totp", "staff", "--no-qr", stdout=StringIO())
    first = TOTPDevice.objects.get()
    with pytest.raises(CommandError, match="already has an authenticator"):
        call_command("enrol_totp", "staff", stdout=StringIO())
    call_command("enrol_totp", "staff", "--replace", "--no-qr", stdout=StringIO())

    second = TOTPDevice.objects.get()
    assert second.pk != first.pk
    assert second.key != first.key


@pytest.mark.parametrize(
    ("language", "locked", "field"),
    [
        ("de", "Zu viele fehlgeschlagene Anmeldungen", "Code aus Ihrer Authenticator-App"),
        ("fr", "Trop de connexions échouées", "Code de votre application d’authentification"),
    ],
)
def test_the_lockout_and_the_code_field_are_translated(client, settings, language, locked, field):
    settings.STAFF_TWO_FACTOR_REQUIRED = True
    user = make_staff()
    assert field in client.get(LOGIN, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = sign_in(client, user.username, "wrong", HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 429
    assert locked in response.content.decode()
