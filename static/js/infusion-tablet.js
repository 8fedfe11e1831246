// The infusion tablet screen: keep what the nurse entered when the connection drops, and
// send it when it is back. No inline script (CSP script-src 'self'); everything here is
// progressive: without this file the forms post normally.
//
// - Forms marked data-offline are sent with fetch. If the network fails, the entry is kept
//   in localStorage (with the time the nurse pressed the button and a key the server uses
//   to record it once) and retried every few seconds and when the browser comes back online.
// - Forms marked data-draft keep their half-typed values in localStorage until submitted.
// - The steps (#steps) refresh themselves when the session changes, never over a form in use.
(function () {
  "use strict";

  // One queue per user: an entry is sent only by the person who made it (the server
  // refuses anyone else's), and signing out clears nothing.
  var QUEUE_PREFIX = "neuroclinic.infusion.queue.v2:";

  function currentUser() {
    var box = document.getElementById("offline-queue");
    return (box && box.dataset.user) || "";
  }

  function queueKey() {
    return QUEUE_PREFIX + currentUser();
  }
  var DRAFT_PREFIX = "neuroclinic.infusion.draft.v1:";
  var RETRY_MS = 5000;
  var SKIP_DRAFT = /^(csrfmiddlewaretoken|.*client_key|.*occurred_at|.*password|.*witness_code)$/;
  var sending = false;

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var hex = "";
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    for (var i = 0; i < 16; i++) {
      hex += (bytes[i] + 0x100).toString(16).slice(1);
      if (i === 3 || i === 5 || i === 7 || i === 9) hex += "-";
    }
    return hex;
  }

  function readQueue() {
    try {
      var items = JSON.parse(window.localStorage.getItem(queueKey()) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (error) {
      return [];
    }
  }

  function writeQueue(items) {
    try {
      window.localStorage.setItem(queueKey(), JSON.stringify(items));
    } catch (error) {
      // Storage full or disabled: the entry stays on screen with its error message.
    }
    showState();
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function setConnection(online, text) {
    var badge = document.getElementById("connection");
    if (!badge) return;
    badge.dataset.state = online ? "online" : "offline";
    badge.textContent = text || (online ? "Online" : "Offline: entries are kept on this tablet");
  }

  function showState(note) {
    var box = document.getElementById("offline-queue");
    if (!box) return;
    var items = readQueue();
    box.textContent = "";
    if (!items.length && !note) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    if (items.length) {
      var head = document.createElement("p");
      head.className = "offline-title";
      head.textContent = items.length + (items.length === 1 ? " entry" : " entries") +
        " saved on this tablet, not yet sent. They will be sent when the connection is back.";
      box.appendChild(head);
      var list = document.createElement("ul");
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.textContent = new Date(item.at).toLocaleTimeString() + " · " + item.label;
        list.appendChild(li);
      });
      box.appendChild(list);
    }
    if (note) {
      var message = document.createElement("p");
      message.className = "offline-note";
      message.textContent = note;
      box.appendChild(message);
    }
  }

  // --- drafts -------------------------------------------------------------------------

  function draftKey(form) {
    return DRAFT_PREFIX + window.location.pathname + ":" + form.dataset.draft;
  }

  function saveDraft(form) {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || SKIP_DRAFT.test(field.name)) return;
      if (field.type === "checkbox" || field.type === "radio") {
        if (field.checked) values[field.name + "=" + field.value] = true;
      } else {
        values[field.name] = field.value;
      }
    });
    try {
      window.localStorage.setItem(draftKey(form), JSON.stringify(values));
    } catch (error) {
      // Nothing to do: the form still holds the values.
    }
  }

  function restoreDraft(form) {
    var values;
    try {
      values = JSON.parse(window.localStorage.getItem(draftKey(form)) || "null");
    } catch (error) {
      values = null;
    }
    if (!values) return;
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || SKIP_DRAFT.test(field.name)) return;
      if (field.type === "checkbox" || field.type === "radio") {
        if (values[field.name + "=" + field.value]) field.checked = true;
      } else if (values[field.name] && !field.value) {
        field.value = values[field.name];
      }
    });
  }

  function clearDraft(form) {
    if (form.dataset.draft) window.localStorage.removeItem(draftKey(form));
  }

  // --- sending ------------------------------------------------------------------------

  function label(form) {
    var heading = form.querySelector("h3") || (form.closest("section") || form).querySelector("h2");
    var button = form.querySelector("button[type=submit]");
    return (button ? button.textContent.trim() : "Entry") + (heading ? " (" + heading.textContent.trim() + ")" : "");
  }

  function entriesOf(form) {
    var keyField = form.querySelector("input[name$=client_key]");
    if (keyField) keyField.value = newKey();
    var timeField = form.querySelector("input[name$=occurred_at]");
    if (timeField) timeField.value = new Date().toISOString();
    var entries = [];
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string") entries.push([name, value]);
    });
    entries.push(["made_by", currentUser()]);
    return entries;
  }

  function post(item) {
    var body = new URLSearchParams();
    item.body.forEach(function (pair) {
      body.append(pair[0], pair[0] === "csrfmiddlewaretoken" ? csrfToken() || pair[1] : pair[1]);
    });
    return window.fetch(item.url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "X-Tablet-Replay": item.replay ? "1" : "0" },
    });
  }

  function isSignIn(response) {
    return response.redirected && /\/accounts\/sign-in\//.test(response.url);
  }

  function isGatewayDown(response) {
    return response.status === 502 || response.status === 503 || response.status === 504;
  }

  function showPage(html, url, anchor) {
    var page = new DOMParser().parseFromString(html, "text/html");
    document.title = page.title;
    document.body.innerHTML = page.body.innerHTML;
    if (url) window.history.replaceState(null, "", url);
    if (window.htmx) window.htmx.process(document.body);
    init();
    openAt(anchor);
    var target = anchor && document.getElementById(anchor);
    var error = document.querySelector(".form-error, .errorlist, .message-error");
    scrollBelowLive(error || target || document.body);
  }

  // The live header stays at the top of the screen (sticky): bring what the nurse is to
  // see next to just below it, not under it (the current step's heading was hidden there).
  function scrollBelowLive(element) {
    element.scrollIntoView({ block: "start" });
    var live = document.getElementById("live");
    if (element !== document.body && live && live.classList.contains("sticky")) {
      window.scrollBy(0, -live.getBoundingClientRect().height);
    }
  }

  function submitNow(form) {
    var item = {
      id: newKey(),
      madeBy: currentUser(),
      url: form.action,
      body: entriesOf(form),
      label: label(form),
      at: Date.now(),
      page: window.location.pathname,
    };
    var anchor = (form.closest("section") || {}).id || "";
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    post(item)
      .then(function (response) {
        if (isSignIn(response) || isGatewayDown(response)) throw new Error("not sent");
        // 409: this page belongs to someone who has signed out; keep it for them.
        if (response.status === 409) throw new Error("not this user's entry");
        clearDraft(form);
        setConnection(true);
        return response.text().then(function (html) {
          showPage(html, response.url, anchor);
        });
      })
      .catch(function () {
        var items = readQueue();
        items.push(item);
        writeQueue(items);
        clearDraft(form);
        form.reset();
        delete form.dataset.dirty;
        if (button) button.disabled = false;
        setConnection(false);
        showState("Saved on this tablet at " + new Date(item.at).toLocaleTimeString() + ": " + item.label + ".");
      });
  }

  function flush() {
    var items = readQueue();
    if (sending || !items.length) return;
    sending = true;
    var item = items[0];
    var held = false;
    item.replay = true;
    post(item)
      .then(function (response) {
        if (isSignIn(response)) {
          setConnection(true, "Online: sign in again to send the saved entries");
          throw new Error("signed out");
        }
        if (isGatewayDown(response)) throw new Error("server unavailable");
        setConnection(true);
        if (response.status === 409) {
          // Made by someone else: kept for them, never sent under this user's name.
          held = true;
          showState("Kept on this tablet for the person who made it: " + item.label + ".");
          return null;
        }
        var rest = readQueue().filter(function (other) {
          return other.id !== item.id;
        });
        writeQueue(rest);
        if (response.status >= 400) {
          return response.text().then(function (html) {
            var page = new DOMParser().parseFromString(html, "text/html");
            var reason = page.querySelector(".form-error, .errorlist, .message-error");
            showState("Not accepted: " + item.label + (reason ? " — " + reason.textContent.trim() : "."));
          });
        }
        if (!rest.length && item.page === window.location.pathname) {
          return response.text().then(function (html) {
            showPage(html, null, "");
            showState("Sent what was saved on this tablet.");
          });
        }
        return null;
      })
      .catch(function () {
        setConnection(false);
      })
      .then(function () {
        sending = false;
        if (!held && readQueue().length && navigator.onLine) window.setTimeout(flush, 200);
      });
  }

  // The stepper collapses parts of the screen (<details>): the part an entry was just
  // made in stays open, so a second entry there takes no extra tap.
  function openAt(anchor) {
    var target = anchor && document.getElementById(anchor);
    if (!target) return;
    var details = target.matches("details") ? target : target.querySelector("details");
    if (details) details.open = true;
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-draft]"), restoreDraft);
    showState();
    if (!navigator.onLine) setConnection(false);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.matches("[data-offline]")) {
      event.preventDefault();
      submitNow(form);
    } else if (form.dataset.draft) {
      clearDraft(form);
    }
  });

  document.addEventListener("input", function (event) {
    var form = event.target && event.target.form;
    if (form) form.dataset.dirty = "1";
    if (form && form.dataset.draft) saveDraft(form);
  });
  document.addEventListener("change", function (event) {
    var form = event.target && event.target.form;
    if (form) form.dataset.dirty = "1";
    if (form && form.dataset.draft) saveDraft(form);
  });

  // The steps refresh themselves when the session changes (polled #steps), but never
  // over what the nurse is doing: not while a form in them has been touched or a field
  // has the focus. The poll asks again and the new step shows once the form is sent.
  function busy(steps) {
    var active = document.activeElement;
    if (steps.querySelector("form[data-dirty]")) return true;
    return !!(active && steps.contains(active) && active.matches("input, select, textarea"));
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "steps" && busy(target)) event.detail.shouldSwap = false;
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "steps") return;
    var steps = document.getElementById("steps");
    if (steps) Array.prototype.forEach.call(steps.querySelectorAll("form[data-draft]"), restoreDraft);
  });

  window.addEventListener("online", function () {
    setConnection(true);
    flush();
  });
  window.addEventListener("offline", function () {
    setConnection(false);
  });
  // The live panel's polling tells us about the connection too.
  document.addEventListener("htmx:sendError", function () {
    setConnection(false);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail && event.detail.successful) {
      setConnection(true);
      if (readQueue().length) flush();
    }
  });

  init();
  openAt(window.location.hash.slice(1));
  var start = window.location.hash && document.getElementById(window.location.hash.slice(1));
  if (start) scrollBelowLive(start);
  window.setInterval(flush, RETRY_MS);
  flush();
})();
