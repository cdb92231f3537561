// Live preview of text typed by sales (particular terms, free text): the contract prints it
// exactly as typed, so the preview copies it as text (textContent, never HTML) into the
// element marked data-preview="<id of the textarea>", styled like the printed text.
"use strict";
document.querySelectorAll("[data-preview]").forEach(function (preview) {
  var source = document.getElementById(preview.getAttribute("data-preview"));
  if (!source) {
    return;
  }
  var update = function () {
    preview.textContent = source.value;
  };
  source.addEventListener("input", update);
  update();
});
