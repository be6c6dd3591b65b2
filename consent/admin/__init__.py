"""The consent app's admin: the cookie registry and the consent log."""

from . import log, records, registry  # noqa: F401  (registers the model admins)
