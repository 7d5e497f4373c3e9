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

// Notes (templates/notes/notes.html): kept in this browser only (localStorage), one entry per
// study, until the patient shares them. On the study page, selecting text offers "Add a note"
// on that passage; the notes page restores and saves answers, notes and passages as they are
// typed, and "Clear my notes" empties them (a shared computer).
(function () {
  "use strict";
  var PREFIX = "trialfinder-notes:";
  var MAX_QUOTE = 1000;
  var MAX_QUOTES = 30;

  function load(id) {
    try {
      var raw = window.localStorage.getItem(PREFIX + id);
      var data = raw ? JSON.parse(raw) : null;
      if (data && typeof data === "object") {
        return { answers: data.answers || {}, notes: data.notes || {}, quotes: data.quotes || [], note: data.note || "" };
      }
    } catch (e) { /* storage off or damaged: start empty */ }
    return { answers: {}, notes: {}, quotes: [], note: "" };
  }
  function save(id, data) {
    try { window.localStorage.setItem(PREFIX + id, JSON.stringify(data)); return true; } catch (e) { return false; }
  }
  function clear(id) {
    try { window.localStorage.removeItem(PREFIX + id); } catch (e) { /* nothing kept */ }
  }

  // The study page: "Add a note" on a selected passage.
  var link = document.querySelector("[data-notes-link]");
  var article = document.querySelector("article.study");
  if (link && article) {
    var id = link.getAttribute("data-notes-link");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button add-note";
    button.textContent = "Add a note";
    button.hidden = true;
    document.body.appendChild(button);
    var picked = "";
    var place = function () {
      var sel = window.getSelection();
      var text = sel && sel.rangeCount ? sel.toString().replace(/\s+/g, " ").trim() : "";
      if (!text || text.length < 3 || !article.contains(sel.anchorNode) || !article.contains(sel.focusNode)) {
        if (document.activeElement !== button) { button.hidden = true; }
        return;
      }
      picked = text.slice(0, MAX_QUOTE);
      var box = sel.getRangeAt(0).getBoundingClientRect();
      button.style.top = (window.scrollY + box.bottom + 8) + "px";
      button.style.left = Math.max(8, Math.min(window.scrollX + box.left, window.scrollX + document.documentElement.clientWidth - 160)) + "px";
      button.hidden = false;
    };
    document.addEventListener("selectionchange", function () { window.setTimeout(place, 0); });
    button.addEventListener("mousedown", function (event) { event.preventDefault(); }); // keep the selection
    button.addEventListener("click", function () {
      if (!picked || !id) { return; }
      var data = load(id);
      var seen = data.quotes.some(function (q) { return q.text === picked; });
      if (!seen && data.quotes.length < MAX_QUOTES) { data.quotes.push({ text: picked, note: "" }); }
      save(id, data);
      window.location.href = link.getAttribute("href") + "#quote-note-" + data.quotes.length;
    });
  }

  // The notes page.
  var form = document.querySelector("form[data-notes]");
  if (!form) { return; }
  var study = form.getAttribute("data-notes");
  var section = form.querySelector("[data-quotes]");
  var clearButton = form.querySelector("[data-clear-notes]");

  function collect() {
    var data = { answers: {}, notes: {}, quotes: [], note: "" };
    form.querySelectorAll("input[type=radio][name^='answer-']:checked").forEach(function (input) {
      data.answers[input.name.slice(7)] = input.value;
    });
    form.querySelectorAll("textarea[name^='note-']").forEach(function (area) {
      if (area.value) { data.notes[area.name.slice(5)] = area.value; }
    });
    form.querySelectorAll("input[type=hidden][name^='quote-']").forEach(function (input) {
      var area = form.querySelector("textarea[name='quote-note-" + input.name.slice(6) + "']");
      data.quotes.push({ text: input.value, note: area ? area.value : "" });
    });
    var overall = form.querySelector("textarea[name=note]");
    data.note = overall ? overall.value : "";
    return data;
  }

  function drawQuotes(quotes) {
    section.querySelectorAll(".quote, [data-quotes-empty]").forEach(function (node) { node.remove(); });
    if (!quotes.length) {
      var empty = document.createElement("p");
      empty.className = "help";
      empty.setAttribute("data-quotes-empty", "");
      empty.textContent = "None yet. On the study page, select a passage and press \u201cAdd a note\u201d to keep it here with your note.";
      section.appendChild(empty);
      return;
    }
    quotes.forEach(function (quote, index) {
      var n = index + 1;
      var box = document.createElement("div");
      box.className = "quote";
      var block = document.createElement("blockquote");
      block.textContent = quote.text;
      var hidden = document.createElement("input");
      hidden.type = "hidden"; hidden.name = "quote-" + n; hidden.value = quote.text;
      var label = document.createElement("label");
      label.htmlFor = "quote-note-" + n; label.textContent = "Your note on this passage";
      var area = document.createElement("textarea");
      area.id = "quote-note-" + n; area.name = "quote-note-" + n; area.rows = 2; area.maxLength = 2000;
      area.value = quote.note || "";
      var remove = document.createElement("button");
      remove.type = "button"; remove.className = "link-button quote-remove";
      remove.textContent = "Remove this passage";
      remove.addEventListener("click", function () {
        var data = collect();
        data.quotes.splice(index, 1);
        save(study, data);
        drawQuotes(data.quotes);
      });
      box.append(block, hidden, label, area, remove);
      section.appendChild(box);
    });
  }

  function restore(data) {
    Object.keys(data.answers).forEach(function (n) {
      var radio = form.querySelector("input[name='answer-" + n + "'][value='" + data.answers[n] + "']");
      if (radio) { radio.checked = true; }
    });
    Object.keys(data.notes).forEach(function (n) {
      var area = form.querySelector("textarea[name='note-" + n + "']");
      if (area) { area.value = data.notes[n]; }
    });
    var overall = form.querySelector("textarea[name=note]");
    if (overall && data.note) { overall.value = data.note; }
    drawQuotes(data.quotes);
  }

  if (form.hasAttribute("data-posted")) {
    save(study, collect()); // the page came back from the server with what was sent: keep it
    drawQuotes(collect().quotes);
  } else {
    restore(load(study));
  }
  var target = window.location.hash && document.getElementById(window.location.hash.slice(1));
  if (target) { target.focus(); }
  form.addEventListener("input", function () { save(study, collect()); });
  form.addEventListener("change", function () { save(study, collect()); });
  if (clearButton) {
    clearButton.hidden = false;
    clearButton.addEventListener("click", function () {
      clear(study);
      form.querySelectorAll("input[type=radio][name^='answer-']").forEach(function (r) { r.checked = false; });
      form.querySelectorAll("textarea").forEach(function (area) { area.value = ""; });
      drawQuotes([]);
      var status = document.getElementById("notes-status");
      if (status) { status.textContent = "Your notes are cleared from this browser."; }
    });
  }
})();
