// The one poller of the pages that follow work done in the background: asks the JSON status
// at `url` (same origin) 1 s after the page loads, then every `everyMs`, and hands each answer
// (null when the server refused it) to `handle`, which says whether there is nothing left to
// wait for. A network error is retried after 5 s; after `limitMs` it stops and calls `giveUp`
// if given. Loaded (deferred) before the page's own script, which calls it.
"use strict";
window.parapheFollowJson = function (url, options) {
  var started = Date.now();
  var poll = function () {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (options.handle(body)) {
          return;
        }
        if (Date.now() - started > options.limitMs) {
          if (options.giveUp) {
            options.giveUp();
          }
          return;
        }
        window.setTimeout(poll, options.everyMs);
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  };
  window.setTimeout(poll, 1000);
};
