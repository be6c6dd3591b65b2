"""Production settings plus the baseline the load test compares the consent API with."""

from iportalis.settings.production import *  # noqa: F403

ROOT_URLCONF = "tests.reliability.urls"

# The servers log in as the test suite does, as the owner, and run as the runtime role, as the
# app does in production (tests/conftest.py, consent.roles).
DATABASES["default"].setdefault("OPTIONS", {})["assume_role"] = "iportalis_runtime"  # noqa: F405

# The suite signs its admin in with a password (servers.py, Visitor.log_in) to change the
# registry under load; the second factor is tested in tests/test_production.py.
STAFF_TWO_FACTOR_REQUIRED = False
