// Follows PDFs being produced in the background (invoice page): polls the JSON status named by
// #pdf-status every 2 s and, as each PDF is archived, replaces its "PDF en préparation" text
// (an element marked data-pdf-key: "invoice" or a credit note's id) by its download link.
// No reload: the page's forms keep what was typed. Stops once every PDF is there, or after
// 10 minutes (a PDF that failed is produced by the hourly sweep; the page says so).
"use strict";
(function () {
  var status = document.getElementById("pdf-status");
  if (!status) {
    return;
  }
  var url = status.getAttribute("data-url");
  var started = Date.now();
  var LIMIT_MS = 10 * 60 * 1000;

  var pending = function () {
    return document.querySelectorAll("[data-pdf-key]");
  };

  var show = function (element, link) {
    var anchor = document.createElement("a");
    anchor.href = link;
    anchor.textContent = element.getAttribute("data-pdf-label");
    if (element.getAttribute("data-pdf-class")) {
      anchor.className = element.getAttribute("data-pdf-class");
    }
    element.textContent = "";
    element.removeAttribute("data-pdf-key");
    element.classList.remove("meta");
    element.appendChild(anchor);
  };

  var poll = function () {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (body) {
          pending().forEach(function (element) {
            var key = element.getAttribute("data-pdf-key");
            var state = key === "invoice" ? body.invoice : body.credit_notes[key];
            if (state && state.ready) {
              show(element, state.url);
            }
          });
        }
        if (pending().length === 0) {
          return;
        }
        if (Date.now() - started > LIMIT_MS) {
          pending().forEach(function (element) {
            element.textContent =
              "PDF toujours en préparation : rechargez la page plus tard.";
          });
          return;
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  };
  window.setTimeout(poll, 1000);
})();
