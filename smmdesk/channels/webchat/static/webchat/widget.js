/* smmdesk site chat widget. Loaded by one tag on the business's site:
 *   <script src="https://SMMDESK/hooks/chat/PUBLIC-KEY/widget.js" async></script>
 * No dependencies, no eval, no inline styles: it works under a strict Content-Security-Policy that
 * allows this server in script-src, style-src and connect-src. Everything a visitor or an agent wrote is
 * put on the page with textContent, never as HTML. See docs/site-chat.md. */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src || window.__smmdeskChat) {
    return;
  }
  window.__smmdeskChat = true;

  var base = script.src.replace(/widget\.js(?:[?#].*)?$/, "");
  var storagePrefix = "smmdesk-chat:" + base + ":";
  var POLL_MS = 1500;
  var SLOW_POLL_MS = 10000;

  var state = { visitor: load("visitor"), lastId: 0, open: false, timer: null, busy: false, seen: {} };
  var labels = {
    open: "Chat",
    close: "Close",
    message: "Message",
    send: "Send",
    name: "Name",
    email: "E-mail",
    you: "You",
    failed: "Sending failed.",
    rate: "Please wait a moment."
  };
  var title = "";
  var greeting = "";
  var ui = null;

  function load(key) {
    try {
      return window.localStorage.getItem(storagePrefix + key);
    } catch (error) {
      return null; // storage blocked: the visitor gets a new id per page, which still works
    }
  }

  function save(key, value) {
    try {
      if (value) {
        window.localStorage.setItem(storagePrefix + key, value);
      } else {
        window.localStorage.removeItem(storagePrefix + key);
      }
    } catch (error) {
      /* storage blocked */
    }
  }

  function request(method, path, body) {
    var headers = {};
    if (state.visitor) {
      headers["X-Smmdesk-Visitor"] = state.visitor;
    }
    var init = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return window.fetch(base + path, init).then(function (response) {
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          return { status: response.status, data: data || {} };
        });
    });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  function build() {
    var host = el("div", { "class": "smmdesk-chat-host", "data-smmdesk-chat": "" });
    // A shadow root keeps the site's styles off the widget and the widget's off the site.
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    root.appendChild(el("link", { rel: "stylesheet", href: base + "widget.css" }));

    var launcher = el(
      "button",
      { type: "button", "class": "launcher", "aria-expanded": "false", "aria-controls": "smmdesk-chat-panel" },
      labels.open
    );
    var panel = el("section", { "class": "panel", id: "smmdesk-chat-panel", "aria-labelledby": "smmdesk-chat-title" });
    panel.hidden = true;
    var header = el("header", { "class": "head" });
    header.appendChild(el("h2", { id: "smmdesk-chat-title" }, title || labels.open));
    var close = el("button", { type: "button", "class": "close", "aria-label": labels.close }, "\u00d7");
    header.appendChild(close);

    var log = el("ol", { "class": "log", role: "log", "aria-live": "polite", "aria-label": title || labels.open });
    if (greeting) {
      log.appendChild(el("li", { "class": "msg theirs greeting" }, greeting));
    }

    var form = el("form", { "class": "compose", novalidate: "" });
    var who = el("div", { "class": "who" });
    var nameInput = field(who, "input", "smmdesk-chat-name", labels.name, { type: "text", maxlength: "100", autocomplete: "name" });
    var emailInput = field(who, "input", "smmdesk-chat-email", labels.email, { type: "email", maxlength: "254", autocomplete: "email" });
    nameInput.value = load("name") || "";
    emailInput.value = load("email") || "";
    form.appendChild(who);
    var text = field(form, "textarea", "smmdesk-chat-text", labels.message, { rows: "3", maxlength: "2000", required: "" });
    var status = el("p", { "class": "status", role: "status", "aria-live": "assertive" });
    var send = el("button", { type: "submit", "class": "send" }, labels.send);
    form.appendChild(status);
    form.appendChild(send);

    panel.appendChild(header);
    panel.appendChild(log);
    panel.appendChild(form);
    root.appendChild(panel);
    root.appendChild(launcher);
    document.body.appendChild(host);

    launcher.addEventListener("click", function () {
      if (state.open) {
        hide();
      } else {
        show(false);
      }
    });
    close.addEventListener("click", hide);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        hide();
      }
    });
    text.addEventListener("keydown", function (event) {
      // Enter sends, Shift+Enter starts a new line, as in every chat.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submit();
    });

    return { launcher: launcher, panel: panel, log: log, text: text, name: nameInput, email: emailInput, status: status, send: send };
  }

  function field(parent, tag, id, labelText, attrs) {
    var wrap = el("div", { "class": "field" });
    wrap.appendChild(el("label", { "for": id }, labelText));
    attrs.id = id;
    var input = el(tag, attrs);
    wrap.appendChild(input);
    parent.appendChild(wrap);
    return input;
  }

  function add(message) {
    if (!message || typeof message.id !== "number" || state.seen[message.id]) {
      return;
    }
    state.seen[message.id] = true;
    state.lastId = Math.max(state.lastId, message.id);
    var mine = message.from === "visitor";
    var item = el("li", { "class": "msg " + (mine ? "mine" : "theirs"), "data-id": String(message.id) });
    item.appendChild(el("span", { "class": "author" }, mine ? labels.you : title || labels.open));
    item.appendChild(el("p", { "class": "text" }, String(message.text || "")));
    ui.log.appendChild(item);
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function ensureSession() {
    if (state.visitor) {
      return Promise.resolve(state.visitor);
    }
    return request("POST", "session", {}).then(function (answer) {
      if (answer.status === 200 && answer.data.visitor) {
        state.visitor = answer.data.visitor;
        save("visitor", state.visitor);
      }
      return state.visitor;
    });
  }

  function schedule(delay) {
    window.clearTimeout(state.timer);
    if (state.open) {
      state.timer = window.setTimeout(poll, delay || POLL_MS);
    }
  }

  function poll() {
    if (!state.open) {
      return;
    }
    ensureSession()
      .then(function (visitor) {
        if (!visitor) {
          return SLOW_POLL_MS;
        }
        return request("GET", "messages?after=" + state.lastId).then(function (answer) {
          if (answer.status === 401) {
            // The id is no longer valid (the server's key changed): start afresh.
            state.visitor = null;
            save("visitor", null);
            return POLL_MS;
          }
          if (answer.status !== 200) {
            return SLOW_POLL_MS;
          }
          (answer.data.messages || []).forEach(add);
          return POLL_MS;
        });
      })
      .catch(function () {
        return SLOW_POLL_MS;
      })
      .then(schedule);
  }

  function submit() {
    var text = ui.text.value.trim();
    if (!text || state.busy) {
      return;
    }
    state.busy = true;
    ui.send.disabled = true;
    ui.status.textContent = "";
    var body = {
      text: text,
      name: ui.name.value.trim(),
      email: ui.email.value.trim(),
      client_id: randomId(),
      // The path only (no query string, which may carry personal data): landing pages count their chats.
      page: window.location.pathname
    };
    ensureSession()
      .then(function () {
        return request("POST", "messages", body);
      })
      .then(function (answer) {
        if (answer.status === 201) {
          ui.text.value = "";
          save("name", body.name);
          save("email", body.email);
          add(answer.data.message);
          return;
        }
        if (answer.status === 401) {
          state.visitor = null;
          save("visitor", null);
        }
        ui.status.textContent = answer.status === 429 ? labels.rate : answer.data.message || labels.failed;
      })
      .catch(function () {
        ui.status.textContent = labels.failed;
      })
      .then(function () {
        state.busy = false;
        ui.send.disabled = false;
      });
  }

  function show(quietly) {
    state.open = true;
    save("open", "1");
    ui.panel.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "true");
    if (!quietly) {
      ui.text.focus();
    }
    poll();
  }

  function hide() {
    state.open = false;
    save("open", null);
    window.clearTimeout(state.timer);
    ui.panel.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.launcher.focus();
  }

  function start(config) {
    if (!config) {
      return; // unknown key or a site not allowed to embed this chat: show nothing rather than a dead chat
    }
    title = typeof config.title === "string" ? config.title : "";
    greeting = typeof config.greeting === "string" ? config.greeting : "";
    Object.keys(labels).forEach(function (key) {
      if (config.labels && typeof config.labels[key] === "string") {
        labels[key] = config.labels[key];
      }
    });
    ui = build();
    // Moving to another page of the site keeps an open chat open.
    if (load("open")) {
      show(true);
    }
  }

  function boot() {
    window
      .fetch(base + "config", { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .catch(function () {
        return null;
      })
      .then(start);
  }

  if (document.body) {
    boot();
  } else {
    document.addEventListener("DOMContentLoaded", boot);
  }
})();
