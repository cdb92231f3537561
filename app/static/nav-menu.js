// The header's « Administration » menu (base.html), a <details> that opens without script:
// closed again by Escape (the focus back on its title) or by a click anywhere outside it.
"use strict";
(function () {
  var menu = document.getElementById("admin-menu");
  if (!menu) {
    return;
  }
  document.addEventListener("click", function (event) {
    if (menu.open && !menu.contains(event.target)) {
      menu.open = false;
    }
  });
  document.addEventListener("keydown", function (event) {
    if (menu.open && event.key === "Escape") {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
})();
