// Follows a restitution archive built in the background (the contact's page): polls the JSON
// status named by #restitution-status every 4 s (follow-json.js; the pages of this blueprint
// are limited to 30 requests a minute) and shows its sentence, until the archive is ready (the
// link went by mail) or failed. Stops after 15 minutes: the mail still comes.
"use strict";
(function () {
  var status = document.getElementById("restitution-status");
  if (!status) {
    return;
  }
  window.parapheFollowJson(status.getAttribute("data-url"), {
    everyMs: 4000,
    limitMs: 15 * 60 * 1000,
    handle: function (body) {
      if (!body) {
        return false;
      }
      status.textContent = body.message;
      return body.status !== "pending";
    },
  });
})();
