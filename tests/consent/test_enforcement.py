"""The middleware on its own (RequestFactory), under WSGI and ASGI alike: what leaves the server.

The consent middleware runs inside ours of django-csp's, as in the project's MIDDLEWARE, so that
the Content-Security-Policy header is the one a browser would get.
"""

import pytest
from asgiref.sync import async_to_sync
from cookie_consent.models import CookieGroup
from csp.decorators import csp_update
from django.http import HttpResponse, JsonResponse
from django.test import AsyncRequestFactory, RequestFactory
from django.urls import ResolverMatch

from consent.decorators import consent_exempt
from consent.enforcement.csp import ConsentCSPMiddleware
from consent.enforcement.middleware import ConsentMiddleware
from consent.models import RegisteredCookie
from tests.factories import make_consent_cookie

pytestmark = pytest.mark.django_db

YEAR = 365 * 24 * 3600
ALL = ("first-party", "third-party", "session", "persistent")


class Served:
    def __init__(self, response, seen):
        self.response = response
        self.seen = seen  # request.COOKIES as the view saw it

    @property
    def set_cookies(self) -> dict[str, str]:
        """Return the Set-Cookie lines the server would send, by cookie name."""
        lines = [m.OutputString() for m in self.response.cookies.values()]
        if "Set-Cookie" in self.response.headers:
            lines.append(self.response.headers["Set-Cookie"])
        return {line.partition("=")[0]: line for line in lines}

    def expired(self) -> set[str]:
        return {
            name
            for name, morsel in self.response.cookies.items()
            if str(morsel["max-age"]) == "0" and morsel.value == ""
        }


@pytest.fixture(params=["wsgi", "asgi"])
def serve(request):
    """Serve a request through the middleware alone; `respond(request)` plays the view."""

    def serve(respond, *, consented=None, cookies=None, exempt=False):
        cookies = dict(cookies or {})
        if consented is not None:
            cookies["iportalis_consent"] = make_consent_cookie(*consented)
        seen = {}

        if request.param == "wsgi":

            def view(req):
                seen.update(req.COOKIES)
                return respond(req)

            factory = RequestFactory()
            handler = ConsentCSPMiddleware(ConsentMiddleware(view))
        else:

            async def view(req):
                seen.update(req.COOKIES)
                return respond(req)

            factory = AsyncRequestFactory()
            handler = ConsentCSPMiddleware(ConsentMiddleware(view))
        for name, value in cookies.items():
            factory.cookies[name] = value
        req = factory.get("/page/")
        if exempt:
            req.resolver_match = ResolverMatch(consent_exempt(view), (), {})
        response = handler(req) if request.param == "wsgi" else async_to_sync(handler)(req)
        return Served(response, seen)

    return serve


def set_one_of_each(request):
    response = HttpResponse("page")
    response.set_cookie("sessionid", "s3ss10n", max_age=2 * 7 * 24 * 3600)
    response.set_cookie("_pk_id.1.ab12", "visitor", max_age=YEAR)
    response.set_cookie("_pk_ses.1.ab12", "visit")
    response.set_cookie("hubspotutk", "tracker", max_age=YEAR)
    response.set_cookie("never_registered", "x")
    return response


def test_a_first_visit_lets_only_necessary_cookies_out(serve):
    served = serve(set_one_of_each)

    assert set(served.set_cookies) == {"sessionid"}
    assert "Max-Age=1209600" in served.set_cookies["sessionid"]


def test_consent_to_everything_lets_every_cookie_out_unchanged(serve):
    served = serve(set_one_of_each, consented=ALL)

    # All but the name the registry does not know: nobody could consent to it.
    assert set(served.set_cookies) == {"sessionid", "_pk_id.1.ab12", "_pk_ses.1.ab12", "hubspotutk"}
    assert f"Max-Age={YEAR}" in served.set_cookies["hubspotutk"]


def test_a_setting_lets_unknown_names_out_as_first_party_cookies(serve, settings):
    settings.CONSENT_REFUSE_UNKNOWN_COOKIES = False

    assert "never_registered" in serve(set_one_of_each, consented=ALL).set_cookies
    first_party = serve(set_one_of_each, consented=("first-party", "session"))
    assert "never_registered" in first_party.set_cookies
    assert "never_registered" not in serve(set_one_of_each).set_cookies


def test_party_and_lifetime_must_both_be_consented(serve):
    served = serve(set_one_of_each, consented=("third-party", "persistent"))

    # Third-party persistent is in; first-party (and unknown names) are out, in either lifetime.
    assert set(served.set_cookies) == {"sessionid", "hubspotutk"}


def test_a_persistent_cookie_becomes_a_session_cookie_when_only_session_is_consented(serve):
    served = serve(set_one_of_each, consented=("first-party", "session"))

    line = served.set_cookies["_pk_id.1.ab12"]
    assert line.startswith("_pk_id.1.ab12=visitor;")
    assert "Max-Age" not in line and "expires" not in line.lower()
    assert served.set_cookies["_pk_ses.1.ab12"].startswith("_pk_ses.1.ab12=visit")
    assert "hubspotutk" not in served.set_cookies


def test_a_setting_drops_such_cookies_instead(serve, settings):
    settings.CONSENT_DOWNGRADE_PERSISTENT = False

    served = serve(set_one_of_each, consented=("first-party", "session"))

    assert set(served.set_cookies) == {"sessionid", "_pk_ses.1.ab12"}


@pytest.mark.parametrize(
    ("expires", "kept"),
    [
        ("Wed, 21 Oct 2099 07:28:00 GMT", False),  # in the future: persistent
        ("garbled date", False),  # unreadable: treated as persistent
        ("", True),  # no expiry: a session cookie
    ],
)
def test_the_lifetime_comes_from_the_cookies_own_expires(serve, settings, expires, kept):
    settings.CONSENT_DOWNGRADE_PERSISTENT = False

    def respond(request):
        response = HttpResponse()
        response.cookies["_pk_ses.1.ab12"] = "visit"
        response.cookies["_pk_ses.1.ab12"]["expires"] = expires
        return response

    served = serve(respond, consented=("first-party", "session", "third-party"))
    assert ("_pk_ses.1.ab12" in served.set_cookies) is kept


def test_cookies_written_straight_into_response_cookies_are_held_to_the_same_rule(serve):
    def respond(request):
        response = HttpResponse()
        response.cookies["__hstc"] = "tracker"
        response.cookies["csrftoken"] = "token"
        return response

    assert set(serve(respond).set_cookies) == {"csrftoken"}


@pytest.mark.parametrize(
    ("consented", "header", "expected"),
    [
        ((), f"hubspotutk=abc; Max-Age={YEAR}; Path=/", None),
        (ALL, f"hubspotutk=abc; Max-Age={YEAR}; Path=/", f"hubspotutk=abc; Max-Age={YEAR}; Path=/"),
        (
            ("third-party", "session"),
            f"hubspotutk=abc; Path=/; Max-Age={YEAR}; SameSite=Lax; Partitioned",
            "hubspotutk=abc; Path=/; SameSite=Lax; Partitioned",
        ),
        (
            (),
            "csrftoken=t0ken; Path=/; Partitioned; Secure",
            "csrftoken=t0ken; Path=/; Partitioned; Secure",
        ),
        ((), "__hssrc=1; Max-Age=0; Path=/", "__hssrc=1; Max-Age=0; Path=/"),  # deletion
        (ALL, "not a cookie at all", None),
    ],
)
def test_a_raw_set_cookie_header_written_by_a_view(serve, consented, header, expected):
    def respond(request):
        response = HttpResponse()
        response["Set-Cookie"] = header
        return response

    served = serve(respond, consented=consented)

    assert served.response.headers.get("Set-Cookie") == expected


def test_deleting_a_cookie_is_always_allowed(serve):
    def respond(request):
        response = HttpResponse()
        response.delete_cookie("hubspotutk")
        return response

    assert "hubspotutk" in serve(respond).expired()


def test_refused_cookies_are_hidden_from_the_view(serve):
    sent = {"csrftoken": "t", "_pk_id.1.ab12": "v", "hubspotutk": "h", "mystery": "m"}

    nothing = serve(lambda r: HttpResponse(), cookies=sent)
    first_party = serve(
        lambda r: HttpResponse(), cookies=sent, consented=("first-party", "session")
    )

    assert set(nothing.seen) == {"csrftoken"}
    assert set(first_party.seen) == {"csrftoken", "iportalis_consent", "_pk_id.1.ab12"}


def test_an_unknown_cookie_is_hidden_and_expired_whatever_was_consented(serve, settings):
    sent = {"csrftoken": "t", "mystery": "m"}

    everything = serve(lambda r: HttpResponse(), cookies=sent, consented=ALL)

    assert set(everything.seen) == {"csrftoken", "iportalis_consent"}
    assert everything.expired() == {"mystery"}

    settings.CONSENT_REFUSE_UNKNOWN_COOKIES = False
    restored = serve(lambda r: HttpResponse(), cookies=sent, consented=("first-party", "session"))
    assert "mystery" in restored.seen
    assert restored.expired() == set()


def test_refused_cookies_the_browser_sent_are_expired_in_the_same_response(serve):
    sent = {"csrftoken": "t", "_pk_id.1.ab12": "v", "hubspotutk": "h", "mystery": "m"}

    served = serve(lambda r: HttpResponse(), cookies=sent, consented=("first-party", "session"))

    assert served.expired() == {"hubspotutk", "mystery"}
    assert served.set_cookies["hubspotutk"].endswith("Path=/")


def test_expiry_uses_the_registrys_path_and_domain(serve):
    RegisteredCookie.objects.create(
        name="shop_visit_*",
        cookiegroup=CookieGroup.objects.get(varname="first-party"),
        path="/shop",
        domain=".iportalis.example",
        duration="1 day",
    )

    served = serve(lambda r: HttpResponse(), cookies={"shop_visit_42": "1"})

    line = served.set_cookies["shop_visit_42"]
    assert "Domain=.iportalis.example" in line and "Path=/shop" in line and "Max-Age=0" in line


def test_an_exempt_view_may_set_necessary_cookies_only(serve):
    sent = {"hubspotutk": "h"}

    served = serve(set_one_of_each, consented=ALL, cookies=sent, exempt=True)

    assert set(served.set_cookies) == {"sessionid"}
    assert "Vary" not in served.response.headers
    assert served.expired() == set()


def test_every_page_varies_on_cookie(serve):
    assert "Cookie" in serve(lambda r: HttpResponse()).response.headers["Vary"]


def policy(served):
    """Return the Content-Security-Policy header as {directive: [sources]}."""
    header = served.response.headers["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in header.split("; ")}


def test_consented_third_party_hosts_enter_the_policy(serve):
    served = serve(lambda r: HttpResponse(), consented=("third-party", "session"))

    assert "js.hs-scripts.com" in policy(served)["default-src"]
    assert policy(served)["object-src"] == ["'none'"]


def test_without_third_party_consent_no_other_host_enters_the_policy(serve):
    served = serve(lambda r: HttpResponse(), consented=("first-party", "session"))

    assert policy(served)["default-src"] == ["'self'"]


def test_consented_hosts_join_what_a_views_own_csp_update_asked_for(serve):
    @csp_update({"img-src": ["img.example"], "default-src": ["cdn.example"]})
    def respond(request):
        return HttpResponse()

    directives = policy(serve(respond, consented=("third-party", "session")))

    assert directives["img-src"] == ["img.example"]
    assert directives["default-src"][:2] == ["'self'", "cdn.example"]
    assert "js.hs-scripts.com" in directives["default-src"]


def test_a_response_that_is_not_a_document_gets_no_consented_hosts(serve):
    served = serve(lambda r: JsonResponse({}), consented=("third-party", "session"))

    assert policy(served)["default-src"] == ["'self'"]


def test_without_consented_hosts_a_views_csp_update_is_left_alone(serve):
    @csp_update({"img-src": ["img.example"]})
    def respond(request):
        return HttpResponse()

    directives = policy(serve(respond))

    assert directives["img-src"] == ["img.example"]
    assert directives["default-src"] == ["'self'"]


def test_a_report_only_policy_lets_in_the_consented_hosts_too(serve, settings):
    assert "Content-Security-Policy-Report-Only" not in serve(lambda r: HttpResponse()).response

    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {
        "DIRECTIVES": {"default-src": ["'self'"], "script-src": ["'self'"]}
    }
    served = serve(lambda r: HttpResponse(), consented=("third-party", "session"))

    header = served.response.headers["Content-Security-Policy-Report-Only"]
    directives = {d.split()[0]: d.split()[1:] for d in header.split("; ")}
    assert "js.hs-scripts.com" in directives["default-src"]
    assert "js.hs-scripts.com" in directives["script-src"]
    assert "js.hs-scripts.com" in policy(served)["default-src"]


def test_an_exempt_view_gets_the_strict_policy(serve):
    served = serve(lambda r: HttpResponse(), consented=ALL, exempt=True)

    assert policy(served)["default-src"] == ["'self'"]


def allowed_names(**choices):
    from consent.enforcement.registry import get_registry
    from consent.enforcement.rules import allowance

    result = allowance(choices, get_registry(), downgrade=True)
    return result.missing, {(a.cookie.name, a.lives, a.downgraded) for a in result.cookies}


def test_a_party_alone_allows_nothing_and_says_a_lifetime_is_missing():
    assert allowed_names(**{"first-party": True}) == ("lifetime", set())
    assert allowed_names(session=True, persistent=True) == ("party", set())


def test_the_words_follow_the_rules_the_middleware_applies():
    missing, allowed = allowed_names(**{"third-party": True, "session": True})

    assert missing is None
    assert ("__hssrc", "session", False) in allowed  # declared a session cookie
    assert ("hubspotutk", "session", True) in allowed  # persistent, downgraded
    assert not any(name.startswith("_pk_") for name, _, _ in allowed)

    _, persistent_only = allowed_names(**{"third-party": True, "persistent": True})
    assert ("hubspotutk", "persistent", False) in persistent_only
    assert not any(name == "__hssrc" for name, _, _ in persistent_only)


def test_a_cookie_header_new_on_every_page_reads_the_consent_cookie_once(serve, monkeypatch):
    """HubSpot's __hssc counts the pages of a visit, so the whole Cookie header is new on every
    page: the consent cookie's meaning is still worked out once, not once per page, and each
    page still hides and expires what it must."""
    from consent.capture import state

    readings = []
    state_for = state.state_for
    monkeypatch.setattr(state, "state_for", lambda *args: readings.append(args) or state_for(*args))
    consent = make_consent_cookie("first-party", "session")

    for page in range(1, 6):
        sent = {
            "iportalis_consent": consent,
            "__hssc": f"1.{page}.1764064800000",
            "_pk_ses.1.a": "1",
        }
        served = serve(lambda r: HttpResponse(), cookies=sent)
        assert set(served.seen) == {"iportalis_consent", "_pk_ses.1.a"}
        assert served.expired() == {"__hssc"}

    assert len(readings) == 1
