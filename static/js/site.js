// Progressive enhancement only: every page works without this file.
// "Use my current location" fills the hidden lat/lon fields from the browser.
(function () {
  "use strict";
  var button = document.querySelector("[data-use-location]");
  if (!button || !("geolocation" in navigator)) { return; }
  var lat = document.querySelector("[data-geo=lat]");
  var lon = document.querySelector("[data-geo=lon]");
  var place = document.getElementById("location");
  button.hidden = false;
  button.addEventListener("click", function () {
    button.textContent = "Finding your location…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      lat.value = pos.coords.latitude.toFixed(5);
      lon.value = pos.coords.longitude.toFixed(5);
      if (place) { place.value = ""; place.placeholder = "Using your current location"; }
      button.textContent = "Using your current location";
    }, function () {
      button.textContent = "Location not available: please type a city or ZIP code";
    }, { timeout: 10000, maximumAge: 600000 });
  });
  if (place) {
    place.addEventListener("input", function () { lat.value = ""; lon.value = ""; });
  }
})();

// A form shown again with errors: move the focus to the first field in error, so keyboard
// and screen-reader users land where the fix is (the error summary is announced as an alert),
// and show the summary at the top of the screen: on a phone the field alone would leave the
// list of what to fix out of sight. Typing in the field scrolls it into view.
(function () {
  "use strict";
  var first = document.querySelector("[aria-invalid=true]");
  if (!first) { return; }
  var summary = document.getElementById("error-summary");
  first.focus({ preventScroll: Boolean(summary) });
  if (summary) { summary.scrollIntoView({ block: "start" }); }
})();

// The contact form: choosing a preferred language marks the sites whose team speaks it
// (the server marks them too when the form is shown again).
(function () {
  "use strict";
  var select = document.getElementById("language");
  if (!select) { return; }
  select.addEventListener("change", function () {
    var code = select.value;
    var option = select.options[select.selectedIndex];
    var name = option ? option.text : "";
    document.querySelectorAll(".site-option[data-languages]").forEach(function (site) {
      var line = site.querySelector(".site-languages");
      var badge = site.querySelector(".badge-language");
      var speaks = code && (" " + site.getAttribute("data-languages") + " ").indexOf(" " + code + " ") >= 0;
      if (speaks && line) {
        if (!badge) {
          badge = document.createElement("span");
          badge.className = "badge badge-language";
          line.appendChild(document.createTextNode(" "));
          line.appendChild(badge);
        }
        badge.textContent = "Speaks " + name;
      } else if (badge) {
        badge.remove();
      }
    });
  });
})();

// The results page folds the search into one line on a phone. Wide screens show the whole
// form by style (::details-content, site.css); where a browser cannot, open it here.
(function () {
  "use strict";
  var details = document.querySelector("details.change-search");
  if (!details || (window.CSS && CSS.supports && CSS.supports("selector(::details-content)"))) { return; }
  if (window.matchMedia("(min-width: 48em)").matches) { details.open = true; }
})();
