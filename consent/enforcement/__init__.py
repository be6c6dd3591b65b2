"""Enforcement, on every response: `ConsentMiddleware`, the rules it applies (`rules.py`), the
registry snapshot, unknown cookie names, and the Content-Security-Policy of the consent in effect.

It may read the visitor's state and record a GPC signal (capture), never the audit."""
