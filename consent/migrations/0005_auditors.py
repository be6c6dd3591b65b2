"""Permissions to export, verify and see statistics, and the Auditors group that holds them.

Django creates permissions after the last migration (post_migrate), too late for a group on a
fresh database, so this migration creates them itself, frozen: every content type and permission
of the consent, cookie_consent and policy models as they were here, with the names Django's
`create_permissions` gave them when this migration still called it. Only the historical models
are used, so a fresh install gets the same rows whatever code it runs.
"""

from django.db import migrations

AUDITORS = "Auditors"

DEFAULT_ACTIONS = ("add", "change", "delete", "view")
# (app label, model, verbose name, permissions beyond the default ones): every model of the three
# apps at this migration, the chain head that migration 0008 removed included.
MODELS = [
    ("consent", "chainhead", "chain head", []),
    ("consent", "service", "service", []),
    ("consent", "registeredcookie", "registered cookie", []),
    (
        "consent",
        "consentrecord",
        "consent record",
        [
            ("export_consentrecord", "Can export consent records"),
            ("verify_consentrecord", "Can verify the consent log"),
            ("view_statistics", "Can view consent statistics"),
        ],
    ),
    ("consent", "unknowncookie", "unknown cookie", []),
    ("cookie_consent", "cookie", "Cookie", []),
    ("cookie_consent", "cookiegroup", "Cookie Group", []),
    ("cookie_consent", "logitem", "Log item", []),
    (
        "policy",
        "policyversion",
        "policy version",
        [("publish_policyversion", "Can publish policy versions")],
    ),
]

# (app label, codename): the Auditors' permissions, viewing, exporting and verifying only; never
# add, change or delete. Migrations 0007 and 0008 change them as models come and go.
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
    """Create what is missing of the permissions, then the group with exactly its own."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for app_label, model, verbose_name, extra in MODELS:
        content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
        default = [
            (f"{action}_{model}", f"Can {action} {verbose_name}") for action in DEFAULT_ACTIONS
        ]
        for codename, name in default + extra:
            Permission.objects.get_or_create(
                content_type=content_type, codename=codename, defaults={"name": name}
            )
    group, _ = Group.objects.get_or_create(name=AUDITORS)
    group.permissions.set(
        [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in PERMISSIONS
        ]
    )


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=AUDITORS).delete()


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
