"""Create the five categories and a registry that shows every one of them at work.

The rows are frozen here, copied from what `consent.seed` and `consent.categories.SEED_TEXT`
held when this migration was written, and only the historical models are used: a later change
to the live code or models cannot change what a fresh install starts with. It still runs before
the policy's seed migration, as it did when version 1 was rendered from this registry, so that
every install applies the migrations in the same order.
"""

from django.db import migrations

SITE = "iPortalis"

# (varname, name, description), in the order of their `ordering`.
CATEGORIES = [
    (
        "necessary",
        "Strictly necessary",
        "These are cookies which are needed for our websites, applications or services to "
        "function properly, for example, these cookies allow you to access secure areas of our "
        "website.",
    ),
    (
        "first-party",
        "First-party",
        "First-party cookies are set by the website visited by the user. The data collected "
        "using first-party cookies is used for purposes like calculating pageviews, sessions, "
        "and number of users.",
    ),
    (
        "third-party",
        "Third-party",
        "Third-party cookies are set by domains that are not directly visited by the user. "
        "This happens when we add third-party elements (like chatbot, and social plugins) on "
        "our website.",
    ),
    (
        "session",
        "Session",
        "Session cookies either expire immediately or within a few seconds of the user leaving "
        "the web browser.",
    ),
    (
        "persistent",
        "Persistent",
        "Persistent cookies stay on your browser for a very long time. Persistent cookies are "
        "used by us to track a single user and his/her interaction with our website.",
    ),
]

# (name, purpose, declared duration)
NECESSARY = [
    ("sessionid", "Keeps signed-in staff signed in to secure areas of the site.", "2 weeks"),
    ("csrftoken", "Protects forms against cross-site request forgery.", "1 year"),
    ("iportalis_consent", "Remembers your cookie choices and your consent ID.", "12 months"),
]

SERVICES = [
    {
        "name": "Site analytics",
        "provider": SITE,
        "category": "first-party",
        "purpose": "Counts page views, visits and returning visitors on our own servers (Matomo).",
        "hosts": [],
        "cookies": [
            ("_pk_id.*", "Recognises a returning browser to count unique visitors.", "13 months"),
            ("_pk_ses.*", "Groups the pages you view into one visit.", "30 minutes"),
        ],
    },
    {
        "name": "Preferences",
        "provider": SITE,
        "category": "first-party",
        "purpose": "Remembers choices you make on the site.",
        "hosts": [],
        "cookies": [("django_language", "Remembers the language you chose.", "1 year")],
    },
    {
        "name": "HubSpot tracking",
        "provider": "HubSpot, Inc.",
        "category": "third-party",
        "purpose": "Marketing analytics: which pages visitors from campaigns read.",
        "hosts": ["js.hs-scripts.com", "js.hs-analytics.net", "track.hubspot.com"],
        "cookies": [
            (
                "__hstc",
                "Tracks visitors: domain, first and last visit, number of visits.",
                "13 months",
            ),
            ("hubspotutk", "Identifies a visitor to HubSpot across visits.", "13 months"),
            ("__hssc", "Counts the pages viewed in one visit.", "30 minutes"),
            ("__hssrc", "Notices when the browser has been restarted.", "Session"),
            ("__hs_*", "HubSpot's other preference and opt-out cookies.", "Up to 13 months"),
        ],
    },
    {
        "name": "Support chat",
        "provider": "Intercom, Inc.",
        "category": "third-party",
        "purpose": "The chatbot that answers questions and hands over to our support team.",
        "hosts": ["widget.intercom.io", "js.intercomcdn.com", "api-iam.intercom.io"],
        "cookies": [
            (
                "intercom-id-*",
                "Recognises you so the chat can show earlier conversations.",
                "9 months",
            ),
            ("intercom-session-*", "Keeps the chat open while you move between pages.", "1 week"),
            ("intercom-device-id-*", "Recognises the device you chat from.", "9 months"),
        ],
    },
]


def seed(apps, schema_editor):
    """Create what is missing of the seed registry."""
    CookieGroup = apps.get_model("cookie_consent", "CookieGroup")
    Service = apps.get_model("consent", "Service")
    RegisteredCookie = apps.get_model("consent", "RegisteredCookie")
    groups = {}
    for ordering, (slug, name, description) in enumerate(CATEGORIES):
        groups[slug], _ = CookieGroup.objects.get_or_create(
            varname=slug,
            defaults={
                "name": name,
                "description": description,
                "is_required": slug == "necessary",
                "is_deletable": slug != "necessary",
                "ordering": ordering,
            },
        )
    for name, purpose, duration in NECESSARY:
        RegisteredCookie.objects.get_or_create(
            name=name,
            domain="",
            cookiegroup=groups["necessary"],
            defaults={"description": purpose, "duration": duration},
        )
    for spec in SERVICES:
        service, _ = Service.objects.get_or_create(
            name=spec["name"],
            defaults={
                "provider": spec["provider"],
                "category": groups[spec["category"]],
                "purpose": spec["purpose"],
                "hosts": spec["hosts"],
            },
        )
        for name, purpose, duration in spec["cookies"]:
            RegisteredCookie.objects.get_or_create(
                name=name,
                domain="",
                cookiegroup=groups[spec["category"]],
                defaults={"description": purpose, "duration": duration, "service": service},
            )


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_append_only_records")]
    run_before = [("policy", "0003_seed_policy")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
