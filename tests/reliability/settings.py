"""Production settings plus the baseline the load test compares the consent API with."""

from iportalis.settings.production import *  # noqa: F403

ROOT_URLCONF = "tests.reliability.urls"
