from __future__ import annotations

from typing import Any

from django.core.checks import Error, register
from django.utils.module_loading import import_string

from .conf import conf


@register()
def check_cookie_table(**kwargs: Any) -> list[Error]:
    path = conf.POLICY_COOKIE_TABLE
    if path is None:
        return []
    if not isinstance(path, str):
        return [Error("POLICY_COOKIE_TABLE must be a dotted path string.", id="policy.E001")]
    try:
        table = import_string(path)
    except ImportError:
        return [Error(f"POLICY_COOKIE_TABLE {path!r} cannot be imported.", id="policy.E002")]
    if not callable(table):
        return [Error(f"POLICY_COOKIE_TABLE {path!r} is not callable.", id="policy.E003")]
    return []
