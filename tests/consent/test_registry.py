import pytest
from cookie_consent.models import CookieGroup

from consent.categories import CATEGORIES
from consent.enforcement.registry import get_registry
from consent.models import RegisteredCookie, Service
from policy.models import PolicyVersion
from tests.helpers import cookie_form

pytestmark = pytest.mark.django_db


def test_the_five_categories_exist_with_the_seed_policys_words():
    groups = {g.varname: g for g in CookieGroup.objects.all()}

    assert list(groups) == list(CATEGORIES)
    assert groups["necessary"].is_required is True
    assert not any(groups[slug].is_required for slug in CATEGORIES[1:])
    assert groups["third-party"].description.startswith(
        "Third-party cookies are set by domains that are not directly visited by the user."
    )


def test_the_seed_registry_shows_every_party_at_work():
    registry = get_registry()

    assert {c.party for c in registry.cookies} == {"necessary", "first-party", "third-party"}
    assert {"sessionid", "csrftoken", "iportalis_consent"} <= {
        c.name for c in registry.cookies if c.party == "necessary"
    }
    assert "js.hs-scripts.com" in registry.hosts["third-party"]
    assert registry.find("__hstc").provider == "HubSpot, Inc."


@pytest.mark.parametrize(
    ("name", "party"),
    [
        ("csrftoken", "necessary"),
        ("_pk_id.1.a1b2", "first-party"),
        ("intercom-session-abc123", "third-party"),
        ("__hs_opt_out", "third-party"),
        ("never_heard_of_it", "first-party"),
    ],
)
def test_party_comes_from_names_and_patterns_and_unknown_is_first_party(name, party):
    assert get_registry().party_of(name) == party


def test_an_admin_change_reaches_the_cached_registry():
    assert get_registry().find("_gcl_au") is None

    RegisteredCookie.objects.create(
        name="_gcl_au",
        cookiegroup=CookieGroup.objects.get(varname="third-party"),
        service=Service.objects.get(name="HubSpot tracking"),
        description="Conversion linking.",
        duration="3 months",
    )

    assert get_registry().party_of("_gcl_au") == "third-party"


def test_policy_version_1_shows_the_cookie_table_from_the_registry():
    html = PolicyVersion.objects.get(number=1).rendered_html

    table = html[html.index('id="cookies-in-use"') :]
    assert "<code>iportalis_consent</code>" in table
    assert "<code>_pk_id.*</code>" in table
    assert "<td>HubSpot, Inc.</td>" in table
    assert "<td>13 months</td>" in table
    assert html.index("The cookies and analytical tools") < html.index('id="cookies-in-use"')


def test_a_cookie_added_through_django_cookie_consents_own_admin_is_known_too():
    from cookie_consent.models import Cookie

    Cookie.objects.create(
        name="plain_cookie", cookiegroup=CookieGroup.objects.get(varname="first-party")
    )

    known = get_registry().find("plain_cookie")
    assert (known.party, known.provider, known.duration) == ("first-party", "iPortalis", "")


# What the registry refuses (issue 14, item 2) -------------------------------------------------

COOKIES = "/admin/consent/registeredcookie/"
UNKNOWN = "/admin/consent/unknowncookie/"


def make_unknown(name):
    from django.utils import timezone

    from consent.models import UnknownCookie

    now = timezone.now()
    return UnknownCookie.objects.create(
        name=name, first_seen=now, last_seen=now, count=1, example_path="/"
    )


@pytest.mark.parametrize(
    ("name", "slug", "reason"),
    [
        ("*", "necessary", "every cookie name"),
        ("**", "first-party", "every cookie name"),
        ("iportalis_*", "necessary", "the consent cookie"),
        ("*consent", "first-party", "the consent cookie"),
        ("_pk_*", "necessary", "_pk_id.*"),  # a first-party pattern's names
        ("__hs*", "first-party", "__hs_*"),
        ("hubspot*", "first-party", "hubspotutk"),  # a third-party cookie's name
        ("*session*", "first-party", "It overlaps"),
        ("_pk_id.1.abcd", "third-party", "_pk_id.*"),  # an exact name under another's pattern
        ("csrftoken", "first-party", "csrftoken"),  # the same name in another category
    ],
)
def test_the_registry_refuses_patterns_that_widen_what_counts_as_consented(
    admin_client, name, slug, reason
):
    before = RegisteredCookie.objects.count()

    response = admin_client.post(f"{COOKIES}add/", cookie_form(name, slug))

    assert response.status_code == 200  # the form again, with the error
    assert reason in response.content.decode()
    assert RegisteredCookie.objects.count() == before
    assert get_registry().find("anything_at_all") is None


@pytest.mark.parametrize(
    ("name", "slug"),
    [("_pk_ref.*", "first-party"), ("__hs_extra_*", "third-party"), ("_gcl_*", "third-party")],
)
def test_the_registry_takes_patterns_that_stay_in_their_category(admin_client, name, slug):
    response = admin_client.post(f"{COOKIES}add/", cookie_form(name, slug))

    assert response.status_code == 302
    assert RegisteredCookie.objects.filter(name=name).exists()


def test_a_registered_pattern_can_be_saved_again(admin_client):
    cookie = RegisteredCookie.objects.get(name="_pk_id.*")

    response = admin_client.post(
        f"{COOKIES}{cookie.pk}/change/", cookie_form("_pk_id.*", description="Changed.")
    )

    assert response.status_code == 302
    assert RegisteredCookie.objects.get(pk=cookie.pk).description == "Changed."


@pytest.mark.parametrize("name", ["*", "_ga_*", "a b", "<b>", 'x"y', "iportalis_*"])
def test_classifying_a_visitors_name_never_creates_a_pattern_or_a_bad_name(admin_client, name):
    from consent.models import UnknownCookie

    unknown = make_unknown(name)
    before = RegisteredCookie.objects.count()

    response = admin_client.post(f"{UNKNOWN}{unknown.pk}/classify/", {"category": "necessary"})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert RegisteredCookie.objects.count() == before
    assert UnknownCookie.objects.filter(pk=unknown.pk).exists()
    assert get_registry().party_of("_pk_unregistered") == "first-party"


def test_classifying_in_bulk_refuses_all_when_one_name_is_refused(admin_client):
    from consent.models import UnknownCookie

    good, bad = make_unknown("_fbp"), make_unknown("*")

    response = admin_client.post(
        UNKNOWN,
        {"action": "classify_as_necessary", "_selected_action": [good.pk, bad.pk]},
        follow=True,
    )

    assert "Not classified: *." in response.content.decode()
    assert not RegisteredCookie.objects.filter(name__in=["_fbp", "*"]).exists()
    assert UnknownCookie.objects.count() == 2


def test_classifying_a_plain_name_still_registers_it(admin_client):
    unknown = make_unknown("_fbp")

    response = admin_client.post(f"{UNKNOWN}{unknown.pk}/classify/", {"category": "third-party"})

    assert response.status_code == 302
    assert get_registry().party_of("_fbp") == "third-party"


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("a*", "*b", True),
        ("a*c", "ab*", True),
        ("a*c", "b*", False),
        ("*x*", "y", False),
        ("abc", "a*c", True),
        ("abc", "abd", False),
        ("a*b*c", "*bb*", True),
        ("ab", "a*b*c", False),
        ("*", "", True),
    ],
)
def test_overlap_says_whether_a_name_matches_both(first, second, expected):
    from consent.enforcement.registry import overlap

    assert overlap(first, second) is expected
    assert overlap(second, first) is expected


def test_finding_a_name_costs_the_same_in_a_large_registry():
    """Exact names in a dict and patterns in one compiled expression, whatever the size; the
    first pattern in the registry's order wins, as before."""
    from consent.enforcement.registry import KnownCookie, Registry

    def entry(name, party="first-party"):
        return KnownCookie(name, party, "iPortalis", "", "", "/", "")

    cookies = (
        *(entry(f"exact_{i}") for i in range(200)),
        *(entry(f"pattern_{i}_*") for i in range(100)),
        entry("late_*", "third-party"),
        entry("late_but_*", "necessary"),
    )
    registry = Registry((), cookies, {})

    assert registry.find("exact_150").name == "exact_150"
    assert registry.find("pattern_99_x").name == "pattern_99_*"
    assert registry.find("late_but_first").party == "third-party"
    assert registry.find("pattern_1") is None
