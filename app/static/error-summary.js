// The error summary at the top of a refused form (_error_summary.html): focused on load, so
// that a screen reader reads it and a phone shows it; each link focuses its field (following
// an anchor only scrolls), the field's label kept in view above it.
"use strict";
(function () {
  var summary = document.getElementById("error-summary");
  if (!summary) {
    return;
  }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) {
      return;
    }
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) {
      return;
    }
    event.preventDefault();
    field.focus({ preventScroll: true });
    field.scrollIntoView({ block: "center" });
  });
})();
