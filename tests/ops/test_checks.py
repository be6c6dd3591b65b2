"""The ops app's system checks: its middleware where probes reach it, and usable settings."""

from django.core.checks import run_checks

OPS = "ops.middleware.OpsMiddleware"


def ids(**kwargs):
    return {message.id for message in run_checks(**kwargs) if message.id.startswith("ops.")}


def test_the_projects_settings_pass():
    assert ids() == set()


def test_a_missing_middleware_is_an_error(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != OPS]

    assert ids() == {"ops.E001"}


def test_below_the_host_check_or_the_https_redirect_is_an_error(settings):
    others = [m for m in settings.MIDDLEWARE if m != OPS]
    below_security = others.index("django.middleware.security.SecurityMiddleware") + 1
    settings.MIDDLEWARE = [*others[:below_security], OPS, *others[below_security:]]
    assert ids() == {"ops.E002"}

    settings.MIDDLEWARE = [*others, OPS]
    messages = [m.msg for m in run_checks() if m.id == "ops.E002"]
    assert len(messages) == 2
    assert any("AllowedHostMiddleware" in message for message in messages)


def test_above_the_client_address_middleware_is_an_error(settings):
    settings.MIDDLEWARE = [OPS, *(m for m in settings.MIDDLEWARE if m != OPS)]

    assert ids() == {"ops.E003"}


def test_settings_are_checked(settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "intranet"]
    settings.READINESS_TIMEOUT = 0
    settings.METRICS_TOKEN = 1234
    settings.CONSENT_LOG_MAX_LAG = -5

    assert ids() == {"ops.E004", "ops.E005", "ops.E006"}
    assert any(m.id == "consent.E001" and "CONSENT_LOG_MAX_LAG" in m.msg for m in run_checks())

    settings.METRICS_ALLOWED_NETWORKS = "127.0.0.1"  # a string, not a list
    assert "ops.E004" in ids()
