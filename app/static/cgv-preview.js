// The preview of a CGV version (terms/preview.html): its PDF is rendered by a job. Polls the
// JSON status every 1.5 s and reloads the page once the PDF is there (the link and the
// enabled "Publier" button come with it). Without JavaScript, reloading the page does the same.
(function () {
  "use strict";
  var box = document.getElementById("preview-pdf");
  if (!box || !box.dataset.pending) {
    return;
  }
  var started = Date.now();
  var timer = window.setInterval(function () {
    if (Date.now() - started > 10 * 60 * 1000) {
      window.clearInterval(timer); // a rendering that failed is retried by its job
      return;
    }
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (status) {
        if (status && status.rendered) {
          window.clearInterval(timer);
          window.location.reload();
        }
      })
      .catch(function () {
        // a failed poll leaves the page as it is; the next one retries
      });
  }, 1500);
})();
