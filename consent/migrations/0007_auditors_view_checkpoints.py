"""Auditors may also view the retention purge's chain checkpoints."""

from django.db import migrations

from consent.auditors import create_auditors_group

PERMISSIONS = (
    ("consent", "view_consentrecord"),
    ("consent", "export_consentrecord"),
    ("consent", "verify_consentrecord"),
    ("consent", "view_statistics"),
    ("consent", "view_registeredcookie"),
    ("consent", "view_service"),
    ("consent", "view_unknowncookie"),
    ("consent", "view_chaincheckpoint"),
    ("cookie_consent", "view_cookiegroup"),
    ("cookie_consent", "view_cookie"),
    ("policy", "view_policyversion"),
)
BEFORE = tuple(p for p in PERMISSIONS if p != ("consent", "view_chaincheckpoint"))


def add(apps, schema_editor):
    create_auditors_group(apps, PERMISSIONS)


def remove(apps, schema_editor):
    create_auditors_group(apps, BEFORE)


class Migration(migrations.Migration):
    dependencies = [("consent", "0006_chaincheckpoint")]

    operations = [migrations.RunPython(add, remove)]
