import pytest
from django.test import override_settings

from policy.checks import check_cookie_table


def a_table():
    return "<table></table>"


@pytest.mark.parametrize(
    ("value", "error_id"),
    [
        (42, "policy.E001"),
        ("policy.nowhere.table", "policy.E002"),
        ("policy.rendering.COOKIE_TABLE_MARKER", "policy.E003"),
    ],
)
def test_cookie_table_setting_is_checked(value, error_id):
    with override_settings(POLICY_COOKIE_TABLE=value):
        assert [error.id for error in check_cookie_table()] == [error_id]


def test_a_callable_cookie_table_passes_the_check():
    with override_settings(POLICY_COOKIE_TABLE="tests.policy.test_checks.a_table"):
        assert check_cookie_table() == []
    assert check_cookie_table() == []  # unset is fine: the placeholder is shown
