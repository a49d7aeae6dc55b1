// The form builder, a little nicer with JavaScript: a row's options box shows only for the
// types that have options (dropdown, radio). Without it every box shows and the page works the same.
(function () {
  "use strict";
  var WITH_OPTIONS = ["dropdown", "radio"];
  function sync(row) {
    var type = row.querySelector("select[name$='-type']");
    var options = row.querySelector("[data-builder-options]");
    if (!type || !options) { return; }
    var textarea = options.querySelector("textarea");
    var needed = WITH_OPTIONS.indexOf(type.value) !== -1 || (textarea && textarea.value.trim() !== "");
    options.hidden = !needed;
  }
  document.querySelectorAll("[data-builder-row]").forEach(function (row) {
    sync(row);
    var type = row.querySelector("select[name$='-type']");
    if (type) { type.addEventListener("change", function () { sync(row); }); }
  });
})();
