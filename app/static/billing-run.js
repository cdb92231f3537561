// Follows a billing run asked for on the plans page (its job: en attente, en cours, terminé):
// polls the JSON status named by #billing-run every 2 s (follow-json.js) and puts the section
// the server renders (escaped there) in place of the one shown, until the run is finished.
// Without JavaScript, the page's reload link does the same.
"use strict";
(function () {
  var section = document.getElementById("billing-run");
  if (!section) {
    return;
  }
  window.parapheFollowJson(section.getAttribute("data-url"), {
    everyMs: 2000,
    limitMs: 30 * 60 * 1000,
    handle: function (body) {
      if (!body) {
        return false;
      }
      var parsed = new DOMParser().parseFromString(body.html, "text/html");
      section.replaceChildren.apply(section, Array.prototype.slice.call(parsed.body.childNodes));
      section.setAttribute("data-stage", body.stage);
      return !body.poll_after;
    },
  });
})();
