"""Fixtures of the hostile suite (tests/consent/test_hostile*.py), which asks for them by name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import HOSTILE
from tests.hostile import Probe


@pytest.fixture
def no_rate_limit(settings: Any) -> None:
    """Lift the limit on decisions per address (test_rate_limit.py tests it): here every case
    must meet the validation it guards, not a 429 because an earlier case used up the limit."""
    settings.CONSENT_RATE_LIMIT = "1000000/m"


@pytest.fixture
def probe(figures: Any) -> Iterator[Probe]:
    probe = Probe()
    yield probe
    HOSTILE.update(
        cases=probe.sent,
        tests=1,
        server_errors=probe.server_errors,
        records=probe.unintended_records,
    )
    figures("cases tried", probe.sent)
    figures("5xx", probe.server_errors)
    figures("records written", probe.unintended_records)
    if probe.decisions:
        figures("records written by the valid decisions the test intends", probe.decisions)
