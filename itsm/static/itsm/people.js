/* People pickers (itsm.people.PersonField): as someone types a name into a person box, ask the
   site which people of that box's list match (GET /people/?source=…&q=…, with the session) and
   offer them in the box's <datalist>; picking one fills in its id beside the box. A box of
   several user names (data-people-many) is helped with the name being typed: each suggestion is
   the box's text with that name replaced by the user name picked. Without JavaScript the server
   resolves what was typed by itself. Safe to load more than once. */
(function () {
  "use strict";
  function scan() {
    var boxes = document.querySelectorAll("input[data-people-url]");
    for (var i = 0; i < boxes.length; i++) { wire(boxes[i]); }
  }
  scan();
  // Forms htmx puts on the page (an action's form, fetched as it opens) get their pickers too.
  if (!window.itsmPeopleScan) {
    window.itsmPeopleScan = scan;
    document.addEventListener("htmx:afterSettle", function () { window.itsmPeopleScan(); });
  }

  function wire(box) {
    if (box.hasAttribute("data-people-ready")) { return; }
    box.setAttribute("data-people-ready", "");
    var list = document.getElementById(box.getAttribute("list"));
    var hidden = box.parentNode.querySelector("[data-people-pk]");
    var known = {};
    var timer = null;
    var latest = 0;
    var lastText = box.value;
    if (hidden && hidden.value && box.value) { known[box.value] = hidden.value; }

    function remember() {
      if (!hidden) { return; }
      hidden.value = Object.prototype.hasOwnProperty.call(known, box.value) ? known[box.value] : "";
    }

    var many = box.hasAttribute("data-people-many");

    function parts() {  // a box of several names: what comes before the name being typed, and it
      var match = /^(.*[,;\s])?([^,;\s]*)$/.exec(box.value);
      return { before: (match && match[1]) || "", typing: (match && match[2]) || "" };
    }

    function show(results) {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      for (var j = 0; j < results.length; j++) {
        var option = document.createElement("option");
        if (many) {
          var username = /\(([^()\s]+)\)$/.exec(results[j].label);
          option.value = parts().before + (username ? username[1] : results[j].label);
          option.label = results[j].label;
        } else {
          option.value = results[j].label;
          known[results[j].label] = String(results[j].id);
        }
        list.appendChild(option);
      }
      remember();
    }

    function ask() {
      var text = many ? parts().typing : box.value.trim();
      if (text === lastText) { return; }
      lastText = text;
      if (!text || (!many && Object.prototype.hasOwnProperty.call(known, box.value))) { return; }
      var asked = ++latest;
      var url = box.getAttribute("data-people-url") + "?source=" + encodeURIComponent(box.getAttribute("data-people-source")) + "&q=" + encodeURIComponent(text.slice(0, 200));
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (body) { if (asked === latest) { show(body.results || []); } })
        .catch(function () { /* the server still resolves what was typed */ });
    }

    box.addEventListener("input", function () {
      remember();
      clearTimeout(timer);
      timer = setTimeout(ask, 150);
    });
    box.addEventListener("change", remember);
  }
})();
