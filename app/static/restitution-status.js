// Follows a restitution archive built in the background (the contact's page): polls the JSON
// status named by #restitution-status every 4 s (the pages of this blueprint are limited to 30 requests a minute) and shows its sentence, until the archive is
// ready (the link went by mail) or failed. Stops after 15 minutes: the mail still comes.
"use strict";
(function () {
  var status = document.getElementById("restitution-status");
  if (!status) {
    return;
  }
  var url = status.getAttribute("data-url");
  var started = Date.now();
  var poll = function () {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (body) {
          status.textContent = body.message;
          if (body.status !== "pending") {
            return;
          }
        }
        if (Date.now() - started < 15 * 60 * 1000) {
          window.setTimeout(poll, 4000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  };
  window.setTimeout(poll, 1000);
})();
