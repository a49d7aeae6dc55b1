// The new-change form: under the governance template dropdown, show only the chosen template's
// summary (maturity, minimum notice, gates). Without this script every template is listed.
(function () {
  "use strict";
  function setUp() {
    var select = document.querySelector("select[name='governance_template']");
    var box = document.getElementById("template-summaries");
    if (!select || !box) {
      return;
    }
    var items = box.querySelectorAll("[data-template]");
    function show() {
      for (var i = 0; i < items.length; i++) {
        items[i].classList.toggle("chg-template-chosen", items[i].getAttribute("data-template") === select.value);
      }
    }
    box.classList.add("js-one");
    box.setAttribute("aria-live", "polite");
    select.addEventListener("change", show);
    show();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
