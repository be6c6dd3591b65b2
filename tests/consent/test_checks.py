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


def test_deploy_checks_want_a_separate_integrity_key(settings):
    settings.CONSENT_INTEGRITY_KEY = ""
    assert "consent.W002" in ids(include_deployment_checks=True)

    settings.CONSENT_INTEGRITY_KEY = "a-separate-long-random-key"
    assert "consent.W002" not in ids(include_deployment_checks=True)
