// The notification progress of a CGV version (terms/show.html): polls the JSON endpoint every
// 2 s while mails leave, updates the sentence, stops when every client is notified. Without
// JavaScript the page shows the number of its load.
(function () {
  "use strict";
  var box = document.getElementById("notification-progress");
  if (!box || !box.dataset.progressUrl) {
    return;
  }
  var text = box.querySelector("[data-progress-text]");
  var state = box.querySelector("[data-progress-state]");
  var timer = window.setInterval(poll, 2000);

  function poll() {
    fetch(box.dataset.progressUrl, { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (progress) {
        text.textContent = progress.text;
        if (progress.done) {
          state.textContent = "";
          window.clearInterval(timer);
        }
      })
      .catch(function () {
        // a failed poll (network, session ended) leaves the last number; the next one retries
      });
  }
})();
