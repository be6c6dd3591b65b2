"""The published versions a fresh install starts with, exactly as their migrations publish them.

Each migration holds its version frozen (Markdown, rendered HTML and SHA-256) and uses only the
historical model. Tests that start from an emptied database publish the same rows through the
migrations' own `publish`, so that they can never drift from what an install gets.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# In the order they are published; each module has `publish(policy_version_model)`.
SEED_MIGRATIONS = (
    "0003_seed_policy",
    "0004_policy_version_2_en",
    "0005_policy_version_2_de",
    "0006_policy_version_2_fr",
)


def _publish(policy_version_model: Any, migration: str) -> None:
    import_module(f"policy.migrations.{migration}").publish(policy_version_model)


def publish_seed_policy(policy_version_model: Any) -> None:
    """Publish the seed as English version 1 unless it exists (the model may be historical)."""
    _publish(policy_version_model, "0003_seed_policy")


def publish_policies(policy_version_model: Any) -> None:
    """Publish every version the migrations publish, unless it exists."""
    for migration in SEED_MIGRATIONS:
        _publish(policy_version_model, migration)
