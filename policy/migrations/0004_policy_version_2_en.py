"""Publish version 2 of the cookie policy in English: the editorial revision of the seed.

Frozen like version 1: the Markdown, the HTML it rendered to on 1 December 2026 (the seed
registry's table of cookies included) and its SHA-256 are shipped here verbatim, and only the
historical model is used, so every install publishes the same bytes whatever code it runs.
"""

import datetime
import hashlib

from django.db import migrations
from django.utils import timezone

# Version 2's Markdown, as an admin would have typed it.
BODY = (
    "iPortalis uses cookies on its website. Apart from the strictly necessary cookies listed below, we set a cookie only after you have consented to it, and using the site is never taken as consent. You give, refuse or change your consent in the cookie banner or at any time on the [cookie settings](/cookie-settings/) page.\n"
    "\n"
    "This cookie policy explains what cookies are, which cookies we and the third parties we work with use, the choices you have and where to find further information about cookies.\n"
    "\n"
    "This cookie policy applies to the iPortalis website and to the services we provide through it.\n"
    "\n"
    "This policy was last updated on 1 December 2026.\n"
    "\n"
    "## What is a Cookie?\n"
    "\n"
    "A cookie is a small piece of data that is stored on your computer or mobile device. Like many websites, iPortalis uses cookies to operate our services and, if you consent, to collect additional website usage data.\n"
    "\n"
    "Cookies serve useful and sometimes essential functions on the web. They enable web servers to store information on the user’s device or to track the user's browsing activity (including clicking particular buttons, logging in, or recording which pages were visited in the past). They can also be used to save for subsequent use information that the user previously entered into form fields.\n"
    "\n"
    "## What Type of Cookies do we use?\n"
    "\n"
    'Every cookie we use has a party (who sets it: strictly necessary, first-party or third-party) and a lifetime (session or persistent). You consent to parties and lifetimes separately, and a cookie that is not strictly necessary is set only when you have consented to **both** its party and its lifetime. For example, choosing "First-party" alone allows no cookie yet: also choose "Session", "Persistent" or both.\n'
    "\n"
    "### Strictly Necessary cookies\n"
    "\n"
    "These are cookies which are needed for our websites, applications or services to function properly, for example, these cookies allow you to access secure areas of our website and remember your cookie choices. They are always on and need no consent.\n"
    "\n"
    "### First Party Cookies\n"
    "\n"
    "First-party cookies are set by our own website. We use them, with your consent, for purposes like calculating pageviews, sessions and number of users, and to remember your preferences such as your language.\n"
    "\n"
    "### Third Party Cookies\n"
    "\n"
    "Third-party cookies are set by other domains through elements we embed in our website (like the chatbot and marketing analytics). With your consent, the services that set them are loaded; without it, they are not loaded at all.\n"
    "\n"
    "### Session Cookies\n"
    "\n"
    "Session cookies end when you close your browser.\n"
    "\n"
    "### Persistent Cookies\n"
    "\n"
    "Persistent cookies stay on your browser until the expiry date listed for each cookie below, unless you delete them or withdraw your consent. We use them to recognise a returning browser. If you consent to a party and to session cookies but not to persistent ones, that party's persistent cookies are kept only as session cookies.\n"
    "\n"
    "A cookie that is missing from the table below has not been described to you, so we refuse it whatever you chose, until we have classified it and listed it here.\n"
    "\n"
    "## How iPortalis Uses Cookies\n"
    "\n"
    "When you use and access the service we place the strictly necessary cookies in your web browser, and the other cookies listed below only as far as you consent to them.\n"
    "\n"
    "With your consent, we use cookies to better understand how you interact with our services, to monitor usage patterns, provide analytics and to personalise and otherwise operate our services such as personalising content and remembering your language preferences. Strictly necessary cookies provide account security and remember your cookie choices.\n"
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
    "We also collect information from your devices (including mobile devices) and applications you or your users use to access and use any of our websites, applications or services (for example, we may collect the device identification number and type, location information and connection information such as statistics on your page views, traffic to and from the sites, referral URL, ad data, your IP address, your browsing history and your web log information). Where we do this using cookies or similar technologies, we do so only as far as you consent to them.\n"
    "\n"
    "We may enhance personal information we collect from you with information we obtain from third parties that are entitled to share that information; for example, information from credit agencies, search information providers or public sources (e.g. for customer due diligence purposes), but in each case as permitted by applicable laws.\n"
    "\n"
    "## Providing us with Information About Others\n"
    "\n"
    "If you provide us with personal information about someone else, you are responsible for ensuring that you comply with any obligation and consent obligations under applicable data protection laws in relation to such disclosure. In so far as required by applicable data protection laws, you must ensure that you have provided the required notices and have obtained the individual’s explicit consent or otherwise have a legal basis to provide us with the information and that you explain to them how we collect, use, disclose and retain their personal information or direct them to read our Privacy Notice.\n"
    "\n"
    "## Controlling your cookies\n"
    "\n"
    "You can accept, refuse or withdraw your consent to each category of cookies at any time on the [cookie settings](/cookie-settings/) page, with the exception of strictly necessary cookies, which make our service work. Withdrawing takes no more clicks than accepting, and the cookies you refuse are deleted straight away.\n"
    "\n"
    "You can also delete cookies or block them in your browser's settings (each browser has its own steps), on each device that you use.\n"
    "\n"
    "## More about the individual cookies we use\n"
    "\n"
    "These are the cookies we use on this website. The same list decides which cookies your choices allow, so it always shows what the site does:\n"
    "\n"
    "[[cookie-table]]\n"
    "\n"
    "### Third Party cookies\n"
    "\n"
    "HubSpot and our partners use cookies or similar technologies (such as web beacons and JavaScript) to analyze trends, administer the website, track users’ movements around the website, and to gather demographic information about our user base as a whole. Intercom's cookies let our support chat recognise you and keep a conversation open. These services are loaded only if you consent to third-party cookies.\n"
    "\n"
    "## Changes to this cookie policy\n"
    "\n"
    "We may change this cookie policy from time to time. However we will not reduce your rights under this cookie policy. Every version stays published with a page showing what changed, and when a change affects what you consented to we ask for your consent again.\n"
    "\n"
    "## Further Information\n"
    "\n"
    "For more information about cookies and instructions on how to adjust your browser settings to accept, delete or reject cookies, see the UK Information Commissioner's Office page [Cookies](https://ico.org.uk/for-the-public/online/cookies/).\n"
)

RENDERED_HTML = (
    '<p>iPortalis uses cookies on its website. Apart from the strictly necessary cookies listed below, we set a cookie only after you have consented to it, and using the site is never taken as consent. You give, refuse or change your consent in the cookie banner or at any time on the <a href="/cookie-settings/" rel="noopener noreferrer">cookie settings</a> page.</p>\n'
    "<p>This cookie policy explains what cookies are, which cookies we and the third parties we work with use, the choices you have and where to find further information about cookies.</p>\n"
    "<p>This cookie policy applies to the iPortalis website and to the services we provide through it.</p>\n"
    "<p>This policy was last updated on 1 December 2026.</p>\n"
    '<h2 id="what-is-a-cookie">What is a Cookie?</h2>\n'
    "<p>A cookie is a small piece of data that is stored on your computer or mobile device. Like many websites, iPortalis uses cookies to operate our services and, if you consent, to collect additional website usage data.</p>\n"
    "<p>Cookies serve useful and sometimes essential functions on the web. They enable web servers to store information on the user’s device or to track the user's browsing activity (including clicking particular buttons, logging in, or recording which pages were visited in the past). They can also be used to save for subsequent use information that the user previously entered into form fields.</p>\n"
    '<h2 id="what-type-of-cookies-do-we-use">What Type of Cookies do we use?</h2>\n'
    '<p>Every cookie we use has a party (who sets it: strictly necessary, first-party or third-party) and a lifetime (session or persistent). You consent to parties and lifetimes separately, and a cookie that is not strictly necessary is set only when you have consented to <strong>both</strong> its party and its lifetime. For example, choosing "First-party" alone allows no cookie yet: also choose "Session", "Persistent" or both.</p>\n'
    '<h3 id="strictly-necessary-cookies">Strictly Necessary cookies</h3>\n'
    "<p>These are cookies which are needed for our websites, applications or services to function properly, for example, these cookies allow you to access secure areas of our website and remember your cookie choices. They are always on and need no consent.</p>\n"
    '<h3 id="first-party-cookies">First Party Cookies</h3>\n'
    "<p>First-party cookies are set by our own website. We use them, with your consent, for purposes like calculating pageviews, sessions and number of users, and to remember your preferences such as your language.</p>\n"
    '<h3 id="third-party-cookies">Third Party Cookies</h3>\n'
    "<p>Third-party cookies are set by other domains through elements we embed in our website (like the chatbot and marketing analytics). With your consent, the services that set them are loaded; without it, they are not loaded at all.</p>\n"
    '<h3 id="session-cookies">Session Cookies</h3>\n'
    "<p>Session cookies end when you close your browser.</p>\n"
    '<h3 id="persistent-cookies">Persistent Cookies</h3>\n'
    "<p>Persistent cookies stay on your browser until the expiry date listed for each cookie below, unless you delete them or withdraw your consent. We use them to recognise a returning browser. If you consent to a party and to session cookies but not to persistent ones, that party's persistent cookies are kept only as session cookies.</p>\n"
    "<p>A cookie that is missing from the table below has not been described to you, so we refuse it whatever you chose, until we have classified it and listed it here.</p>\n"
    '<h2 id="how-iportalis-uses-cookies">How iPortalis Uses Cookies</h2>\n'
    "<p>When you use and access the service we place the strictly necessary cookies in your web browser, and the other cookies listed below only as far as you consent to them.</p>\n"
    "<p>With your consent, we use cookies to better understand how you interact with our services, to monitor usage patterns, provide analytics and to personalise and otherwise operate our services such as personalising content and remembering your language preferences. Strictly necessary cookies provide account security and remember your cookie choices.</p>\n"
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
    "<p>We also collect information from your devices (including mobile devices) and applications you or your users use to access and use any of our websites, applications or services (for example, we may collect the device identification number and type, location information and connection information such as statistics on your page views, traffic to and from the sites, referral URL, ad data, your IP address, your browsing history and your web log information). Where we do this using cookies or similar technologies, we do so only as far as you consent to them.</p>\n"
    "<p>We may enhance personal information we collect from you with information we obtain from third parties that are entitled to share that information; for example, information from credit agencies, search information providers or public sources (e.g. for customer due diligence purposes), but in each case as permitted by applicable laws.</p>\n"
    '<h2 id="providing-us-with-information-about-others">Providing us with Information About Others</h2>\n'
    "<p>If you provide us with personal information about someone else, you are responsible for ensuring that you comply with any obligation and consent obligations under applicable data protection laws in relation to such disclosure. In so far as required by applicable data protection laws, you must ensure that you have provided the required notices and have obtained the individual’s explicit consent or otherwise have a legal basis to provide us with the information and that you explain to them how we collect, use, disclose and retain their personal information or direct them to read our Privacy Notice.</p>\n"
    '<h2 id="controlling-your-cookies">Controlling your cookies</h2>\n'
    '<p>You can accept, refuse or withdraw your consent to each category of cookies at any time on the <a href="/cookie-settings/" rel="noopener noreferrer">cookie settings</a> page, with the exception of strictly necessary cookies, which make our service work. Withdrawing takes no more clicks than accepting, and the cookies you refuse are deleted straight away.</p>\n'
    "<p>You can also delete cookies or block them in your browser's settings (each browser has its own steps), on each device that you use.</p>\n"
    '<h2 id="more-about-the-individual-cookies-we-use">More about the individual cookies we use</h2>\n'
    "<p>These are the cookies we use on this website. The same list decides which cookies your choices allow, so it always shows what the site does:</p>\n"
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
    '<h3 id="third-party-cookies_1">Third Party cookies</h3>\n'
    "<p>HubSpot and our partners use cookies or similar technologies (such as web beacons and JavaScript) to analyze trends, administer the website, track users’ movements around the website, and to gather demographic information about our user base as a whole. Intercom's cookies let our support chat recognise you and keep a conversation open. These services are loaded only if you consent to third-party cookies.</p>\n"
    '<h2 id="changes-to-this-cookie-policy">Changes to this cookie policy</h2>\n'
    "<p>We may change this cookie policy from time to time. However we will not reduce your rights under this cookie policy. Every version stays published with a page showing what changed, and when a change affects what you consented to we ask for your consent again.</p>\n"
    '<h2 id="further-information">Further Information</h2>\n'
    '<p>For more information about cookies and instructions on how to adjust your browser settings to accept, delete or reject cookies, see the UK Information Commissioner\'s Office page <a href="https://ico.org.uk/for-the-public/online/cookies/" rel="noopener noreferrer">Cookies</a>.</p>'
)

CONTENT_SHA256 = "ec6178906846dbb5fabef981c9372167cf6e5dd8b5553ba6194246a820158ada"

VERSION = {
    "language": "en",
    "number": 2,
    "title": "Cookie Policy",
    "summary": "An editorial revision of version 1. Using the site is no longer taken as consent: only strictly necessary cookies are set without it. The categories are described as the site enforces them (a cookie needs both its party and its lifetime consented, and a cookie missing from the table is refused). The sentences that broke off are completed, the empty headings are gone, and “Controlling your cookies” leads to the cookie settings page. Because what you consent to is described differently, everyone is asked again.",
    "effective_date": datetime.date(2026, 12, 1),
    "material": True,
}


def publish(policy_version_model):
    """Publish the version unless it exists (the model may be historical)."""
    if policy_version_model.objects.filter(language="en", number=2).exists():
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
    dependencies = [("policy", "0003_seed_policy")]

    # Going back leaves the row: a published version may not be deleted, not even by a migration.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
