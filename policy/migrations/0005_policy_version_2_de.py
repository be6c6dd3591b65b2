"""Publish version 2 of the cookie policy in German: the translation of the English version 2.

It carries the English version's number, so that "version 2" names the same policy in every
language. Frozen like versions 1 and 2: the Markdown, the HTML it rendered to on 1 December 2026
(the seed registry's table of cookies, its cells translated) and its SHA-256 are shipped here
verbatim, and only the historical model is used.
"""

import datetime
import hashlib

from django.db import migrations
from django.utils import timezone

# The German Markdown, as an admin would have typed it.
BODY = (
    "iPortalis verwendet auf seiner Website Cookies. Abgesehen von den unten aufgeführten unbedingt erforderlichen Cookies setzen wir ein Cookie erst, nachdem Sie ihm zugestimmt haben; die bloße Nutzung der Website gilt nie als Einwilligung. Sie erteilen, verweigern oder ändern Ihre Einwilligung im Cookie-Banner oder jederzeit auf der Seite [Cookie-Einstellungen](/cookie-settings/).\n"
    "\n"
    "Diese Cookie-Richtlinie erklärt, was Cookies sind, welche Cookies wir und die Dritten, mit denen wir zusammenarbeiten, verwenden, welche Wahlmöglichkeiten Sie haben und wo Sie weitere Informationen über Cookies finden.\n"
    "\n"
    "Diese Cookie-Richtlinie gilt für die Website von iPortalis und die Dienste, die wir über sie anbieten.\n"
    "\n"
    "Diese Richtlinie wurde zuletzt am 1. Dezember 2026 aktualisiert.\n"
    "\n"
    "## Was ist ein Cookie?\n"
    "\n"
    "Ein Cookie ist eine kleine Datenmenge, die auf Ihrem Computer oder Mobilgerät gespeichert wird. Wie viele Websites verwendet iPortalis Cookies, um seine Dienste zu betreiben und, wenn Sie einwilligen, zusätzliche Daten über die Nutzung der Website zu erheben.\n"
    "\n"
    "Cookies erfüllen im Web nützliche und manchmal unverzichtbare Aufgaben. Sie ermöglichen es Webservern, Informationen auf dem Gerät der Nutzerin oder des Nutzers zu speichern oder deren Surfverhalten zu verfolgen (etwa das Anklicken bestimmter Schaltflächen, das Anmelden oder welche Seiten früher besucht wurden). Sie können auch dazu dienen, früher in Formularfelder eingegebene Informationen für eine spätere Verwendung zu speichern.\n"
    "\n"
    "## Welche Arten von Cookies verwenden wir?\n"
    "\n"
    "Jedes Cookie, das wir verwenden, hat eine Herkunft (wer es setzt: unbedingt erforderlich, Erstanbieter oder Drittanbieter) und eine Lebensdauer (Sitzung oder dauerhaft). Sie willigen in Herkunft und Lebensdauer getrennt ein, und ein Cookie, das nicht unbedingt erforderlich ist, wird nur gesetzt, wenn Sie **beidem** zugestimmt haben: seiner Herkunft und seiner Lebensdauer. Wählen Sie zum Beispiel nur „Erstanbieter“, ist noch kein Cookie erlaubt: Wählen Sie zusätzlich „Sitzung“, „Dauerhaft“ oder beides.\n"
    "\n"
    "### Unbedingt erforderliche Cookies\n"
    "\n"
    "Diese Cookies werden benötigt, damit unsere Websites, Anwendungen oder Dienste richtig funktionieren; sie ermöglichen Ihnen zum Beispiel den Zugang zu geschützten Bereichen unserer Website und speichern Ihre Cookie-Auswahl. Sie sind immer aktiv und brauchen keine Einwilligung.\n"
    "\n"
    "### Cookies von Erstanbietern\n"
    "\n"
    "Cookies von Erstanbietern werden von unserer eigenen Website gesetzt. Mit Ihrer Einwilligung verwenden wir sie etwa, um Seitenaufrufe, Besuche und die Zahl der Nutzerinnen und Nutzer zu zählen und um Ihre Einstellungen wie Ihre Sprache zu speichern.\n"
    "\n"
    "### Cookies von Drittanbietern\n"
    "\n"
    "Cookies von Drittanbietern werden von anderen Domains über Elemente gesetzt, die wir in unsere Website einbinden (etwa den Chatbot und Marketing-Analysen). Mit Ihrer Einwilligung werden die Dienste, die sie setzen, geladen; ohne sie werden sie gar nicht geladen.\n"
    "\n"
    "### Sitzungs-Cookies\n"
    "\n"
    "Sitzungs-Cookies enden, wenn Sie Ihren Browser schließen.\n"
    "\n"
    "### Dauerhafte Cookies\n"
    "\n"
    "Dauerhafte Cookies bleiben bis zu dem Ablaufdatum, das unten für jedes Cookie angegeben ist, in Ihrem Browser, sofern Sie sie nicht löschen oder Ihre Einwilligung widerrufen. Wir verwenden sie, um einen wiederkehrenden Browser zu erkennen. Willigen Sie in eine Herkunft und in Sitzungs-Cookies ein, aber nicht in dauerhafte, werden die dauerhaften Cookies dieser Herkunft nur als Sitzungs-Cookies behalten.\n"
    "\n"
    "Ein Cookie, das in der Tabelle unten fehlt, wurde Ihnen nicht beschrieben; wir lehnen es deshalb unabhängig von Ihrer Auswahl ab, bis wir es eingeordnet und hier aufgeführt haben.\n"
    "\n"
    "## Wie iPortalis Cookies verwendet\n"
    "\n"
    "Wenn Sie den Dienst nutzen und aufrufen, setzen wir die unbedingt erforderlichen Cookies in Ihrem Browser und die anderen unten aufgeführten Cookies nur, soweit Sie ihnen zustimmen.\n"
    "\n"
    "Mit Ihrer Einwilligung verwenden wir Cookies, um besser zu verstehen, wie Sie unsere Dienste nutzen, um Nutzungsmuster zu beobachten, Analysen zu erstellen und unsere Dienste zu personalisieren und anderweitig zu betreiben, etwa um Inhalte zu personalisieren und Ihre Spracheinstellung zu speichern. Unbedingt erforderliche Cookies sorgen für die Sicherheit von Konten und speichern Ihre Cookie-Auswahl.\n"
    "\n"
    "## Wie wir Informationen erheben\n"
    "\n"
    "Soweit das anwendbare Recht es erlaubt, erheben wir Informationen über Sie und über jede andere Person, deren Angaben Sie uns machen, wenn Sie:\n"
    "\n"
    "- sich für die Nutzung unserer Websites, Anwendungen oder Dienste registrieren (auch für Webinare, kostenlose Testversionen und Demos); dazu können Ihr Name (auch Firmenname), Ihre Anschrift, E-Mail-Adresse und Telefonnummer gehören. Wir können Sie auch um weitere Angaben zu Ihrem Unternehmen und Ihren Vorlieben bitten;\n"
    "- über unsere Websites, Anwendungen oder Dienste eine Bestellung aufgeben; dazu können Ihr Name (auch Firmenname), Ihre Anschrift, Kontaktdaten (auch Telefonnummer und E-Mail-Adresse) und Zahlungsdaten gehören;\n"
    "- unsere Anwendungen nutzen, wobei Metadaten erhoben werden können;\n"
    "- Online-Formulare ausfüllen (auch Rückrufbitten), an Umfragen teilnehmen, in unseren Foren oder Blogs schreiben, an Wettbewerben oder Verlosungen teilnehmen, Informationen wie Whitepaper oder andere Veröffentlichungen herunterladen oder andere interaktive Bereiche unserer Website, Anwendung oder unseres Dienstes nutzen;\n"
    "- über soziale Medien mit uns in Kontakt treten;\n"
    "- über unsere Chatbots mit uns in Kontakt treten;\n"
    "- uns Ihre Kontaktdaten mitteilen, wenn Sie sich für Websites, Anwendungen oder Dienste registrieren, die wir anbieten, oder diese aufrufen, oder wenn Sie diese Daten aktualisieren; und\n"
    "- offline mit uns Kontakt aufnehmen, zum Beispiel per Telefon, Fax, SMS, E-Mail oder Post.\n"
    "\n"
    "Wir erheben Ihre Informationen auch dann, wenn Sie Angaben auf unserer Website oder in anderen Online-Formularen nur teilweise machen oder abbrechen, und können diese Informationen verwenden, um Sie an die Vervollständigung fehlender Angaben zu erinnern und/oder für Marketingzwecke.\n"
    "\n"
    "Wir erheben außerdem Informationen von Ihren Geräten (auch Mobilgeräten) und Anwendungen, mit denen Sie oder Ihre Nutzer unsere Websites, Anwendungen oder Dienste aufrufen und nutzen (zum Beispiel Gerätekennung und -typ, Standortinformationen und Verbindungsinformationen wie Statistiken über Ihre Seitenaufrufe, den Verkehr von und zu den Websites, die verweisende URL, Werbedaten, Ihre IP-Adresse, Ihren Browserverlauf und Ihre Weblog-Informationen). Soweit wir dafür Cookies oder ähnliche Technologien verwenden, tun wir das nur, soweit Sie ihnen zustimmen.\n"
    "\n"
    "Wir können personenbezogene Daten, die wir von Ihnen erheben, um Informationen ergänzen, die wir von Dritten erhalten, die zur Weitergabe berechtigt sind, zum Beispiel von Auskunfteien, Anbietern von Suchinformationen oder aus öffentlichen Quellen (etwa zur Prüfung von Kunden), in jedem Fall aber nur, soweit das anwendbare Recht es erlaubt.\n"
    "\n"
    "## Wenn Sie uns Informationen über andere geben\n"
    "\n"
    "Wenn Sie uns personenbezogene Daten über eine andere Person übermitteln, sind Sie dafür verantwortlich, die Pflichten und Einwilligungserfordernisse des anwendbaren Datenschutzrechts für diese Weitergabe einzuhalten. Soweit das anwendbare Datenschutzrecht es verlangt, müssen Sie sicherstellen, dass Sie die erforderlichen Hinweise gegeben und die ausdrückliche Einwilligung der Person eingeholt haben oder eine andere Rechtsgrundlage für die Weitergabe besitzen, und dass Sie ihr erklären, wie wir ihre personenbezogenen Daten erheben, verwenden, weitergeben und aufbewahren, oder sie auf unsere Datenschutzerklärung verweisen.\n"
    "\n"
    "## Ihre Cookies steuern\n"
    "\n"
    "Sie können Ihre Einwilligung zu jeder Kategorie von Cookies jederzeit auf der Seite [Cookie-Einstellungen](/cookie-settings/) erteilen, verweigern oder widerrufen; ausgenommen sind die unbedingt erforderlichen Cookies, ohne die unser Dienst nicht funktioniert. Der Widerruf braucht nicht mehr Klicks als die Einwilligung, und die Cookies, die Sie ablehnen, werden sofort gelöscht.\n"
    "\n"
    "Sie können Cookies außerdem in den Einstellungen Ihres Browsers löschen oder sperren (jeder Browser hat dafür eigene Schritte), und zwar auf jedem Gerät, das Sie verwenden.\n"
    "\n"
    "## Mehr über die einzelnen Cookies, die wir verwenden\n"
    "\n"
    "Dies sind die Cookies, die wir auf dieser Website verwenden. Dieselbe Liste entscheidet, welche Cookies Ihre Auswahl erlaubt; sie zeigt also immer, was die Website tut:\n"
    "\n"
    "[[cookie-table]]\n"
    "\n"
    "### Cookies von Drittanbietern\n"
    "\n"
    "HubSpot und unsere Partner verwenden Cookies oder ähnliche Technologien (etwa Web-Beacons und JavaScript), um Trends zu analysieren, die Website zu verwalten, die Bewegungen der Nutzer auf der Website zu verfolgen und demografische Informationen über unsere Nutzer insgesamt zu sammeln. Mit den Cookies von Intercom erkennt Sie unser Support-Chat und hält ein Gespräch offen. Diese Dienste werden nur geladen, wenn Sie Cookies von Drittanbietern zustimmen.\n"
    "\n"
    "## Änderungen dieser Cookie-Richtlinie\n"
    "\n"
    "Wir können diese Cookie-Richtlinie von Zeit zu Zeit ändern. Ihre Rechte nach dieser Cookie-Richtlinie werden wir jedoch nicht einschränken. Jede Fassung bleibt veröffentlicht, zusammen mit einer Seite, die zeigt, was sich geändert hat, und wenn eine Änderung das betrifft, worin Sie eingewilligt haben, bitten wir Sie erneut um Ihre Einwilligung.\n"
    "\n"
    "## Weitere Informationen\n"
    "\n"
    "Weitere Informationen über Cookies und darüber, wie Sie in Ihrem Browser Cookies annehmen, löschen oder ablehnen, finden Sie bei der [Verbraucherzentrale](https://www.verbraucherzentrale.de/).\n"
)

RENDERED_HTML = (
    '<p>iPortalis verwendet auf seiner Website Cookies. Abgesehen von den unten aufgeführten unbedingt erforderlichen Cookies setzen wir ein Cookie erst, nachdem Sie ihm zugestimmt haben; die bloße Nutzung der Website gilt nie als Einwilligung. Sie erteilen, verweigern oder ändern Ihre Einwilligung im Cookie-Banner oder jederzeit auf der Seite <a href="/cookie-settings/" rel="noopener noreferrer">Cookie-Einstellungen</a>.</p>\n'
    "<p>Diese Cookie-Richtlinie erklärt, was Cookies sind, welche Cookies wir und die Dritten, mit denen wir zusammenarbeiten, verwenden, welche Wahlmöglichkeiten Sie haben und wo Sie weitere Informationen über Cookies finden.</p>\n"
    "<p>Diese Cookie-Richtlinie gilt für die Website von iPortalis und die Dienste, die wir über sie anbieten.</p>\n"
    "<p>Diese Richtlinie wurde zuletzt am 1. Dezember 2026 aktualisiert.</p>\n"
    '<h2 id="was-ist-ein-cookie">Was ist ein Cookie?</h2>\n'
    "<p>Ein Cookie ist eine kleine Datenmenge, die auf Ihrem Computer oder Mobilgerät gespeichert wird. Wie viele Websites verwendet iPortalis Cookies, um seine Dienste zu betreiben und, wenn Sie einwilligen, zusätzliche Daten über die Nutzung der Website zu erheben.</p>\n"
    "<p>Cookies erfüllen im Web nützliche und manchmal unverzichtbare Aufgaben. Sie ermöglichen es Webservern, Informationen auf dem Gerät der Nutzerin oder des Nutzers zu speichern oder deren Surfverhalten zu verfolgen (etwa das Anklicken bestimmter Schaltflächen, das Anmelden oder welche Seiten früher besucht wurden). Sie können auch dazu dienen, früher in Formularfelder eingegebene Informationen für eine spätere Verwendung zu speichern.</p>\n"
    '<h2 id="welche-arten-von-cookies-verwenden-wir">Welche Arten von Cookies verwenden wir?</h2>\n'
    "<p>Jedes Cookie, das wir verwenden, hat eine Herkunft (wer es setzt: unbedingt erforderlich, Erstanbieter oder Drittanbieter) und eine Lebensdauer (Sitzung oder dauerhaft). Sie willigen in Herkunft und Lebensdauer getrennt ein, und ein Cookie, das nicht unbedingt erforderlich ist, wird nur gesetzt, wenn Sie <strong>beidem</strong> zugestimmt haben: seiner Herkunft und seiner Lebensdauer. Wählen Sie zum Beispiel nur „Erstanbieter“, ist noch kein Cookie erlaubt: Wählen Sie zusätzlich „Sitzung“, „Dauerhaft“ oder beides.</p>\n"
    '<h3 id="unbedingt-erforderliche-cookies">Unbedingt erforderliche Cookies</h3>\n'
    "<p>Diese Cookies werden benötigt, damit unsere Websites, Anwendungen oder Dienste richtig funktionieren; sie ermöglichen Ihnen zum Beispiel den Zugang zu geschützten Bereichen unserer Website und speichern Ihre Cookie-Auswahl. Sie sind immer aktiv und brauchen keine Einwilligung.</p>\n"
    '<h3 id="cookies-von-erstanbietern">Cookies von Erstanbietern</h3>\n'
    "<p>Cookies von Erstanbietern werden von unserer eigenen Website gesetzt. Mit Ihrer Einwilligung verwenden wir sie etwa, um Seitenaufrufe, Besuche und die Zahl der Nutzerinnen und Nutzer zu zählen und um Ihre Einstellungen wie Ihre Sprache zu speichern.</p>\n"
    '<h3 id="cookies-von-drittanbietern">Cookies von Drittanbietern</h3>\n'
    "<p>Cookies von Drittanbietern werden von anderen Domains über Elemente gesetzt, die wir in unsere Website einbinden (etwa den Chatbot und Marketing-Analysen). Mit Ihrer Einwilligung werden die Dienste, die sie setzen, geladen; ohne sie werden sie gar nicht geladen.</p>\n"
    '<h3 id="sitzungs-cookies">Sitzungs-Cookies</h3>\n'
    "<p>Sitzungs-Cookies enden, wenn Sie Ihren Browser schließen.</p>\n"
    '<h3 id="dauerhafte-cookies">Dauerhafte Cookies</h3>\n'
    "<p>Dauerhafte Cookies bleiben bis zu dem Ablaufdatum, das unten für jedes Cookie angegeben ist, in Ihrem Browser, sofern Sie sie nicht löschen oder Ihre Einwilligung widerrufen. Wir verwenden sie, um einen wiederkehrenden Browser zu erkennen. Willigen Sie in eine Herkunft und in Sitzungs-Cookies ein, aber nicht in dauerhafte, werden die dauerhaften Cookies dieser Herkunft nur als Sitzungs-Cookies behalten.</p>\n"
    "<p>Ein Cookie, das in der Tabelle unten fehlt, wurde Ihnen nicht beschrieben; wir lehnen es deshalb unabhängig von Ihrer Auswahl ab, bis wir es eingeordnet und hier aufgeführt haben.</p>\n"
    '<h2 id="wie-iportalis-cookies-verwendet">Wie iPortalis Cookies verwendet</h2>\n'
    "<p>Wenn Sie den Dienst nutzen und aufrufen, setzen wir die unbedingt erforderlichen Cookies in Ihrem Browser und die anderen unten aufgeführten Cookies nur, soweit Sie ihnen zustimmen.</p>\n"
    "<p>Mit Ihrer Einwilligung verwenden wir Cookies, um besser zu verstehen, wie Sie unsere Dienste nutzen, um Nutzungsmuster zu beobachten, Analysen zu erstellen und unsere Dienste zu personalisieren und anderweitig zu betreiben, etwa um Inhalte zu personalisieren und Ihre Spracheinstellung zu speichern. Unbedingt erforderliche Cookies sorgen für die Sicherheit von Konten und speichern Ihre Cookie-Auswahl.</p>\n"
    '<h2 id="wie-wir-informationen-erheben">Wie wir Informationen erheben</h2>\n'
    "<p>Soweit das anwendbare Recht es erlaubt, erheben wir Informationen über Sie und über jede andere Person, deren Angaben Sie uns machen, wenn Sie:</p>\n"
    "<ul>\n"
    "<li>sich für die Nutzung unserer Websites, Anwendungen oder Dienste registrieren (auch für Webinare, kostenlose Testversionen und Demos); dazu können Ihr Name (auch Firmenname), Ihre Anschrift, E-Mail-Adresse und Telefonnummer gehören. Wir können Sie auch um weitere Angaben zu Ihrem Unternehmen und Ihren Vorlieben bitten;</li>\n"
    "<li>über unsere Websites, Anwendungen oder Dienste eine Bestellung aufgeben; dazu können Ihr Name (auch Firmenname), Ihre Anschrift, Kontaktdaten (auch Telefonnummer und E-Mail-Adresse) und Zahlungsdaten gehören;</li>\n"
    "<li>unsere Anwendungen nutzen, wobei Metadaten erhoben werden können;</li>\n"
    "<li>Online-Formulare ausfüllen (auch Rückrufbitten), an Umfragen teilnehmen, in unseren Foren oder Blogs schreiben, an Wettbewerben oder Verlosungen teilnehmen, Informationen wie Whitepaper oder andere Veröffentlichungen herunterladen oder andere interaktive Bereiche unserer Website, Anwendung oder unseres Dienstes nutzen;</li>\n"
    "<li>über soziale Medien mit uns in Kontakt treten;</li>\n"
    "<li>über unsere Chatbots mit uns in Kontakt treten;</li>\n"
    "<li>uns Ihre Kontaktdaten mitteilen, wenn Sie sich für Websites, Anwendungen oder Dienste registrieren, die wir anbieten, oder diese aufrufen, oder wenn Sie diese Daten aktualisieren; und</li>\n"
    "<li>offline mit uns Kontakt aufnehmen, zum Beispiel per Telefon, Fax, SMS, E-Mail oder Post.</li>\n"
    "</ul>\n"
    "<p>Wir erheben Ihre Informationen auch dann, wenn Sie Angaben auf unserer Website oder in anderen Online-Formularen nur teilweise machen oder abbrechen, und können diese Informationen verwenden, um Sie an die Vervollständigung fehlender Angaben zu erinnern und/oder für Marketingzwecke.</p>\n"
    "<p>Wir erheben außerdem Informationen von Ihren Geräten (auch Mobilgeräten) und Anwendungen, mit denen Sie oder Ihre Nutzer unsere Websites, Anwendungen oder Dienste aufrufen und nutzen (zum Beispiel Gerätekennung und -typ, Standortinformationen und Verbindungsinformationen wie Statistiken über Ihre Seitenaufrufe, den Verkehr von und zu den Websites, die verweisende URL, Werbedaten, Ihre IP-Adresse, Ihren Browserverlauf und Ihre Weblog-Informationen). Soweit wir dafür Cookies oder ähnliche Technologien verwenden, tun wir das nur, soweit Sie ihnen zustimmen.</p>\n"
    "<p>Wir können personenbezogene Daten, die wir von Ihnen erheben, um Informationen ergänzen, die wir von Dritten erhalten, die zur Weitergabe berechtigt sind, zum Beispiel von Auskunfteien, Anbietern von Suchinformationen oder aus öffentlichen Quellen (etwa zur Prüfung von Kunden), in jedem Fall aber nur, soweit das anwendbare Recht es erlaubt.</p>\n"
    '<h2 id="wenn-sie-uns-informationen-uber-andere-geben">Wenn Sie uns Informationen über andere geben</h2>\n'
    "<p>Wenn Sie uns personenbezogene Daten über eine andere Person übermitteln, sind Sie dafür verantwortlich, die Pflichten und Einwilligungserfordernisse des anwendbaren Datenschutzrechts für diese Weitergabe einzuhalten. Soweit das anwendbare Datenschutzrecht es verlangt, müssen Sie sicherstellen, dass Sie die erforderlichen Hinweise gegeben und die ausdrückliche Einwilligung der Person eingeholt haben oder eine andere Rechtsgrundlage für die Weitergabe besitzen, und dass Sie ihr erklären, wie wir ihre personenbezogenen Daten erheben, verwenden, weitergeben und aufbewahren, oder sie auf unsere Datenschutzerklärung verweisen.</p>\n"
    '<h2 id="ihre-cookies-steuern">Ihre Cookies steuern</h2>\n'
    '<p>Sie können Ihre Einwilligung zu jeder Kategorie von Cookies jederzeit auf der Seite <a href="/cookie-settings/" rel="noopener noreferrer">Cookie-Einstellungen</a> erteilen, verweigern oder widerrufen; ausgenommen sind die unbedingt erforderlichen Cookies, ohne die unser Dienst nicht funktioniert. Der Widerruf braucht nicht mehr Klicks als die Einwilligung, und die Cookies, die Sie ablehnen, werden sofort gelöscht.</p>\n'
    "<p>Sie können Cookies außerdem in den Einstellungen Ihres Browsers löschen oder sperren (jeder Browser hat dafür eigene Schritte), und zwar auf jedem Gerät, das Sie verwenden.</p>\n"
    '<h2 id="mehr-uber-die-einzelnen-cookies-die-wir-verwenden">Mehr über die einzelnen Cookies, die wir verwenden</h2>\n'
    "<p>Dies sind die Cookies, die wir auf dieser Website verwenden. Dieselbe Liste entscheidet, welche Cookies Ihre Auswahl erlaubt; sie zeigt also immer, was die Website tut:</p>\n"
    '<div class="table-scroll" id="cookies-in-use">\n'
    '<table class="cookie-table">\n'
    '<thead><tr><th scope="col">Cookie</th><th scope="col">Anbieter</th><th scope="col">Kategorie</th><th scope="col">Zweck</th><th scope="col">Speicherdauer</th></tr></thead>\n'
    "<tbody>\n"
    "<tr><td><code>csrftoken</code></td><td>iPortalis</td><td>Unbedingt erforderlich</td><td>Schützt Formulare vor Cross-Site-Request-Forgery.</td><td>1 Jahr</td></tr>\n"
    "<tr><td><code>iportalis_consent</code></td><td>iPortalis</td><td>Unbedingt erforderlich</td><td>Speichert Ihre Cookie-Auswahl und Ihre Einwilligungs-ID.</td><td>12 Monate</td></tr>\n"
    "<tr><td><code>sessionid</code></td><td>iPortalis</td><td>Unbedingt erforderlich</td><td>Hält angemeldete Mitarbeitende in den geschützten Bereichen der Website angemeldet.</td><td>2 Wochen</td></tr>\n"
    "<tr><td><code>_pk_id.*</code></td><td>iPortalis</td><td>Erstanbieter</td><td>Erkennt einen wiederkehrenden Browser, um eindeutige Besucher zu zählen.</td><td>13 Monate</td></tr>\n"
    "<tr><td><code>_pk_ses.*</code></td><td>iPortalis</td><td>Erstanbieter</td><td>Fasst die Seiten, die Sie aufrufen, zu einem Besuch zusammen.</td><td>30 Minuten</td></tr>\n"
    "<tr><td><code>django_language</code></td><td>iPortalis</td><td>Erstanbieter</td><td>Speichert die Sprache, die Sie gewählt haben.</td><td>1 Jahr</td></tr>\n"
    "<tr><td><code>__hs_*</code></td><td>HubSpot, Inc.</td><td>Drittanbieter</td><td>Weitere Einstellungs- und Opt-out-Cookies von HubSpot.</td><td>Bis zu 13 Monate</td></tr>\n"
    "<tr><td><code>__hssc</code></td><td>HubSpot, Inc.</td><td>Drittanbieter</td><td>Zählt die während eines Besuchs aufgerufenen Seiten.</td><td>30 Minuten</td></tr>\n"
    "<tr><td><code>__hssrc</code></td><td>HubSpot, Inc.</td><td>Drittanbieter</td><td>Bemerkt, wenn der Browser neu gestartet wurde.</td><td>Sitzung</td></tr>\n"
    "<tr><td><code>__hstc</code></td><td>HubSpot, Inc.</td><td>Drittanbieter</td><td>Verfolgt Besucher: Domain, erster und letzter Besuch, Zahl der Besuche.</td><td>13 Monate</td></tr>\n"
    "<tr><td><code>hubspotutk</code></td><td>HubSpot, Inc.</td><td>Drittanbieter</td><td>Identifiziert einen Besucher gegenüber HubSpot über mehrere Besuche hinweg.</td><td>13 Monate</td></tr>\n"
    "<tr><td><code>intercom-device-id-*</code></td><td>Intercom, Inc.</td><td>Drittanbieter</td><td>Erkennt das Gerät, von dem aus Sie chatten.</td><td>9 Monate</td></tr>\n"
    "<tr><td><code>intercom-id-*</code></td><td>Intercom, Inc.</td><td>Drittanbieter</td><td>Erkennt Sie, damit der Chat frühere Gespräche zeigen kann.</td><td>9 Monate</td></tr>\n"
    "<tr><td><code>intercom-session-*</code></td><td>Intercom, Inc.</td><td>Drittanbieter</td><td>Hält den Chat offen, während Sie zwischen Seiten wechseln.</td><td>1 Woche</td></tr>\n"
    "</tbody>\n"
    "</table>\n"
    "</div>\n"
    '<h3 id="cookies-von-drittanbietern_1">Cookies von Drittanbietern</h3>\n'
    "<p>HubSpot und unsere Partner verwenden Cookies oder ähnliche Technologien (etwa Web-Beacons und JavaScript), um Trends zu analysieren, die Website zu verwalten, die Bewegungen der Nutzer auf der Website zu verfolgen und demografische Informationen über unsere Nutzer insgesamt zu sammeln. Mit den Cookies von Intercom erkennt Sie unser Support-Chat und hält ein Gespräch offen. Diese Dienste werden nur geladen, wenn Sie Cookies von Drittanbietern zustimmen.</p>\n"
    '<h2 id="anderungen-dieser-cookie-richtlinie">Änderungen dieser Cookie-Richtlinie</h2>\n'
    "<p>Wir können diese Cookie-Richtlinie von Zeit zu Zeit ändern. Ihre Rechte nach dieser Cookie-Richtlinie werden wir jedoch nicht einschränken. Jede Fassung bleibt veröffentlicht, zusammen mit einer Seite, die zeigt, was sich geändert hat, und wenn eine Änderung das betrifft, worin Sie eingewilligt haben, bitten wir Sie erneut um Ihre Einwilligung.</p>\n"
    '<h2 id="weitere-informationen">Weitere Informationen</h2>\n'
    '<p>Weitere Informationen über Cookies und darüber, wie Sie in Ihrem Browser Cookies annehmen, löschen oder ablehnen, finden Sie bei der <a href="https://www.verbraucherzentrale.de/" rel="noopener noreferrer">Verbraucherzentrale</a>.</p>'
)

CONTENT_SHA256 = "db23853b782540c38e0841435d4f43557a2deb3e2808d6748d2670ac90b78d14"

VERSION = {
    "language": "de",
    "number": 2,
    "title": "Cookie-Richtlinie",
    "summary": "Eine redaktionelle Überarbeitung der englischen Fassung 1, erstmals auf Deutsch. Die bloße Nutzung der Website gilt nicht mehr als Einwilligung: Ohne sie werden nur unbedingt erforderliche Cookies gesetzt. Die Kategorien sind so beschrieben, wie die Website sie durchsetzt (ein Cookie braucht die Einwilligung in seine Herkunft und in seine Lebensdauer, und ein Cookie, das in der Tabelle fehlt, wird abgelehnt). Abgebrochene Sätze sind vervollständigt, leere Überschriften entfernt, und „Ihre Cookies steuern“ führt zur Seite Cookie-Einstellungen. Weil anders beschrieben ist, worin Sie einwilligen, werden alle erneut gefragt.",
    "effective_date": datetime.date(2026, 12, 1),
    "material": True,
}


def publish(policy_version_model):
    """Publish the version unless it exists (the model may be historical)."""
    if policy_version_model.objects.filter(language="de", number=2).exists():
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
    dependencies = [("policy", "0004_policy_version_2_en")]

    # Going back leaves the row: a published version may not be deleted, not even by a migration.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
