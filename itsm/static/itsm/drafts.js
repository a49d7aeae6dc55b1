// Half-typed text is never lost: every text box (<textarea>) of a desk or portal form that posts
// keeps a draft in this browser's localStorage while you type, under the page's path, the form's
// action and the field's name. Coming back to the page puts the draft back into the box if the
// box is empty (a box the server filled, e.g. after an error, is left alone). Sending the form
// forgets its drafts (for that action and field, from whichever page) once the next page shows
// no error; on an error the server shows the text again and the draft stays. Drafts older than
// two weeks are dropped.
// A form or box marked data-draft="off" is left alone. Without JavaScript: plain forms.
(function () {
  "use strict";

  var PREFIX = "itsm-draft:";
  var SENT = "itsm-drafts-sent";
  var MAX_AGE_MS = 14 * 24 * 60 * 60 * 1000;
  var ERRORS = ".message-error, .form-errors[role='alert'], .field-invalid, [aria-invalid='true']";

  function store(kind) {
    try {
      var s = window[kind];
      var probe = PREFIX + "probe";
      s.setItem(probe, "1");
      s.removeItem(probe);
      return s;
    } catch (e) {
      return null; // storage off (private mode, a policy): the forms work as before
    }
  }
  var local = store("localStorage");
  var session = store("sessionStorage");
  if (!local) return;

  function read(key) {
    try {
      var draft = JSON.parse(local.getItem(key));
      return draft && typeof draft.text === "string" ? draft : null;
    } catch (e) {
      return null;
    }
  }

  // Every draft for these targets (form action and field), whichever page it was typed on: the
  // same form may be sent from its page or from the page that showed its errors.
  function forget(targets) {
    if (!targets.length) return;
    for (var i = local.length - 1; i >= 0; i--) {
      var key = local.key(i);
      if (key && key.indexOf(PREFIX) === 0) {
        var draft = read(key);
        if (!draft || targets.indexOf(draft.target) !== -1) local.removeItem(key);
      }
    }
  }

  function boxes(form) {
    if (form.dataset.draft === "off") return [];
    return Array.prototype.filter.call(form.querySelectorAll("textarea[name]"), function (box) {
      return box.dataset.draft !== "off" && !box.disabled && !box.readOnly;
    });
  }

  // Each box's key; two boxes that would share one (same action and name) are numbered.
  var keys = new Map();
  var targets = new Map();
  var restored = new WeakSet();
  function keyOf(box) {
    return keys.get(box);
  }
  function assignKeys() {
    var seen = {};
    keys = new Map();
    targets = new Map();
    Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
      if ((form.getAttribute("method") || "get").toLowerCase() !== "post") return;
      var action = new URL(form.getAttribute("action") || window.location.href, window.location.href);
      boxes(form).forEach(function (box) {
        var target = action.pathname + "|" + box.name;
        var key = PREFIX + window.location.pathname + "|" + target;
        seen[key] = (seen[key] || 0) + 1;
        keys.set(box, seen[key] > 1 ? key + "#" + seen[key] : key);
        targets.set(box, target);
      });
    });
  }

  function formTargets(form) {
    return boxes(form)
      .map(function (box) {
        return targets.get(box);
      })
      .filter(Boolean);
  }

  function save(box) {
    var key = keyOf(box);
    if (!key) return;
    if (!box.value.trim() || box.value === box.defaultValue) {
      local.removeItem(key);
      return;
    }
    try {
      local.setItem(key, JSON.stringify({ text: box.value, saved: Date.now(), target: targets.get(box) }));
    } catch (e) {
      // Storage full: nothing to do but keep the page working.
    }
  }

  function note(box) {
    var line = document.createElement("p");
    line.className = "draft-note";
    line.setAttribute("role", "status");
    line.textContent = "Your unsent text was kept from last time. ";
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "button button-quiet button-small";
    discard.textContent = "Discard it";
    discard.addEventListener("click", function () {
      box.value = "";
      local.removeItem(keyOf(box));
      box.dispatchEvent(new Event("input", { bubbles: true }));
      line.remove();
      box.focus();
    });
    line.appendChild(discard);
    box.insertAdjacentElement("afterend", line);
  }

  function sweep() {
    var now = Date.now();
    for (var i = local.length - 1; i >= 0; i--) {
      var key = local.key(i);
      if (key && key.indexOf(PREFIX) === 0) {
        var draft = read(key);
        if (!draft || !(now - draft.saved < MAX_AGE_MS)) local.removeItem(key);
      }
    }
  }

  function scan() {
    assignKeys();
    keys.forEach(function (key, box) {
      if (restored.has(box)) return;
      restored.add(box);
      var draft = read(key);
      if (draft && !box.value.trim() && draft.text.trim()) {
        box.value = draft.text;
        box.dispatchEvent(new Event("input", { bubbles: true }));
        note(box);
      }
    });
  }

  function start() {
    // What the previous page sent: forget it unless this page reports an error.
    if (session) {
      var sent = [];
      try {
        sent = JSON.parse(session.getItem(SENT)) || [];
      } catch (e) {
        sent = [];
      }
      session.removeItem(SENT);
      if (sent.length && !document.querySelector(ERRORS)) forget(sent);
    }
    sweep();
    scan();
    // Forms htmx puts on the page get their drafts too.
    document.addEventListener("htmx:afterSettle", scan);

    document.addEventListener("input", function (event) {
      if (keys.has(event.target)) save(event.target);
    });
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var mine = formTargets(form);
      if (!mine.length) return;
      if (!session) {
        forget(mine); // no way to see the next page's answer: forget on sending
        return;
      }
      var sent = [];
      try {
        sent = JSON.parse(session.getItem(SENT)) || [];
      } catch (e) {
        sent = [];
      }
      session.setItem(SENT, JSON.stringify(sent.concat(mine)));
    });
    // A form sent by htmx stays on the page: forget its drafts once the server accepted it.
    document.addEventListener("htmx:afterRequest", function (event) {
      var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form");
      if (form && event.detail.successful) forget(formTargets(form));
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
