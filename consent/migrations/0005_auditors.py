"""Permissions to export, verify and see statistics, and the Auditors group that holds them."""

from django.db import migrations

from consent.auditors import create_auditors_group, delete_auditors_group

# As they were when this migration was written: later models' permissions do not exist yet here.
PERMISSIONS = (
    ("consent", "view_consentrecord"),
    ("consent", "export_consentrecord"),
    ("consent", "verify_consentrecord"),
    ("consent", "view_statistics"),
    ("consent", "view_registeredcookie"),
    ("consent", "view_service"),
    ("consent", "view_unknowncookie"),
    ("cookie_consent", "view_cookiegroup"),
    ("cookie_consent", "view_cookie"),
    ("policy", "view_policyversion"),
)


def create_group(apps, schema_editor):
    create_auditors_group(apps, PERMISSIONS)


def delete_group(apps, schema_editor):
    delete_auditors_group(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("cookie_consent", "0004_cookie_natural_key"),
        ("policy", "0003_seed_policy"),
        ("consent", "0004_unknowncookie"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="consentrecord",
            options={
                "permissions": [
                    ("export_consentrecord", "Can export consent records"),
                    ("verify_consentrecord", "Can verify the consent log"),
                    ("view_statistics", "Can view consent statistics"),
                ],
                "verbose_name": "consent record",
                "verbose_name_plural": "consent records",
            },
        ),
        migrations.RunPython(create_group, delete_group),
    ]
