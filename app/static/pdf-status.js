// Follows PDFs being produced in the background (invoice page): polls the JSON status named by
// #pdf-status every 2 s (follow-json.js) and, as each PDF is archived, replaces its "PDF en
// préparation" text (an element marked data-pdf-key: "invoice" or a credit note's id) by its
// download link. No reload: the page's forms keep what was typed. Stops once every PDF is
// there, or after 10 minutes (a PDF that failed is produced by the hourly sweep; the page says so).
// The invoice's PDF archived, it sends "paraphe:pdf-archived": the mails' poller starts then.
"use strict";
(function () {
  var status = document.getElementById("pdf-status");
  if (!status) {
    return;
  }

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

  window.parapheFollowJson(status.getAttribute("data-url"), {
    everyMs: 2000,
    limitMs: 10 * 60 * 1000,
    handle: function (body) {
      if (body) {
        pending().forEach(function (element) {
          var key = element.getAttribute("data-pdf-key");
          var state = key === "invoice" ? body.invoice : body.credit_notes[key];
          if (state && state.ready) {
            show(element, state.url);
            if (key === "invoice") {
              // what the invoice's mails waited for (progress.js, data-after)
              document.dispatchEvent(new CustomEvent("paraphe:pdf-archived"));
            }
          }
        });
      }
      return pending().length === 0;
    },
    giveUp: function () {
      pending().forEach(function (element) {
        element.textContent = "PDF toujours en préparation : rechargez la page plus tard.";
      });
    },
  });
})();
