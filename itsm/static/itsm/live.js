// The live parts of desk pages, on htmx (vendor/htmx.min.js): a queue's results
// (#queue-results) and the unread count (#nav-unread) re-fetch themselves every so often
// (hx-trigger="every …" in the templates). This file only decides when not to:
// - while the tab is hidden;
// - while you work in the queue (a row ticked, a control focused, text selected, a menu open),
//   so a refresh never drops a selection or moves the focus;
// - when the answer is not the fragment asked for (after signing out, the sign-in page).
// Without JavaScript the pages are the same, without the refresh.
(function () {
  "use strict";

  function busy(region) {
    if (region.contains(document.activeElement) && document.activeElement !== region) return true;
    if (region.querySelector("input:checked, details[open]")) return true;
    var selection = window.getSelection && window.getSelection();
    return Boolean(selection && !selection.isCollapsed && region.contains(selection.anchorNode));
  }

  function live(element) {
    return element && (element.id === "queue-results" || element.id === "nav-unread");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail.elt;
    if (!live(element)) return;
    if (document.hidden || busy(element)) event.preventDefault();
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var element = event.detail.elt;
    if (!live(element)) return;
    var xhr = event.detail.xhr;
    var asked = new URL(event.detail.requestConfig.path, window.location.href).pathname;
    var answered = xhr.responseURL ? new URL(xhr.responseURL).pathname : asked;
    // Redirected (signed out): keep what is shown. Busy since the request left: keep it too.
    if (answered !== asked || busy(element)) event.detail.shouldSwap = false;
  });
})();
