// A catalog request form (catalog/_request_form_fields.html): a field whose wrapper says
// data-show-if-field / data-show-if-value shows only while the named field holds that value
// (a checkbox: "true" / "false"), as the server decides what counts. Without this script every
// field shows, and one whose condition is not met is simply not required.
(function () {
  "use strict";
  function valueOf(form, name) {
    var inputs = form.querySelectorAll("[name='" + name + "']");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (input.type === "checkbox") {
        return input.checked ? "true" : "false";
      }
      if (input.type === "radio") {
        if (input.checked) {
          return input.value;
        }
        continue;
      }
      return input.value;
    }
    return "";
  }
  function update(form) {
    var rows = form.querySelectorAll("[data-show-if-field]");
    var shown = {};
    // In order: a field shows when the field it names shows and holds the value.
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var target = row.getAttribute("data-show-if-field");
      var targetRow = form.querySelector("[data-field-name='" + target + "']");
      var targetShown = !targetRow || !targetRow.hasAttribute("data-show-if-field") || shown[target];
      var show = targetShown && valueOf(form, target) === row.getAttribute("data-show-if-value");
      var name = row.getAttribute("data-field-name");
      if (name) {
        shown[name] = show;
      }
      row.hidden = !show;
    }
  }
  function setUp() {
    var forms = document.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      (function (form) {
        if (!form.querySelector("[data-show-if-field]")) {
          return;
        }
        form.addEventListener("change", function () { update(form); });
        form.addEventListener("input", function () { update(form); });
        update(form);
      })(forms[i]);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
