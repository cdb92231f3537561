// Pages that follow work done in the background (the seal after the last signature) without a
// reload: each element with data-progress-url asks that address for JSON, every
// data-poll-after seconds, as long as the answer gives a next delay (poll_after). A failed
// request (network, expired session) stops the polling: the page's reload link remains.
"use strict";
(function () {
  function follow(element, apply) {
    var url = element.getAttribute("data-progress-url");
    var ask = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (state) {
          apply(state);
          if (state.poll_after) {
            window.setTimeout(ask, state.poll_after * 1000);
          }
        })
        .catch(function () {});
    };
    var first = Number(element.getAttribute("data-poll-after"));
    if (!(first > 0)) {
      return;
    }
    // A state that cannot move before another piece of work is done (the invoice's mails wait
    // for its PDF) is not asked meanwhile: data-after names the event that says it is done
    // (pdf-status.js sends "paraphe:pdf-archived"); one poller at a time follows the page.
    var after = element.getAttribute("data-after");
    if (after) {
      document.addEventListener(
        after,
        function () {
          window.setTimeout(ask, first * 1000);
        },
        { once: true }
      );
      return;
    }
    window.setTimeout(ask, first * 1000);
  }

  function setText(id, text) {
    var node = document.getElementById(id);
    if (node && text !== undefined && text !== null && node.textContent !== text) {
      node.textContent = text;
    }
  }

  // A link rendered hidden until its document exists.
  function reveal(id, url) {
    var link = document.getElementById(id);
    if (link && url) {
      link.setAttribute("href", url);
      link.hidden = false;
    }
  }

  // A page that follows one job: its message and stage (`apply` adds what the page shows of
  // it), and the hint to reload, needless once the job's state stops changing.
  function followJob(element, messageId, hintId, apply) {
    follow(element, function (state) {
      setText(messageId, state.message);
      element.setAttribute("data-stage", state.stage);
      apply(state);
      var hint = document.getElementById(hintId);
      if (hint && !state.poll_after) {
        hint.hidden = true;
      }
    });
  }

  // The signer's page after the consent: the signature (a job), after the last one the seal,
  // then the download button.
  var seal = document.getElementById("seal-progress");
  if (seal) {
    followJob(seal, "sealing", "reload-hint", function (state) {
      // The signer's signature retried after a failure: said as an error until it lands.
      document.getElementById("sealing").className =
        state.stage === "signing_failing" ? "flash error" : "";
      if (state.download_url) {
        var button = document.getElementById("download");
        button.setAttribute("href", state.download_url);
        button.hidden = false;
        var hash = document.getElementById("signed-hash");
        hash.querySelector("code").textContent = state.sha256;
        hash.hidden = false;
      }
    });
  }

  // A contract version being generated: its message, then the link to the contract.
  var generation = document.getElementById("generation-progress");
  if (generation) {
    followJob(generation, "generation-message", "generation-reload", function (state) {
      if (state.stage === "failed") {
        document.getElementById("generation-message").className = "flash error";
        document.getElementById("generation-retry").hidden = false;
      }
      reveal("generation-contract", state.contract_url);
    });
  }

  // The invoice page: its mails, each sent by a job once the PDF is archived. The server
  // renders the section (escaped); it takes the place of the one shown, until nothing is left
  // to send.
  var mailing = document.getElementById("mail-progress");
  if (mailing) {
    follow(mailing, function (state) {
      var parsed = new DOMParser().parseFromString(state.html, "text/html");
      mailing.replaceChildren.apply(mailing, Array.prototype.slice.call(parsed.body.childNodes));
      mailing.setAttribute("data-stage", state.stage);
    });
  }

  // The contract page: each signature request's state, its signers, its links once sealed.
  var contract = document.getElementById("signature-progress");
  if (contract) {
    follow(contract, function (state) {
      state.requests.forEach(function (request) {
        var prefix = "request-" + request.id;
        setText(prefix, request.label);
        var badge = document.getElementById(prefix);
        if (badge) {
          badge.className = "status " + request.stage;
        }
        setText(prefix + "-detail", request.detail || "");
        var box = document.getElementById(prefix + "-box");
        if (box) {
          box.setAttribute("data-stage", request.stage);
        }
        var actions = document.getElementById(prefix + "-actions");
        if (actions && !request.active) {
          actions.hidden = true;
        }
        request.signers.forEach(function (signer) {
          setText("signer-" + signer.id + "-status", signer.status);
          setText("signer-" + signer.id + "-signed", signer.signed_at || "—");
        });
        reveal("evidence-" + request.id, request.evidence_pdf_url);
        reveal("evidence-json-" + request.id, request.evidence_json_url);
      });
      state.versions.forEach(function (version) {
        setText("status-v" + version.number, version.status);
        reveal("signed-pdf-v" + version.number, version.signed_pdf_url);
      });
    });
  }
})();
