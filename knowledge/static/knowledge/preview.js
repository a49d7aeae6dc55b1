/* The article editor's live preview: as the editor types in the body, the server renders the
   markdown through the same sanitising renderer the article page uses, and the preview shows it.
   Without JavaScript the form's "Preview" button does the same with a full page load. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-preview-url]");
  if (!form) { return; }
  var body = form.querySelector("textarea[name=body]");
  var target = document.getElementById("article-preview");
  var status = document.getElementById("article-preview-status");
  if (!body || !target) { return; }
  var token = form.querySelector("input[name=csrfmiddlewaretoken]");
  var timer = null;
  var latest = 0;

  function render() {
    var asked = ++latest;
    var data = new FormData();
    data.append("body", body.value);
    if (status) { status.textContent = "Updating the preview…"; }
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "", "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    }).then(function (html) {
      if (asked !== latest) { return; }
      /* The fragment is the server's sanitised rendering (nh3), as on the article page. */
      target.innerHTML = html;
      if (status) { status.textContent = "Preview up to date."; }
    }).catch(function () {
      if (asked !== latest) { return; }
      form.classList.remove("live-preview");  /* bring the Preview button back */
      if (status) { status.textContent = "The preview could not be updated; use the Preview button."; }
    });
  }

  body.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(render, 300);
  });
  var fallback = form.querySelector("button[name=preview]");
  if (fallback) { fallback.classList.add("js-hidden-when-live"); }
  form.classList.add("live-preview");
}());
