// Result verification: hash the chosen document in the browser (SubtleCrypto SHA-256) and check the
// hash, so the file never leaves the visitor's device. Without scripts, or where SubtleCrypto is
// missing (a page served over plain http), the form uploads the file instead: the server hashes it
// as it arrives and keeps nothing.
(function () {
  "use strict";
  var input = document.querySelector("[data-hash-file]");
  var upload = document.querySelector("[data-hash-upload]");
  var form = document.querySelector("[data-hash-form]");
  if (!input || !upload || !form || !window.crypto || !window.crypto.subtle) { return; }
  function check() {
    var file = input.files && input.files[0];
    if (!file) { return false; }
    file.arrayBuffer()
      .then(function (data) { return window.crypto.subtle.digest("SHA-256", data); })
      .then(function (digest) {
        var hex = Array.prototype.map.call(new Uint8Array(digest), function (b) {
          return ("0" + b.toString(16)).slice(-2);
        }).join("");
        form.querySelector("[name=hash]").value = hex;
        form.submit();
      });
    return true;
  }
  input.addEventListener("change", check);
  upload.addEventListener("submit", function (event) {
    if (check()) { event.preventDefault(); }
  });
})();
