// The signing page while the contract's page images are being rendered (the job
// signatures.page_images): asks #pages-area's data-url every 2 s (5 s after the first minute)
// and, once the server answers with the pages (200, an HTML fragment it rendered and escaped),
// puts them in place of the notice. No reload: a code being typed stays. Stops after
// 10 minutes with the PDF and a reload link as the way to read. Without JavaScript, the
// notice's <noscript> link reloads the page.
"use strict";
(function () {
  var area = document.getElementById("pages-area");
  var url = area && area.getAttribute("data-url");
  if (!url) {
    return;
  }
  var wait = document.getElementById("pages-wait");
  if (wait) {
    wait.hidden = false;
  }
  var started = Date.now();
  var LIMIT_MS = 10 * 60 * 1000;

  var giveUp = function () {
    var notice = document.getElementById("pages-pending");
    if (!notice) {
      return;
    }
    var link = document.createElement("a");
    link.href = window.location.pathname;
    link.textContent = "actualisez la page";
    notice.textContent =
      "Les pages du contrat sont toujours en préparation : lisez-le en PDF avec le bouton " +
      "ci-dessus, ou ";
    notice.appendChild(link);
    notice.appendChild(document.createTextNode(" plus tard."));
  };

  var show = function (html) {
    var parsed = new DOMParser().parseFromString(html, "text/html");
    area.replaceChildren.apply(area, Array.prototype.slice.call(parsed.body.childNodes));
    area.removeAttribute("data-url");
  };

  var poll = function () {
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.status === 200 ? response.text() : null;
      })
      .then(function (html) {
        if (html) {
          show(html);
          return;
        }
        var elapsed = Date.now() - started;
        if (elapsed > LIMIT_MS) {
          giveUp();
          return;
        }
        window.setTimeout(poll, elapsed < 60 * 1000 ? 2000 : 5000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  };
  window.setTimeout(poll, 1000);
})();
