"""Production settings plus the baseline the load test compares the consent API with."""

from iportalis.settings.production import *  # noqa: F403

ROOT_URLCONF = "tests.reliability.urls"

# The servers log in as the test suite does, as the owner, and run as the runtime role, as the
# app does in production (tests/conftest.py, consent.roles).
DATABASES["default"].setdefault("OPTIONS", {})["assume_role"] = "iportalis_runtime"  # noqa: F405
