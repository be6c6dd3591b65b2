// Stands in for a third-party chat widget: it runs only once third-party and persistent cookies
// are allowed, which the home page shows.
(function () {
  "use strict";
  var status = document.getElementById("demo-widget");
  if (status) {
    status.textContent = status.getAttribute("data-loaded-text");
    status.setAttribute("data-demo-widget", "loaded");
  }
})();
