// Catalog request forms: show a field only when the field its condition names holds the
// condition's value (data-show-if-field / data-show-if-value on the field's wrapper). Without
// this script every field shows, and the server does not require a field its condition hides.
(function () {
  "use strict";

  function valueOf(form, name) {
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    for (var i = 0; i < inputs.length; i += 1) {
      var input = inputs[i];
      if (input.type === "checkbox") return input.checked ? "true" : "false";
      if (input.type === "radio") { if (input.checked) return input.value; continue; }
      return input.value;
    }
    return "";
  }

  function shown(form, wrapper) {
    var name = wrapper.getAttribute("data-show-if-field");
    var target = form.querySelector('[name="' + name + '"]');
    var holder = target && target.closest("[data-show-if-field]");
    if (holder && holder.hidden) return false; // its own condition hides the field it depends on
    return valueOf(form, name) === wrapper.getAttribute("data-show-if-value");
  }

  function refresh(form) {
    var wrappers = form.querySelectorAll("[data-show-if-field]");
    for (var i = 0; i < wrappers.length; i += 1) {
      var visible = shown(form, wrappers[i]);
      wrappers[i].hidden = !visible;
      var controls = wrappers[i].querySelectorAll("input, select, textarea");
      for (var j = 0; j < controls.length; j += 1) controls[j].disabled = !visible;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form");
    for (var i = 0; i < forms.length; i += 1) {
      var form = forms[i];
      if (!form.querySelector("[data-show-if-field]")) continue;
      form.addEventListener("change", refresh.bind(null, form));
      form.addEventListener("input", refresh.bind(null, form));
      refresh(form);
    }
  });
})();
