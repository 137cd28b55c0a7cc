// The print button of print-ready forms (a script, since the pages allow no inline handlers).
(function () {
  "use strict";
  var button = document.querySelector("[data-print]");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
})();
