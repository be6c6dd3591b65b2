"""Production settings plus the baseline the load test compares the consent API with."""

from iportalis.settings.production import *  # noqa: F403

ROOT_URLCONF = "tests.reliability.urls"

# The suite signs its admin in with a password (servers.py, Visitor.log_in) to change the
# registry under load; the second factor is tested in tests/test_production.py.
STAFF_TWO_FACTOR_REQUIRED = False
