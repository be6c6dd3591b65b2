"""Publish version 2 of the cookie policy in French: the translation of the English version 2.

It carries the English version's number, so that "version 2" names the same policy in every
language. Frozen like versions 1 and 2: the Markdown, the HTML it rendered to on 1 December 2026
(the seed registry's table of cookies, its cells translated) and its SHA-256 are shipped here
verbatim, and only the historical model is used.
"""

import datetime
import hashlib

from django.db import migrations
from django.utils import timezone

# The French Markdown, as an admin would have typed it.
BODY = (
    "iPortalis utilise des cookies sur son site web. En dehors des cookies strictement nécessaires indiqués ci-dessous, nous ne déposons un cookie qu’après votre consentement, et la simple utilisation du site ne vaut jamais consentement. Vous donnez, refusez ou modifiez votre consentement dans le bandeau cookies ou à tout moment sur la page [Paramètres des cookies](/cookie-settings/).\n"
    "\n"
    "Cette politique relative aux cookies explique ce que sont les cookies, quels cookies nous utilisons, nous et les tiers avec lesquels nous travaillons, les choix dont vous disposez et où trouver plus d’informations sur les cookies.\n"
    "\n"
    "Cette politique relative aux cookies s’applique au site web d’iPortalis et aux services que nous proposons par son intermédiaire.\n"
    "\n"
    "Cette politique a été mise à jour pour la dernière fois le 1er décembre 2026.\n"
    "\n"
    "## Qu’est-ce qu’un cookie ?\n"
    "\n"
    "Un cookie est une petite quantité de données enregistrée sur votre ordinateur ou votre appareil mobile. Comme de nombreux sites web, iPortalis utilise des cookies pour faire fonctionner ses services et, si vous y consentez, pour recueillir des données supplémentaires sur l’utilisation du site.\n"
    "\n"
    "Les cookies remplissent sur le web des fonctions utiles et parfois indispensables. Ils permettent aux serveurs web d’enregistrer des informations sur l’appareil de l’utilisateur ou de suivre sa navigation (par exemple les clics sur certains boutons, la connexion ou les pages consultées auparavant). Ils peuvent aussi servir à conserver, pour un usage ultérieur, des informations que l’utilisateur a saisies dans des formulaires.\n"
    "\n"
    "## Quels types de cookies utilisons-nous ?\n"
    "\n"
    "Chaque cookie que nous utilisons a une origine (qui le dépose : strictement nécessaire, interne ou tiers) et une durée de vie (session ou persistant). Vous consentez séparément aux origines et aux durées de vie, et un cookie qui n’est pas strictement nécessaire n’est déposé que si vous avez consenti **à la fois** à son origine et à sa durée de vie. Par exemple, choisir seulement « Internes » n’autorise encore aucun cookie : choisissez aussi « Session », « Persistants » ou les deux.\n"
    "\n"
    "### Cookies strictement nécessaires\n"
    "\n"
    "Ces cookies sont nécessaires au bon fonctionnement de nos sites web, applications ou services ; ils vous permettent par exemple d’accéder aux espaces sécurisés de notre site et mémorisent vos choix en matière de cookies. Ils sont toujours actifs et ne demandent pas de consentement.\n"
    "\n"
    "### Cookies internes\n"
    "\n"
    "Les cookies internes sont déposés par notre propre site web. Avec votre consentement, nous les utilisons par exemple pour compter les pages vues, les visites et le nombre d’utilisateurs, et pour mémoriser vos préférences, comme votre langue.\n"
    "\n"
    "### Cookies tiers\n"
    "\n"
    "Les cookies tiers sont déposés par d’autres domaines au moyen d’éléments que nous intégrons à notre site (comme le chatbot et les outils d’analyse marketing). Avec votre consentement, les services qui les déposent sont chargés ; sans lui, ils ne sont pas chargés du tout.\n"
    "\n"
    "### Cookies de session\n"
    "\n"
    "Les cookies de session prennent fin lorsque vous fermez votre navigateur.\n"
    "\n"
    "### Cookies persistants\n"
    "\n"
    "Les cookies persistants restent dans votre navigateur jusqu’à la date d’expiration indiquée ci-dessous pour chacun d’eux, sauf si vous les supprimez ou retirez votre consentement. Nous les utilisons pour reconnaître un navigateur qui revient. Si vous consentez à une origine et aux cookies de session mais pas aux cookies persistants, les cookies persistants de cette origine ne sont conservés que comme cookies de session.\n"
    "\n"
    "Un cookie absent du tableau ci-dessous ne vous a pas été décrit : nous le refusons donc quels que soient vos choix, jusqu’à ce que nous l’ayons classé et ajouté ici.\n"
    "\n"
    "## Comment iPortalis utilise les cookies\n"
    "\n"
    "Lorsque vous utilisez le service et y accédez, nous déposons dans votre navigateur les cookies strictement nécessaires, et les autres cookies indiqués ci-dessous seulement dans la mesure où vous y consentez.\n"
    "\n"
    "Avec votre consentement, nous utilisons des cookies pour mieux comprendre comment vous utilisez nos services, observer les tendances d’utilisation, réaliser des analyses et personnaliser et faire fonctionner nos services, par exemple en personnalisant le contenu et en mémorisant votre langue. Les cookies strictement nécessaires assurent la sécurité des comptes et mémorisent vos choix en matière de cookies.\n"
    "\n"
    "## Comment nous recueillons des informations\n"
    "\n"
    "Dans la mesure permise par le droit applicable, nous recueillons des informations vous concernant, ainsi que toute autre personne dont vous nous communiquez les coordonnées, lorsque vous :\n"
    "\n"
    "- vous inscrivez pour utiliser nos sites web, applications ou services (y compris webinaires, essais gratuits et démonstrations) ; cela peut comprendre votre nom (y compris le nom de l’entreprise), votre adresse, votre adresse e-mail et votre numéro de téléphone. Nous pouvons aussi vous demander des informations supplémentaires sur votre entreprise et vos préférences ;\n"
    "- passez une commande sur nos sites web, applications ou services ; cela peut comprendre votre nom (y compris le nom de l’entreprise), votre adresse, vos coordonnées (y compris numéro de téléphone et adresse e-mail) et vos informations de paiement ;\n"
    "- utilisez nos applications, ce qui peut comprendre la collecte de métadonnées ;\n"
    "- remplissez des formulaires en ligne (y compris des demandes de rappel), répondez à des enquêtes, publiez sur nos forums ou blogs, participez à des concours ou tirages au sort, téléchargez des informations comme des livres blancs ou d’autres publications, ou utilisez tout autre espace interactif de notre site, application ou service ;\n"
    "- échangez avec nous sur les réseaux sociaux ;\n"
    "- échangez avec nous par nos chatbots ;\n"
    "- nous communiquez vos coordonnées lorsque vous vous inscrivez à des sites web, applications ou services que nous proposons ou y accédez, ou lorsque vous mettez ces coordonnées à jour ; et\n"
    "- nous contactez hors ligne, par exemple par téléphone, fax, SMS, e-mail ou courrier.\n"
    "\n"
    "Nous recueillons aussi vos informations lorsque vous ne remplissez que partiellement ou abandonnez une saisie sur notre site et/ou dans d’autres formulaires en ligne, et pouvons utiliser ces informations pour vous rappeler de compléter les informations manquantes et/ou à des fins marketing.\n"
    "\n"
    "Nous recueillons également des informations provenant de vos appareils (y compris mobiles) et des applications que vous ou vos utilisateurs employez pour accéder à nos sites web, applications ou services et les utiliser (par exemple l’identifiant et le type de l’appareil, la localisation et des informations de connexion comme des statistiques sur vos pages vues, le trafic vers et depuis les sites, l’URL de provenance, des données publicitaires, votre adresse IP, votre historique de navigation et vos journaux web). Lorsque nous le faisons au moyen de cookies ou de technologies similaires, ce n’est que dans la mesure où vous y consentez.\n"
    "\n"
    "Nous pouvons compléter les données personnelles que nous recueillons auprès de vous par des informations obtenues de tiers autorisés à les partager, par exemple d’agences de crédit, de fournisseurs d’informations de recherche ou de sources publiques (par exemple pour la vérification de nos clients), mais toujours dans la mesure permise par le droit applicable.\n"
    "\n"
    "## Si vous nous communiquez des informations sur d’autres personnes\n"
    "\n"
    "Si vous nous communiquez des données personnelles concernant une autre personne, il vous appartient de respecter les obligations, y compris en matière de consentement, que le droit applicable à la protection des données impose pour cette communication. Dans la mesure où ce droit l’exige, vous devez vous assurer d’avoir fourni les informations requises et obtenu le consentement explicite de la personne, ou de disposer d’une autre base légale pour nous communiquer ces informations, et lui expliquer comment nous recueillons, utilisons, communiquons et conservons ses données personnelles, ou l’inviter à lire notre Politique de confidentialité.\n"
    "\n"
    "## Gérer vos cookies\n"
    "\n"
    "Vous pouvez à tout moment donner, refuser ou retirer votre consentement à chaque catégorie de cookies sur la page [Paramètres des cookies](/cookie-settings/), à l’exception des cookies strictement nécessaires, qui font fonctionner notre service. Retirer son consentement ne demande pas plus de clics que le donner, et les cookies que vous refusez sont supprimés immédiatement.\n"
    "\n"
    "Vous pouvez aussi supprimer ou bloquer des cookies dans les paramètres de votre navigateur (chaque navigateur a ses propres étapes), sur chacun des appareils que vous utilisez.\n"
    "\n"
    "## En savoir plus sur chacun des cookies que nous utilisons\n"
    "\n"
    "Voici les cookies que nous utilisons sur ce site. C’est la même liste qui décide quels cookies vos choix autorisent : elle montre donc toujours ce que fait le site.\n"
    "\n"
    "[[cookie-table]]\n"
    "\n"
    "### Cookies tiers\n"
    "\n"
    "HubSpot et nos partenaires utilisent des cookies ou des technologies similaires (comme des balises web et JavaScript) pour analyser les tendances, administrer le site, suivre les déplacements des utilisateurs sur le site et recueillir des informations démographiques sur l’ensemble de nos utilisateurs. Les cookies d’Intercom permettent à notre chat d’assistance de vous reconnaître et de garder une conversation ouverte. Ces services ne sont chargés que si vous consentez aux cookies tiers.\n"
    "\n"
    "## Modifications de cette politique relative aux cookies\n"
    "\n"
    "Nous pouvons modifier cette politique relative aux cookies de temps à autre. Nous ne réduirons cependant pas vos droits au titre de cette politique. Chaque version reste publiée, avec une page qui montre ce qui a changé, et lorsqu’une modification touche à ce à quoi vous avez consenti, nous vous demandons à nouveau votre consentement.\n"
    "\n"
    "## Plus d’informations\n"
    "\n"
    "Pour plus d’informations sur les cookies et sur la manière de régler votre navigateur pour accepter, supprimer ou refuser des cookies, consultez la page [Cookies et autres traceurs](https://www.cnil.fr/fr/cookies-et-autres-traceurs) de la CNIL.\n"
)

RENDERED_HTML = (
    '<p>iPortalis utilise des cookies sur son site web. En dehors des cookies strictement nécessaires indiqués ci-dessous, nous ne déposons un cookie qu’après votre consentement, et la simple utilisation du site ne vaut jamais consentement. Vous donnez, refusez ou modifiez votre consentement dans le bandeau cookies ou à tout moment sur la page <a href="/cookie-settings/" rel="noopener noreferrer">Paramètres des cookies</a>.</p>\n'
    "<p>Cette politique relative aux cookies explique ce que sont les cookies, quels cookies nous utilisons, nous et les tiers avec lesquels nous travaillons, les choix dont vous disposez et où trouver plus d’informations sur les cookies.</p>\n"
    "<p>Cette politique relative aux cookies s’applique au site web d’iPortalis et aux services que nous proposons par son intermédiaire.</p>\n"
    "<p>Cette politique a été mise à jour pour la dernière fois le 1er décembre 2026.</p>\n"
    '<h2 id="quest-ce-quun-cookie">Qu’est-ce qu’un cookie ?</h2>\n'
    "<p>Un cookie est une petite quantité de données enregistrée sur votre ordinateur ou votre appareil mobile. Comme de nombreux sites web, iPortalis utilise des cookies pour faire fonctionner ses services et, si vous y consentez, pour recueillir des données supplémentaires sur l’utilisation du site.</p>\n"
    "<p>Les cookies remplissent sur le web des fonctions utiles et parfois indispensables. Ils permettent aux serveurs web d’enregistrer des informations sur l’appareil de l’utilisateur ou de suivre sa navigation (par exemple les clics sur certains boutons, la connexion ou les pages consultées auparavant). Ils peuvent aussi servir à conserver, pour un usage ultérieur, des informations que l’utilisateur a saisies dans des formulaires.</p>\n"
    '<h2 id="quels-types-de-cookies-utilisons-nous">Quels types de cookies utilisons-nous ?</h2>\n'
    "<p>Chaque cookie que nous utilisons a une origine (qui le dépose : strictement nécessaire, interne ou tiers) et une durée de vie (session ou persistant). Vous consentez séparément aux origines et aux durées de vie, et un cookie qui n’est pas strictement nécessaire n’est déposé que si vous avez consenti <strong>à la fois</strong> à son origine et à sa durée de vie. Par exemple, choisir seulement « Internes » n’autorise encore aucun cookie : choisissez aussi « Session », « Persistants » ou les deux.</p>\n"
    '<h3 id="cookies-strictement-necessaires">Cookies strictement nécessaires</h3>\n'
    "<p>Ces cookies sont nécessaires au bon fonctionnement de nos sites web, applications ou services ; ils vous permettent par exemple d’accéder aux espaces sécurisés de notre site et mémorisent vos choix en matière de cookies. Ils sont toujours actifs et ne demandent pas de consentement.</p>\n"
    '<h3 id="cookies-internes">Cookies internes</h3>\n'
    "<p>Les cookies internes sont déposés par notre propre site web. Avec votre consentement, nous les utilisons par exemple pour compter les pages vues, les visites et le nombre d’utilisateurs, et pour mémoriser vos préférences, comme votre langue.</p>\n"
    '<h3 id="cookies-tiers">Cookies tiers</h3>\n'
    "<p>Les cookies tiers sont déposés par d’autres domaines au moyen d’éléments que nous intégrons à notre site (comme le chatbot et les outils d’analyse marketing). Avec votre consentement, les services qui les déposent sont chargés ; sans lui, ils ne sont pas chargés du tout.</p>\n"
    '<h3 id="cookies-de-session">Cookies de session</h3>\n'
    "<p>Les cookies de session prennent fin lorsque vous fermez votre navigateur.</p>\n"
    '<h3 id="cookies-persistants">Cookies persistants</h3>\n'
    "<p>Les cookies persistants restent dans votre navigateur jusqu’à la date d’expiration indiquée ci-dessous pour chacun d’eux, sauf si vous les supprimez ou retirez votre consentement. Nous les utilisons pour reconnaître un navigateur qui revient. Si vous consentez à une origine et aux cookies de session mais pas aux cookies persistants, les cookies persistants de cette origine ne sont conservés que comme cookies de session.</p>\n"
    "<p>Un cookie absent du tableau ci-dessous ne vous a pas été décrit : nous le refusons donc quels que soient vos choix, jusqu’à ce que nous l’ayons classé et ajouté ici.</p>\n"
    '<h2 id="comment-iportalis-utilise-les-cookies">Comment iPortalis utilise les cookies</h2>\n'
    "<p>Lorsque vous utilisez le service et y accédez, nous déposons dans votre navigateur les cookies strictement nécessaires, et les autres cookies indiqués ci-dessous seulement dans la mesure où vous y consentez.</p>\n"
    "<p>Avec votre consentement, nous utilisons des cookies pour mieux comprendre comment vous utilisez nos services, observer les tendances d’utilisation, réaliser des analyses et personnaliser et faire fonctionner nos services, par exemple en personnalisant le contenu et en mémorisant votre langue. Les cookies strictement nécessaires assurent la sécurité des comptes et mémorisent vos choix en matière de cookies.</p>\n"
    '<h2 id="comment-nous-recueillons-des-informations">Comment nous recueillons des informations</h2>\n'
    "<p>Dans la mesure permise par le droit applicable, nous recueillons des informations vous concernant, ainsi que toute autre personne dont vous nous communiquez les coordonnées, lorsque vous :</p>\n"
    "<ul>\n"
    "<li>vous inscrivez pour utiliser nos sites web, applications ou services (y compris webinaires, essais gratuits et démonstrations) ; cela peut comprendre votre nom (y compris le nom de l’entreprise), votre adresse, votre adresse e-mail et votre numéro de téléphone. Nous pouvons aussi vous demander des informations supplémentaires sur votre entreprise et vos préférences ;</li>\n"
    "<li>passez une commande sur nos sites web, applications ou services ; cela peut comprendre votre nom (y compris le nom de l’entreprise), votre adresse, vos coordonnées (y compris numéro de téléphone et adresse e-mail) et vos informations de paiement ;</li>\n"
    "<li>utilisez nos applications, ce qui peut comprendre la collecte de métadonnées ;</li>\n"
    "<li>remplissez des formulaires en ligne (y compris des demandes de rappel), répondez à des enquêtes, publiez sur nos forums ou blogs, participez à des concours ou tirages au sort, téléchargez des informations comme des livres blancs ou d’autres publications, ou utilisez tout autre espace interactif de notre site, application ou service ;</li>\n"
    "<li>échangez avec nous sur les réseaux sociaux ;</li>\n"
    "<li>échangez avec nous par nos chatbots ;</li>\n"
    "<li>nous communiquez vos coordonnées lorsque vous vous inscrivez à des sites web, applications ou services que nous proposons ou y accédez, ou lorsque vous mettez ces coordonnées à jour ; et</li>\n"
    "<li>nous contactez hors ligne, par exemple par téléphone, fax, SMS, e-mail ou courrier.</li>\n"
    "</ul>\n"
    "<p>Nous recueillons aussi vos informations lorsque vous ne remplissez que partiellement ou abandonnez une saisie sur notre site et/ou dans d’autres formulaires en ligne, et pouvons utiliser ces informations pour vous rappeler de compléter les informations manquantes et/ou à des fins marketing.</p>\n"
    "<p>Nous recueillons également des informations provenant de vos appareils (y compris mobiles) et des applications que vous ou vos utilisateurs employez pour accéder à nos sites web, applications ou services et les utiliser (par exemple l’identifiant et le type de l’appareil, la localisation et des informations de connexion comme des statistiques sur vos pages vues, le trafic vers et depuis les sites, l’URL de provenance, des données publicitaires, votre adresse IP, votre historique de navigation et vos journaux web). Lorsque nous le faisons au moyen de cookies ou de technologies similaires, ce n’est que dans la mesure où vous y consentez.</p>\n"
    "<p>Nous pouvons compléter les données personnelles que nous recueillons auprès de vous par des informations obtenues de tiers autorisés à les partager, par exemple d’agences de crédit, de fournisseurs d’informations de recherche ou de sources publiques (par exemple pour la vérification de nos clients), mais toujours dans la mesure permise par le droit applicable.</p>\n"
    '<h2 id="si-vous-nous-communiquez-des-informations-sur-dautres-personnes">Si vous nous communiquez des informations sur d’autres personnes</h2>\n'
    "<p>Si vous nous communiquez des données personnelles concernant une autre personne, il vous appartient de respecter les obligations, y compris en matière de consentement, que le droit applicable à la protection des données impose pour cette communication. Dans la mesure où ce droit l’exige, vous devez vous assurer d’avoir fourni les informations requises et obtenu le consentement explicite de la personne, ou de disposer d’une autre base légale pour nous communiquer ces informations, et lui expliquer comment nous recueillons, utilisons, communiquons et conservons ses données personnelles, ou l’inviter à lire notre Politique de confidentialité.</p>\n"
    '<h2 id="gerer-vos-cookies">Gérer vos cookies</h2>\n'
    '<p>Vous pouvez à tout moment donner, refuser ou retirer votre consentement à chaque catégorie de cookies sur la page <a href="/cookie-settings/" rel="noopener noreferrer">Paramètres des cookies</a>, à l’exception des cookies strictement nécessaires, qui font fonctionner notre service. Retirer son consentement ne demande pas plus de clics que le donner, et les cookies que vous refusez sont supprimés immédiatement.</p>\n'
    "<p>Vous pouvez aussi supprimer ou bloquer des cookies dans les paramètres de votre navigateur (chaque navigateur a ses propres étapes), sur chacun des appareils que vous utilisez.</p>\n"
    '<h2 id="en-savoir-plus-sur-chacun-des-cookies-que-nous-utilisons">En savoir plus sur chacun des cookies que nous utilisons</h2>\n'
    "<p>Voici les cookies que nous utilisons sur ce site. C’est la même liste qui décide quels cookies vos choix autorisent : elle montre donc toujours ce que fait le site.</p>\n"
    '<div class="table-scroll" id="cookies-in-use">\n'
    '<table class="cookie-table">\n'
    '<thead><tr><th scope="col">Cookie</th><th scope="col">Fournisseur</th><th scope="col">Catégorie</th><th scope="col">Finalité</th><th scope="col">Durée</th></tr></thead>\n'
    "<tbody>\n"
    "<tr><td><code>csrftoken</code></td><td>iPortalis</td><td>Strictement nécessaires</td><td>Protège les formulaires contre la falsification de requêtes intersites.</td><td>1 an</td></tr>\n"
    "<tr><td><code>iportalis_consent</code></td><td>iPortalis</td><td>Strictement nécessaires</td><td>Mémorise vos choix en matière de cookies et votre identifiant de consentement.</td><td>12 mois</td></tr>\n"
    "<tr><td><code>sessionid</code></td><td>iPortalis</td><td>Strictement nécessaires</td><td>Garde le personnel connecté aux espaces sécurisés du site.</td><td>2 semaines</td></tr>\n"
    "<tr><td><code>_pk_id.*</code></td><td>iPortalis</td><td>Internes</td><td>Reconnaît un navigateur qui revient pour compter les visiteurs uniques.</td><td>13 mois</td></tr>\n"
    "<tr><td><code>_pk_ses.*</code></td><td>iPortalis</td><td>Internes</td><td>Regroupe les pages que vous consultez en une seule visite.</td><td>30 minutes</td></tr>\n"
    "<tr><td><code>django_language</code></td><td>iPortalis</td><td>Internes</td><td>Mémorise la langue que vous avez choisie.</td><td>1 an</td></tr>\n"
    "<tr><td><code>__hs_*</code></td><td>HubSpot, Inc.</td><td>Tiers</td><td>Autres cookies de préférences et de refus de HubSpot.</td><td>Jusqu’à 13 mois</td></tr>\n"
    "<tr><td><code>__hssc</code></td><td>HubSpot, Inc.</td><td>Tiers</td><td>Compte les pages vues au cours d’une visite.</td><td>30 minutes</td></tr>\n"
    "<tr><td><code>__hssrc</code></td><td>HubSpot, Inc.</td><td>Tiers</td><td>Détecte le redémarrage du navigateur.</td><td>Session</td></tr>\n"
    "<tr><td><code>__hstc</code></td><td>HubSpot, Inc.</td><td>Tiers</td><td>Suit les visiteurs : domaine, première et dernière visite, nombre de visites.</td><td>13 mois</td></tr>\n"
    "<tr><td><code>hubspotutk</code></td><td>HubSpot, Inc.</td><td>Tiers</td><td>Identifie un visiteur auprès de HubSpot d’une visite à l’autre.</td><td>13 mois</td></tr>\n"
    "<tr><td><code>intercom-device-id-*</code></td><td>Intercom, Inc.</td><td>Tiers</td><td>Reconnaît l’appareil depuis lequel vous utilisez le chat.</td><td>9 mois</td></tr>\n"
    "<tr><td><code>intercom-id-*</code></td><td>Intercom, Inc.</td><td>Tiers</td><td>Vous reconnaît pour que le chat puisse afficher vos conversations précédentes.</td><td>9 mois</td></tr>\n"
    "<tr><td><code>intercom-session-*</code></td><td>Intercom, Inc.</td><td>Tiers</td><td>Garde le chat ouvert pendant que vous passez d’une page à l’autre.</td><td>1 semaine</td></tr>\n"
    "</tbody>\n"
    "</table>\n"
    "</div>\n"
    '<h3 id="cookies-tiers_1">Cookies tiers</h3>\n'
    "<p>HubSpot et nos partenaires utilisent des cookies ou des technologies similaires (comme des balises web et JavaScript) pour analyser les tendances, administrer le site, suivre les déplacements des utilisateurs sur le site et recueillir des informations démographiques sur l’ensemble de nos utilisateurs. Les cookies d’Intercom permettent à notre chat d’assistance de vous reconnaître et de garder une conversation ouverte. Ces services ne sont chargés que si vous consentez aux cookies tiers.</p>\n"
    '<h2 id="modifications-de-cette-politique-relative-aux-cookies">Modifications de cette politique relative aux cookies</h2>\n'
    "<p>Nous pouvons modifier cette politique relative aux cookies de temps à autre. Nous ne réduirons cependant pas vos droits au titre de cette politique. Chaque version reste publiée, avec une page qui montre ce qui a changé, et lorsqu’une modification touche à ce à quoi vous avez consenti, nous vous demandons à nouveau votre consentement.</p>\n"
    '<h2 id="plus-dinformations">Plus d’informations</h2>\n'
    '<p>Pour plus d’informations sur les cookies et sur la manière de régler votre navigateur pour accepter, supprimer ou refuser des cookies, consultez la page <a href="https://www.cnil.fr/fr/cookies-et-autres-traceurs" rel="noopener noreferrer">Cookies et autres traceurs</a> de la CNIL.</p>'
)

CONTENT_SHA256 = "061de5882b5151da0b1b3ef14bd27fa5921196977862f87496942662968a6326"

VERSION = {
    "language": "fr",
    "number": 2,
    "title": "Politique relative aux cookies",
    "summary": "Une révision rédactionnelle de la version 1 anglaise, pour la première fois en français. La simple utilisation du site ne vaut plus consentement : sans lui, seuls les cookies strictement nécessaires sont déposés. Les catégories sont décrites telles que le site les applique (un cookie demande le consentement à son origine et à sa durée de vie, et un cookie absent du tableau est refusé). Les phrases interrompues sont complétées, les titres vides supprimés, et « Gérer vos cookies » mène à la page Paramètres des cookies. Comme ce à quoi vous consentez est décrit autrement, chacun est à nouveau sollicité.",
    "effective_date": datetime.date(2026, 12, 1),
    "material": True,
}


def publish(policy_version_model):
    """Publish the version unless it exists (the model may be historical)."""
    if policy_version_model.objects.filter(language="fr", number=2).exists():
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
    dependencies = [("policy", "0005_policy_version_2_de")]

    # Going back leaves the row: a published version may not be deleted, not even by a migration.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
