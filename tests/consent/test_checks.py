from django.core.checks import run_checks


def ids(**kwargs):
    return {message.id for message in run_checks(**kwargs)}


def test_settings_are_checked(settings):
    settings.CONSENT_MAX_AGE = -1
    settings.CONSENT_COOKIE_NAME = ""

    assert {"consent.E001", "consent.E002"} <= ids()


def test_a_missing_middleware_is_reported(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.startswith("consent.")]

    assert "consent.W001" in ids()


def test_the_log_signing_key_is_checked(settings):
    from consent.log.note import COSIGNATURE_V1, generate_signer

    assert "consent.E007" not in ids()
    for broken in ("", "PRIVATE+KEY+x+00000000+AAAA", str(generate_signer("w", COSIGNATURE_V1))):
        settings.CONSENT_LOG_SIGNING_KEY = broken
        assert "consent.E007" in ids(include_deployment_checks=True)
    settings.CONSENT_LOG_SIGNING_KEY = str(generate_signer("example.com/log"))
    assert "consent.E007" not in ids(include_deployment_checks=True)


def test_the_projects_middleware_order_passes():
    assert not {"consent.W001", "consent.W003", "consent.W006"} & ids()


def messages(settings, middleware, check="consent.W003"):
    settings.MIDDLEWARE = middleware
    return [m.msg for m in run_checks() if m.id == check]


def test_a_misplaced_middleware_is_reported(settings):
    ours = "consent.enforcement.middleware.ConsentMiddleware"
    below_sessions = [m for m in settings.MIDDLEWARE if m != ours]
    below_sessions.insert(below_sessions.index("django.middleware.locale.LocaleMiddleware"), ours)

    sessions = "django.contrib.sessions.middleware.SessionMiddleware"
    assert messages(settings, below_sessions) == [
        f"{ours} must come before {sessions} in MIDDLEWARE."
    ]


def test_django_csps_own_middleware_in_place_of_ours_is_reported(settings):
    plain = [
        "csp.middleware.CSPMiddleware" if m == "consent.enforcement.csp.ConsentCSPMiddleware" else m
        for m in settings.MIDDLEWARE
    ]

    (message,) = messages(settings, plain, check="consent.W006")
    assert message.startswith("csp.middleware.CSPMiddleware is in MIDDLEWARE")


def test_the_downgrade_setting_must_be_a_boolean(settings):
    settings.CONSENT_DOWNGRADE_PERSISTENT = "drop"

    assert "consent.E003" in ids()


def test_the_unknown_cookies_setting_must_be_a_boolean(settings):
    settings.CONSENT_REFUSE_UNKNOWN_COOKIES = "first-party"

    assert "consent.E006" in ids()
