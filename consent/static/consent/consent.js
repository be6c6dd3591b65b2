// iPortalis consent: Google Consent Mode defaults, the banner without reloads, and scripts that
// wait for consent. Loaded in <head> before any tag; no framework, nothing from another host.
(function () {
  "use strict";

  var stateElement = document.getElementById("consent-state");
  var state = stateElement ? JSON.parse(stateElement.textContent) : { choices: {}, decided: false };

  // Google Consent Mode v2: everything denied until the visitor decides.
  window.dataLayer = window.dataLayer || [];
  function gtag() { window.dataLayer.push(arguments); }
  window.gtag = window.gtag || gtag;

  function consentModeFor(choices) {
    var first = choices["first-party"] ? "granted" : "denied";
    var third = choices["third-party"] ? "granted" : "denied";
    return {
      analytics_storage: first,
      functionality_storage: first,
      personalization_storage: first,
      ad_storage: third,
      ad_user_data: third,
      ad_personalization: third,
      security_storage: "granted"
    };
  }

  gtag("consent", "default", consentModeFor({}));
  if (state.decided && !state.needs_decision) {
    gtag("consent", "update", consentModeFor(state.choices));
  }

  function granted(categories) {
    return categories.split(/\s+/).every(function (slug) { return state.choices[slug] === true; });
  }

  // Replace each inert script whose categories are now all consented by a live copy.
  function activateScripts() {
    var inert = document.querySelectorAll('script[type="text/plain"][data-consent]');
    Array.prototype.forEach.call(inert, function (old) {
      if (!granted(old.getAttribute("data-consent"))) { return; }
      var live = document.createElement("script");
      Array.prototype.forEach.call(old.attributes, function (attr) {
        if (attr.name !== "type") { live.setAttribute(attr.name, attr.value); }
      });
      if (old.nonce) { live.nonce = old.nonce; }
      live.text = old.text;
      old.parentNode.replaceChild(live, old);
    });
  }

  // Show, under the switches, the words for the combination they are in (the server wrote the
  // words for every combination; see the consent_allows template tag).
  function followSwitches(form) {
    var SWITCHES = ["first-party", "third-party", "session", "persistent"];
    function update() {
      var key = SWITCHES.map(function (slug) {
        var box = form.elements.namedItem(slug);
        return box && box.checked ? "1" : "0";
      }).join("");
      Array.prototype.forEach.call(form.querySelectorAll("[data-consent-allows]"), function (place) {
        Array.prototype.forEach.call(place.querySelectorAll("[data-allows]"), function (words) {
          var shown = words.getAttribute("data-allows").split(" ").indexOf(key) !== -1;
          if (words.hidden === shown) { words.hidden = !shown; }
        });
      });
    }
    form.addEventListener("change", update);
    update();
  }

  function setUpBanner() {
    var banner = document.querySelector("[data-consent-banner]");
    if (!banner) { return; }
    var form = banner.querySelector("form");
    var status = document.getElementById("consent-status");
    // The banner sits in the page's flow and takes no focus on load: the skip link stays the
    // first tab stop, and the banner the next one.
    var returnFocusTo = document.activeElement;
    var choose = banner.querySelector("[data-consent-choose]");
    var back = banner.querySelector("[data-consent-back]");
    followSwitches(form);

    // The preferences are the second layer: "Back" (and Esc) returns to the first.
    function backToFirstLayer() {
      choose.open = false;
      choose.querySelector("summary").focus();
    }
    if (back) {
      back.hidden = false;
      back.addEventListener("click", backToFirstLayer);
    }

    function choicesFromForm() {
      var choices = {};
      state.optional.forEach(function (slug) {
        var box = form.elements.namedItem(slug);
        choices[slug] = Boolean(box && box.checked);
      });
      return choices;
    }

    function close() {
      banner.hidden = true;
      var target = returnFocusTo && returnFocusTo !== document.body && document.contains(returnFocusTo)
        ? returnFocusTo : document.getElementById("main");
      if (target === document.getElementById("main")) { target.setAttribute("tabindex", "-1"); }
      target.focus();
    }

    // Without this script the form posts and the page reloads; with it, the same decision goes to
    // the JSON API. When the site answers "not now" (the database is away, too many requests),
    // the banner stays, says so, and sends the same choice again when the answer says to; a
    // click meanwhile sends the newer choice at once. Any other failure falls back to the plain
    // form post, which records the decision without this script.
    // One decision at a time: Esc or a second click while one is on its way is ignored.
    var sending = false;
    var retryTimer = null;
    var retryDelay = 0;
    var retryNote = banner.querySelector("[data-consent-retry]");
    var TRY_LATER = [429, 502, 503, 504];

    function decide(action, submitter) {
      if (sending) { return; }
      clearTimeout(retryTimer);
      send({ action: action, choices: action === "custom" ? choicesFromForm() : {}, submitter: submitter });
    }

    function send(decision) {
      sending = true;
      var token = form.elements.namedItem("csrfmiddlewaretoken").value;
      fetch(state.api, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token, "Accept": "application/json" },
        body: JSON.stringify({
          action: decision.action,
          choices: decision.choices,
          surface: "banner",
          path: window.location.pathname
        })
      }).then(function (response) {
        if (TRY_LATER.indexOf(response.status) !== -1) {
          retryLater(decision, response.headers.get("Retry-After"));
          return;
        }
        if (!response.ok) { throw new Error("consent API answered " + response.status); }
        return response.json().then(saved);
      }).catch(function () {
        postForm(decision);
      });
    }

    function retryLater(decision, retryAfter) {
      sending = false;
      // The server's Retry-After if it gave one, else 2, 4, 8... seconds; never more than a minute.
      retryDelay = Math.min(60, Number(retryAfter) > 0 ? Number(retryAfter) : Math.max(2, retryDelay * 2));
      if (retryNote) { retryNote.hidden = false; }
      retryTimer = setTimeout(function () { send(decision); }, retryDelay * 1000);
    }

    function saved(newState) {
      newState.api = state.api;
      state = newState;
      gtag("consent", "update", consentModeFor(state.choices));
      activateScripts();
      if (retryNote) { retryNote.hidden = true; }
      if (status) { status.textContent = banner.getAttribute("data-saved-text") || ""; }
      close();
    }

    function postForm(decision) {
      var hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = "action";
      hidden.value = decision.action;
      form.appendChild(hidden);
      if (decision.submitter) { decision.submitter.disabled = true; }
      HTMLFormElement.prototype.submit.call(form);
    }

    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (!submitter || submitter.name !== "action") { return; }
      event.preventDefault();
      decide(submitter.value, submitter);
    });

    // Esc in the preferences goes back to the first layer; Esc on the first layer counts as
    // "Reject all": closing the banner is never consent.
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || banner.hidden) { return; }
      event.preventDefault();
      if (choose && choose.open) {
        backToFirstLayer();
        return;
      }
      decide("reject_all", null);
    });
  }

  // The settings page says when the visitor's decision is not in the signed log yet. Ask the
  // receipt again now and then until it is; the download link stays the same and works without
  // this script: it holds the log's promise before integration and the full proof after.
  function setUpReceipt() {
    var section = document.querySelector("[data-consent-receipt][data-pending]");
    if (!section || !window.fetch) { return; }
    var link = section.querySelector("a");
    var status = section.querySelector("[data-consent-receipt-status]");
    var tries = 0;

    function check() {
      tries += 1;
      fetch(link.href, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (receipt) {
          if (receipt && receipt.log && receipt.log.integrated !== false) {
            section.removeAttribute("data-pending");
            if (status) { status.textContent = section.getAttribute("data-integrated-text") || ""; }
          } else if (receipt && tries < 30) {
            setTimeout(check, Math.min(10, tries) * 1000);
          }
        })
        .catch(function () { /* offline or gone: the link still works */ });
    }
    setTimeout(check, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    activateScripts();
    setUpBanner();
    setUpReceipt();
    var settings = document.querySelector("form[data-consent-settings]");
    if (settings) { followSwitches(settings); }
  });
})();
