/* "Before you raise it": as a customer describes an incident on the portal, fetch the published
   articles that match what it has typed so far (GET /api/v1/articles/suggest/?text=…, with the
   session) and list them with links to their portal pages. Without JavaScript the panel offers
   a link to the knowledge search instead. */
(function () {
  "use strict";
  var panel = document.querySelector("[data-suggest-url]");
  if (!panel) { return; }
  var list = panel.querySelector(".kb-suggestions");
  var status = panel.querySelector(".kb-suggest-status");
  var articleUrl = panel.getAttribute("data-article-url");
  var form = panel.closest(".card") ? panel.closest(".card").querySelector("form") : null;
  var fields = (form || document).querySelectorAll("[name=short_description], [name=description]");
  if (!list || !fields.length) { return; }
  var timer = null;
  var latest = 0;
  var lastText = "";

  function text() {
    var parts = [];
    for (var i = 0; i < fields.length; i++) { parts.push(fields[i].value); }
    return parts.join(" ").replace(/\s+/g, " ").trim().slice(0, 1000);
  }

  function show(articles) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    for (var i = 0; i < articles.length; i++) {
      var article = articles[i];
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = articleUrl.replace("/0/", "/" + encodeURIComponent(article.id) + "/");
      link.textContent = article.title;
      item.appendChild(link);
      if (article.summary) {
        var summary = document.createElement("p");
        summary.className = "muted kb-suggestion-summary";
        summary.textContent = article.summary;
        item.appendChild(summary);
      }
      list.appendChild(item);
    }
    panel.hidden = false;
    panel.classList.toggle("kb-suggest-empty", articles.length === 0);
    if (status) {
      status.textContent = articles.length
        ? (articles.length === 1 ? "One article matches what you typed:" : articles.length + " articles match what you typed:")
        : "No articles match yet. Keep describing the problem, or raise it below.";
    }
  }

  function ask() {
    var words = text();
    if (words === lastText) { return; }
    lastText = words;
    if (words.length < 3) { show([]); return; }
    var asked = ++latest;
    fetch(panel.getAttribute("data-suggest-url") + "?text=" + encodeURIComponent(words), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      if (asked !== latest) { return; }
      show(Array.isArray(data) ? data : (data.results || []));
    }).catch(function () {
      if (asked === latest && status) { status.textContent = "Suggestions are not available just now."; }
    });
  }

  for (var i = 0; i < fields.length; i++) {
    fields[i].addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 300);
    });
  }
  panel.classList.add("kb-suggest-live");
  if (text()) { ask(); }
}());
