// Perennial's small enhancements. Every page works without them; each one looks for its own
// markers (data attributes) and does nothing on pages without them. No inline scripts or
// handlers anywhere (the pages run under a strict Content-Security-Policy).
(function () {
  "use strict";

  // "Insert token": a click inserts the token at the cursor of the last field used among the
  // picker's targets (the first one until another is used), and the list can be searched.
  function tokenPickers() {
    document.querySelectorAll("[data-token-picker]").forEach(function (picker) {
      var ids = (picker.getAttribute("data-targets") || "").split(/\s+/).filter(Boolean);
      var fields = ids.map(function (id) { return document.getElementById(id); }).filter(Boolean);
      if (!fields.length) return;
      var target = fields[fields.length - 1];
      fields.forEach(function (f) {
        f.addEventListener("focus", function () { target = f; });
      });
      picker.classList.add("is-live");
      picker.querySelectorAll(".token-insert").forEach(function (b) { b.hidden = false; });
      var help = picker.querySelector(".token-help");
      if (help) help.textContent = "Click a property to insert its token where the cursor is.";
      var search = picker.querySelector(".token-search");
      if (search) {
        search.hidden = false;
        search.addEventListener("input", function () {
          var q = search.value.trim().toLowerCase();
          picker.querySelectorAll(".token-list li").forEach(function (li) {
            li.hidden = q !== "" && li.textContent.toLowerCase().indexOf(q) < 0;
          });
        });
      }
      picker.addEventListener("click", function (e) {
        var b = e.target.closest ? e.target.closest(".token-insert") : null;
        if (!b) return;
        e.preventDefault();
        insertAtCursor(target, b.getAttribute("data-token"));
        picker.open = false;
      });
    });
  }

  function insertAtCursor(field, text) {
    var start = typeof field.selectionStart === "number" ? field.selectionStart : field.value.length;
    var end = typeof field.selectionEnd === "number" ? field.selectionEnd : start;
    field.focus();
    if (typeof field.setRangeText === "function") {
      field.setRangeText(text, start, end, "end");
    } else {
      field.value = field.value.slice(0, start) + text + field.value.slice(end);
    }
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // The property form: the internal name follows the label until someone edits it.
  function propertyName() {
    var label = document.querySelector("[data-name-from]");
    if (!label) return;
    var name = document.getElementById(label.getAttribute("data-name-from"));
    if (!name) return;
    var touched = name.value !== "" && name.value !== slug(label.value);
    name.addEventListener("input", function () { touched = name.value !== ""; });
    label.addEventListener("input", function () {
      if (!touched) name.value = slug(label.value);
    });
  }

  // The same rule as `domain::labels::internal_name_from_label`.
  function slug(label) {
    var s = label.normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
      .replace(/ß/g, "ss").replace(/[æÆ]/g, "ae").replace(/[øØ]/g, "o").replace(/[œŒ]/g, "oe")
      .replace(/[łŁ]/g, "l").replace(/[ðÐ]/g, "d").replace(/[þÞ]/g, "th")
      .toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
    if (/^[0-9]/.test(s)) s = "p_" + s;
    return s.slice(0, 64).replace(/_+$/, "");
  }

  // Review and publish while its figures are being counted (`data-counting`): fetch the page
  // again until the count is done, then show the new figures, keeping the choice made.
  function reviewCount() {
    if (!document.querySelector("[data-counting]") || !window.fetch || !window.DOMParser) return;
    var tries = 0;
    function poll() {
      tries += 1;
      if (tries > 120) return;
      fetch(location.pathname, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.querySelector("[data-review]");
          var shown = document.querySelector("[data-review]");
          if (!fresh || !shown) return;
          if (fresh.querySelector("[data-counting]")) {
            setTimeout(poll, 1500);
            return;
          }
          var chosen = shown.querySelector("input[type=radio]:checked");
          var next = document.importNode(fresh, true);
          shown.replaceWith(next);
          if (chosen) {
            var same = next.querySelector("input[name='" + chosen.name + "'][value='" + chosen.value + "']");
            if (same) same.checked = true;
          }
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    setTimeout(poll, 1000);
  }

  function start() {
    tokenPickers();
    propertyName();
    reviewCount();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
