import pytest
from cookie_consent.models import CookieGroup

from consent.categories import CATEGORIES
from consent.models import RegisteredCookie, Service
from consent.registry import get_registry
from policy.models import PolicyVersion

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
