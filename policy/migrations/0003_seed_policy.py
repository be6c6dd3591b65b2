"""Publish iPortalis's cookie policy of 25 July 2022 as version 1, so a fresh install shows it.

The version is frozen here, not rendered: its HTML (the registry's seed table of cookies included)
and SHA-256 are the bytes this migration produced when it still rendered through the live
registry, templates and settings, so that every install publishes the same version 1 whatever
code it runs. Only the historical model is used.
"""

import datetime
import hashlib

from django.db import migrations
from django.utils import timezone

# The seed's Markdown (policy/seed/cookie-policy-2022-07-25.md), as version 1 was written.
BODY = (
    "iPortalis uses cookies on their service. By using the service you consent to the use of cookies.\n"
    "\n"
    "Our cookies policy explains what cookies are, how third parties we may partner with use cookies on the service, your choices regarding cookies and further information about cookies.\n"
    "\n"
    "This cookie policy applies to\n"
    "\n"
    "This policy was last updated on 25th July 2022.\n"
    "\n"
    "## What is a Cookie?\n"
    "\n"
    "A cookie is a small piece of data that is stored on your computer or mobile device. Like many websites, iPortalis uses cookies to collect additional website usage data and to operate our services.\n"
    "\n"
    "Cookies serve useful and sometimes essential functions on the web. They enable web servers to store information on the user’s device or to track the user's browsing activity (including clicking particular buttons, logging in, or recording which pages were visited in the past). They can also be used to save for subsequent use information that the user previously entered into form fields.\n"
    "\n"
    "## What Type of Cookies do we use?\n"
    "\n"
    "### Strictly Necessary cookies\n"
    "\n"
    "These are cookies which are needed for our websites, applications or services to function properly, for example, these cookies allow you to access secure areas of our website.\n"
    "\n"
    "### First Party Cookies\n"
    "\n"
    "First-party cookies are set by the website visited by the user. The data collected using first-party cookies is used for purposes like calculating pageviews, sessions, and number of users.\n"
    "\n"
    "### Third Party Cookies\n"
    "\n"
    "Third-party cookies are set by domains that are not directly visited by the user. This happens when we add third-party elements (like chatbot, and social plugins) on our website.\n"
    "\n"
    "### Session Cookies\n"
    "\n"
    "Session cookies either expire immediately or within a few seconds of the user leaving the web browser.\n"
    "\n"
    "### Persistent Cookies\n"
    "\n"
    "Persistent cookies stay on your browser for a very long time. Persistent cookies are used by us to track a single user and his/her interaction with our website.\n"
    "\n"
    "## How iPortalis Uses Cookies\n"
    "\n"
    "When you use and access the service we may place a number of cookies files in your web browser.\n"
    "\n"
    "We use cookies to better understand how you interact with our services, to monitor usages patterns, provide analytics and to personalise and otherwise operate our services such as providing account security, personalising content and remembering your language preferences.\n"
    "\n"
    "## How we collect information\n"
    "\n"
    "To the extent permissible under applicable law, we collect information about you and any other party whose details you provide to us when you:\n"
    "\n"
    "- register to use our websites, applications or services (including webinars, free trials and demos); this may include your name (including business name), address, email address and telephone number. We may also ask you to provide additional information about your business and your preferences;\n"
    "- place an order using our websites, applications or services; this may include your name (including business name), address, contact (including telephone number and email address) and payment details;\n"
    "- use our applications, which may include the collection of metadata;\n"
    "- complete online forms (including call back requests), take part in surveys, post on our message boards, post any blogs, enter any competitions or prize draws, download information such as white papers or other publications or participate in any other interactive areas that appear on our website or within our application or service;\n"
    "- interact with us using social media;\n"
    "- interact with us through our chatbots;\n"
    "- provide your contact details to us when registering to use or accessing any websites, applications or services we make available or when you update those details; and\n"
    "- contact us offline, for example by telephone, fax, SMS, email or post.\n"
    "\n"
    "We will also collect your information where you only partially complete and/or abandon any information inputted into our website and/or other online forms and may use this information to contact you to remind you to complete any outstanding information and/or for marketing purposes.\n"
    "\n"
    "We also collect information from your devices (including mobile devices) and applications you or your users use to access and use any of our websites, applications or services (for example, we may collect the device identification number and type, location information and connection information such as statistics on your page views, traffic to and from the sites, referral URL, ad data, your IP address, your browsing history and your web log information). We may do this using cookies or similar technologies.\n"
    "\n"
    "We may enhance personal information we collect from you with information we obtain from third parties that are entitled to share that information; for example, information from credit agencies, search information providers or public sources (e.g. for customer due diligence purposes), but in each case as permitted by applicable laws.\n"
    "\n"
    "## Providing us with Information About Others\n"
    "\n"
    "If you provide us with personal information about someone else, you are responsible for ensuring that you comply with any obligation and consent obligations under applicable data protection laws in relation to such disclosure. In so far as required by applicable data protection laws, you must ensure that you have provided the required notices and have obtained the individual’s explicit consent or otherwise have a legal basis to provide us with the information and that you explain to them how we collect, use, disclose and retain their personal information or direct them to read our Privacy Notice.\n"
    "\n"
    "## Controlling your cookies\n"
    "\n"
    "You can opt out of cookies anytime, with the exception of strictly necessary cookies to help make our service work.\n"
    "\n"
    "Go to your browser cookies settings (each browser may have different steps), and you can manage your privacy and cookies settings on each device that you use.\n"
    "\n"
    "## More about the individual cookies we use\n"
    "\n"
    "The cookies and analytical tools we use on are:\n"
    "\n"
    "[[cookie-table]]\n"
    "\n"
    "### Website and Marketing\n"
    "\n"
    "### Technical Support portal and Knowledge base\n"
    "\n"
    "### Third Party cookie\n"
    "\n"
    "HubSpot and our partners use cookies or similar technologies (such as web beacons and JavaScript) to analyze trends, administer the website, track users’ movements around the website, and to gather demographic information about our user base as a whole.\n"
    "\n"
    "## Changes to this cookie policy\n"
    "\n"
    "We may change this cookie policy from time to time. However we will not reduce your rights under this cookie policy. We will always update this cookie policy on our website, so please try to read it when you visit the website (the ‘last updated’ reference tells you when we last updated this cookie policy).\n"
    "\n"
    "## Further Information\n"
    "\n"
    "For more information about cookies and instructions on how to adjust your browser settings to accept, delete or reject cookies, see the website.\n"
)

RENDERED_HTML = (
    "<p>iPortalis uses cookies on their service. By using the service you consent to the use of cookies.</p>\n"
    "<p>Our cookies policy explains what cookies are, how third parties we may partner with use cookies on the service, your choices regarding cookies and further information about cookies.</p>\n"
    "<p>This cookie policy applies to</p>\n"
    "<p>This policy was last updated on 25th July 2022.</p>\n"
    '<h2 id="what-is-a-cookie">What is a Cookie?</h2>\n'
    "<p>A cookie is a small piece of data that is stored on your computer or mobile device. Like many websites, iPortalis uses cookies to collect additional website usage data and to operate our services.</p>\n"
    "<p>Cookies serve useful and sometimes essential functions on the web. They enable web servers to store information on the user’s device or to track the user's browsing activity (including clicking particular buttons, logging in, or recording which pages were visited in the past). They can also be used to save for subsequent use information that the user previously entered into form fields.</p>\n"
    '<h2 id="what-type-of-cookies-do-we-use">What Type of Cookies do we use?</h2>\n'
    '<h3 id="strictly-necessary-cookies">Strictly Necessary cookies</h3>\n'
    "<p>These are cookies which are needed for our websites, applications or services to function properly, for example, these cookies allow you to access secure areas of our website.</p>\n"
    '<h3 id="first-party-cookies">First Party Cookies</h3>\n'
    "<p>First-party cookies are set by the website visited by the user. The data collected using first-party cookies is used for purposes like calculating pageviews, sessions, and number of users.</p>\n"
    '<h3 id="third-party-cookies">Third Party Cookies</h3>\n'
    "<p>Third-party cookies are set by domains that are not directly visited by the user. This happens when we add third-party elements (like chatbot, and social plugins) on our website.</p>\n"
    '<h3 id="session-cookies">Session Cookies</h3>\n'
    "<p>Session cookies either expire immediately or within a few seconds of the user leaving the web browser.</p>\n"
    '<h3 id="persistent-cookies">Persistent Cookies</h3>\n'
    "<p>Persistent cookies stay on your browser for a very long time. Persistent cookies are used by us to track a single user and his/her interaction with our website.</p>\n"
    '<h2 id="how-iportalis-uses-cookies">How iPortalis Uses Cookies</h2>\n'
    "<p>When you use and access the service we may place a number of cookies files in your web browser.</p>\n"
    "<p>We use cookies to better understand how you interact with our services, to monitor usages patterns, provide analytics and to personalise and otherwise operate our services such as providing account security, personalising content and remembering your language preferences.</p>\n"
    '<h2 id="how-we-collect-information">How we collect information</h2>\n'
    "<p>To the extent permissible under applicable law, we collect information about you and any other party whose details you provide to us when you:</p>\n"
    "<ul>\n"
    "<li>register to use our websites, applications or services (including webinars, free trials and demos); this may include your name (including business name), address, email address and telephone number. We may also ask you to provide additional information about your business and your preferences;</li>\n"
    "<li>place an order using our websites, applications or services; this may include your name (including business name), address, contact (including telephone number and email address) and payment details;</li>\n"
    "<li>use our applications, which may include the collection of metadata;</li>\n"
    "<li>complete online forms (including call back requests), take part in surveys, post on our message boards, post any blogs, enter any competitions or prize draws, download information such as white papers or other publications or participate in any other interactive areas that appear on our website or within our application or service;</li>\n"
    "<li>interact with us using social media;</li>\n"
    "<li>interact with us through our chatbots;</li>\n"
    "<li>provide your contact details to us when registering to use or accessing any websites, applications or services we make available or when you update those details; and</li>\n"
    "<li>contact us offline, for example by telephone, fax, SMS, email or post.</li>\n"
    "</ul>\n"
    "<p>We will also collect your information where you only partially complete and/or abandon any information inputted into our website and/or other online forms and may use this information to contact you to remind you to complete any outstanding information and/or for marketing purposes.</p>\n"
    "<p>We also collect information from your devices (including mobile devices) and applications you or your users use to access and use any of our websites, applications or services (for example, we may collect the device identification number and type, location information and connection information such as statistics on your page views, traffic to and from the sites, referral URL, ad data, your IP address, your browsing history and your web log information). We may do this using cookies or similar technologies.</p>\n"
    "<p>We may enhance personal information we collect from you with information we obtain from third parties that are entitled to share that information; for example, information from credit agencies, search information providers or public sources (e.g. for customer due diligence purposes), but in each case as permitted by applicable laws.</p>\n"
    '<h2 id="providing-us-with-information-about-others">Providing us with Information About Others</h2>\n'
    "<p>If you provide us with personal information about someone else, you are responsible for ensuring that you comply with any obligation and consent obligations under applicable data protection laws in relation to such disclosure. In so far as required by applicable data protection laws, you must ensure that you have provided the required notices and have obtained the individual’s explicit consent or otherwise have a legal basis to provide us with the information and that you explain to them how we collect, use, disclose and retain their personal information or direct them to read our Privacy Notice.</p>\n"
    '<h2 id="controlling-your-cookies">Controlling your cookies</h2>\n'
    "<p>You can opt out of cookies anytime, with the exception of strictly necessary cookies to help make our service work.</p>\n"
    "<p>Go to your browser cookies settings (each browser may have different steps), and you can manage your privacy and cookies settings on each device that you use.</p>\n"
    '<h2 id="more-about-the-individual-cookies-we-use">More about the individual cookies we use</h2>\n'
    "<p>The cookies and analytical tools we use on are:</p>\n"
    '<div class="table-scroll" id="cookies-in-use">\n'
    '<table class="cookie-table">\n'
    '<thead><tr><th scope="col">Cookie</th><th scope="col">Provider</th><th scope="col">Category</th><th scope="col">Purpose</th><th scope="col">Duration</th></tr></thead>\n'
    "<tbody>\n"
    "<tr><td><code>csrftoken</code></td><td>iPortalis</td><td>necessary</td><td>Protects forms against cross-site request forgery.</td><td>1 year</td></tr>\n"
    "<tr><td><code>iportalis_consent</code></td><td>iPortalis</td><td>necessary</td><td>Remembers your cookie choices and your consent ID.</td><td>12 months</td></tr>\n"
    "<tr><td><code>sessionid</code></td><td>iPortalis</td><td>necessary</td><td>Keeps signed-in staff signed in to secure areas of the site.</td><td>2 weeks</td></tr>\n"
    "<tr><td><code>_pk_id.*</code></td><td>iPortalis</td><td>first-party</td><td>Recognises a returning browser to count unique visitors.</td><td>13 months</td></tr>\n"
    "<tr><td><code>_pk_ses.*</code></td><td>iPortalis</td><td>first-party</td><td>Groups the pages you view into one visit.</td><td>30 minutes</td></tr>\n"
    "<tr><td><code>django_language</code></td><td>iPortalis</td><td>first-party</td><td>Remembers the language you chose.</td><td>1 year</td></tr>\n"
    "<tr><td><code>__hs_*</code></td><td>HubSpot, Inc.</td><td>third-party</td><td>HubSpot&#x27;s other preference and opt-out cookies.</td><td>Up to 13 months</td></tr>\n"
    "<tr><td><code>__hssc</code></td><td>HubSpot, Inc.</td><td>third-party</td><td>Counts the pages viewed in one visit.</td><td>30 minutes</td></tr>\n"
    "<tr><td><code>__hssrc</code></td><td>HubSpot, Inc.</td><td>third-party</td><td>Notices when the browser has been restarted.</td><td>Session</td></tr>\n"
    "<tr><td><code>__hstc</code></td><td>HubSpot, Inc.</td><td>third-party</td><td>Tracks visitors: domain, first and last visit, number of visits.</td><td>13 months</td></tr>\n"
    "<tr><td><code>hubspotutk</code></td><td>HubSpot, Inc.</td><td>third-party</td><td>Identifies a visitor to HubSpot across visits.</td><td>13 months</td></tr>\n"
    "<tr><td><code>intercom-device-id-*</code></td><td>Intercom, Inc.</td><td>third-party</td><td>Recognises the device you chat from.</td><td>9 months</td></tr>\n"
    "<tr><td><code>intercom-id-*</code></td><td>Intercom, Inc.</td><td>third-party</td><td>Recognises you so the chat can show earlier conversations.</td><td>9 months</td></tr>\n"
    "<tr><td><code>intercom-session-*</code></td><td>Intercom, Inc.</td><td>third-party</td><td>Keeps the chat open while you move between pages.</td><td>1 week</td></tr>\n"
    "</tbody>\n"
    "</table>\n"
    "</div>\n"
    '<h3 id="website-and-marketing">Website and Marketing</h3>\n'
    '<h3 id="technical-support-portal-and-knowledge-base">Technical Support portal and Knowledge base</h3>\n'
    '<h3 id="third-party-cookie">Third Party cookie</h3>\n'
    "<p>HubSpot and our partners use cookies or similar technologies (such as web beacons and JavaScript) to analyze trends, administer the website, track users’ movements around the website, and to gather demographic information about our user base as a whole.</p>\n"
    '<h2 id="changes-to-this-cookie-policy">Changes to this cookie policy</h2>\n'
    "<p>We may change this cookie policy from time to time. However we will not reduce your rights under this cookie policy. We will always update this cookie policy on our website, so please try to read it when you visit the website (the ‘last updated’ reference tells you when we last updated this cookie policy).</p>\n"
    '<h2 id="further-information">Further Information</h2>\n'
    "<p>For more information about cookies and instructions on how to adjust your browser settings to accept, delete or reject cookies, see the website.</p>"
)

CONTENT_SHA256 = "14644bed4260836f8e107321347cf80041d71d910499995b762ebf1d5be40b1e"

VERSION = {
    "language": "en",
    "number": 1,
    "title": "Cookie Policy",
    "summary": "The cookie policy as in force since 25 July 2022.",
    "effective_date": datetime.date(2022, 7, 25),
    "material": True,
}


def publish(policy_version_model):
    """Publish the version unless it exists (the model may be historical)."""
    if policy_version_model.objects.filter(language="en", number=1).exists():
        return
    if hashlib.sha256(RENDERED_HTML.encode()).hexdigest() != CONTENT_SHA256:
        raise ValueError("The frozen HTML does not match its SHA-256.")
    policy_version_model.objects.create(
        **VERSION,
        body=BODY,
        status="published",
        published_at=timezone.now(),
        rendered_html=RENDERED_HTML,
        content_sha256=CONTENT_SHA256,
    )


def forwards(apps, schema_editor):
    publish(apps.get_model("policy", "PolicyVersion"))


class Migration(migrations.Migration):
    dependencies = [("policy", "0002_freeze_published_versions")]

    # Going back leaves the row: a published version may not be deleted, not even by a migration.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
