// Inbox enhancements: keyboard shortcuts, the list selection kept across live updates, the composer's
// character counter, canned replies, quoting a department's answer, and desktop notifications.
// Every page works without this file; it is a static file because the Content Security Policy refuses
// inline scripts. Customer text is only ever put into the page with textContent or form values.
(function () {
  "use strict";

  const TYPING = "input, textarea, select, [contenteditable]";
  const NOT_TYPING = "input[type=checkbox], input[type=radio], input[type=submit], input[type=button]";

  function typing(el) {
    return Boolean(el && el.closest && el.closest(TYPING) && !el.matches(NOT_TYPING));
  }

  // The list: j/k selection, kept by conversation id so a live update does not lose it.

  let selectedId = null;

  function rows() {
    return Array.from(document.querySelectorAll("#inbox-list [data-row]"));
  }

  function selectedRow() {
    return rows().find((row) => row.dataset.id === selectedId) || null;
  }

  function select(row, focus) {
    rows().forEach((r) => {
      r.classList.remove("selected");
      r.removeAttribute("aria-current");
    });
    if (!row) return;
    row.classList.add("selected");
    row.setAttribute("aria-current", "true");
    selectedId = row.dataset.id;
    if (focus) {
      const link = row.querySelector("a.open");
      if (link) link.focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
    }
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    let index = all.indexOf(selectedRow());
    if (index < 0) index = step > 0 ? 0 : all.length - 1;
    else index = Math.min(all.length - 1, Math.max(0, index + step));
    select(all[index], true);
  }

  function openSelected(hash) {
    const row = selectedRow();
    if (row) window.location.assign(row.dataset.url + (hash || ""));
  }

  function resolveSelected() {
    const row = selectedRow();
    const form = document.getElementById("quick-resolve");
    if (!row || !form || !row.dataset.statusUrl) return;
    form.action = row.dataset.statusUrl;
    form.requestSubmit();
  }

  function toggleChecked() {
    const row = selectedRow();
    const box = row && row.querySelector("input[type=checkbox]");
    if (box) box.checked = !box.checked;
  }

  // The conversation page: focus a control, submit a form.

  function focusControl(key) {
    const control = document.querySelector(`[data-shortcut="${key}"]`);
    if (!control) return false;
    control.scrollIntoView({ block: "center" });
    control.focus();
    return true;
  }

  function submitShortcut(key) {
    const form = document.querySelector(`form[data-shortcut-submit="${key}"]`);
    if (form) form.requestSubmit();
  }

  function toggleHelp() {
    const dialog = document.getElementById("shortcut-help");
    if (!dialog) return;
    if (dialog.open) dialog.close();
    else dialog.showModal();
  }

  const LIST_KEYS = {
    j: () => move(1),
    k: () => move(-1),
    o: () => openSelected(),
    x: toggleChecked,
    r: () => openSelected("#reply"),
    a: () => openSelected("#assign"),
    h: () => openSelected("#handoff"),
    e: resolveSelected,
  };

  const PAGE_KEYS = {
    r: () => focusControl("r"),
    a: () => focusControl("a"),
    h: () => focusControl("h"),
    e: () => submitShortcut("e"),
    u: () => {
      const back = document.querySelector("a[data-back]");
      if (back) window.location.assign(back.href);
    },
  };

  // The letter of the key pressed, whatever the keyboard layout: on a Russian layout "j" types "о", and
  // the shortcut must still work.
  function shortcutKey(event) {
    const key = event.key;
    if (key.length === 1 && !/[a-z]/i.test(key) && !event.shiftKey) {
      const code = /^Key([A-Z])$/.exec(event.code || "");
      if (code) return code[1].toLowerCase();
    }
    return key;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    const target = event.target;
    if (typing(target)) {
      if (event.key === "Escape" && !target.closest("dialog")) target.blur();
      return;
    }
    const key = shortcutKey(event);
    if (key === "?") {
      event.preventDefault();
      toggleHelp();
      return;
    }
    const help = document.getElementById("shortcut-help");
    if (help && help.open) return;
    const onList = Boolean(document.getElementById("inbox-list"));
    if (onList && key === "Enter" && (target === document.body || target.matches("[data-row]"))) {
      event.preventDefault();
      openSelected();
      return;
    }
    const keys = onList ? LIST_KEYS : PAGE_KEYS;
    const action = Object.hasOwn(keys, key) ? keys[key] : null;
    if (action) {
      event.preventDefault();
      action();
    }
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-help-toggle]")) toggleHelp();
    const row = event.target.closest("#inbox-list [data-row]");
    if (row) select(row, false);
  });

  // Live updates (htmx polls; see inbox/views.py): never replace what someone is in the middle of.

  let checkedIds = [];
  let listHadFocus = false;

  function busy(region) {
    const active = document.activeElement;
    if (active && region.contains(active) && typing(active)) return true;
    if (region.querySelector("details[open]")) return true;
    return Array.from(region.querySelectorAll("textarea, input[type=text]")).some(
      (field) => field.value !== field.defaultValue
    );
  }

  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (!target || !["inbox-list", "conversation-live"].includes(target.id)) return;
    const xhr = event.detail.xhr;
    if (xhr.status === 200 && !xhr.responseText.includes(`id="${target.id}"`)) {
      event.detail.shouldSwap = false;
      // Sent elsewhere (the session ended: the login page): show that page whole instead.
      const path = new URL(xhr.responseURL || window.location.href).pathname;
      if (!/\/(updates|live)\/$/.test(path)) window.location.reload();
      return;
    }
    if (target.id === "conversation-live" && busy(target)) {
      event.detail.shouldSwap = false;
      return;
    }
    if (target.id === "inbox-list") {
      checkedIds = Array.from(target.querySelectorAll("input[name=ids]:checked")).map((box) => box.value);
      listHadFocus = target.contains(document.activeElement);
    }
  });

  document.addEventListener("htmx:afterSettle", () => {
    const list = document.getElementById("inbox-list");
    if (!list) return;
    list.querySelectorAll("input[name=ids]").forEach((box) => {
      if (checkedIds.includes(box.value)) box.checked = true;
    });
    select(selectedRow(), listHadFocus);
  });

  // The composer: a live count against the network's limit, canned replies, a department's answer.

  function replyBox() {
    return document.querySelector('[data-shortcut="r"]');
  }

  function updateCounter(textarea) {
    const counter = document.querySelector(`[data-counter-for="${textarea.id}"]`);
    if (!counter) return;
    const count = Array.from(textarea.value.replace(/\r\n/g, "\n")).length;
    const max = parseInt(textarea.dataset.maxLength || "0", 10);
    const shown = counter.querySelector("[data-count]");
    if (shown) shown.textContent = String(count);
    counter.classList.toggle("over", max > 0 && count > max);
  }

  function insert(textarea, text, replace) {
    if (!textarea) return;
    if (replace) textarea.value = text;
    else {
      const start = textarea.selectionStart ?? textarea.value.length;
      const end = textarea.selectionEnd ?? start;
      textarea.setRangeText(text, start, end, "end");
    }
    textarea.focus();
    updateCounter(textarea);
  }

  document.addEventListener("input", (event) => {
    if (event.target.matches("textarea[data-max-length]")) updateCounter(event.target);
  });

  document.addEventListener("change", async (event) => {
    const picker = event.target.closest("[data-canned-picker]");
    if (!picker) return;
    const option = picker.selectedOptions[0];
    if (!option || !option.dataset.url) return;
    const response = await fetch(option.dataset.url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    picker.value = "";
    if (!response.ok) return;
    const body = await response.json();
    insert(document.getElementById(picker.dataset.target), body.text || "", false);
  });

  document.addEventListener("click", (event) => {
    const quote = event.target.closest("[data-quote]");
    if (quote) {
      const box = replyBox();
      const before = box && box.value && !box.value.endsWith("\n") ? "\n" : "";
      insert(box, `${before}${quote.dataset.quoteIntro}\n${quote.dataset.quote}\n`, false);
    }
    const adapt = event.target.closest("[data-adapt]");
    if (adapt) insert(replyBox(), adapt.dataset.adapt, true);
    if (event.target.closest("[data-focus-reply]")) focusControl("r");
  });

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("textarea[data-max-length]").forEach(updateCounter);
    startNotifications();
    startLive();
  });

  // Arriving from the list with r, a or h: go straight to that control. On "load": a focus given at
  // DOMContentLoaded does not hold on a page opened at a #fragment (the browser scrolls to it later).
  window.addEventListener("load", () => {
    const wanted = { "#reply": "r", "#assign": "a", "#handoff": "h" }[window.location.hash];
    if (wanted) focusControl(wanted);
  });

  // Live updates: the server says over one event stream what changed (inbox/live.py); the list or the
  // conversation then fetches its fragment as htmx's "live" trigger. A change that comes while that
  // fetch is under way is fetched again after it: the answer on its way may predate the change.

  const waiting = new Set();

  function refresh(id) {
    const element = document.getElementById(id);
    if (!element || !window.htmx) return;
    if (element.classList.contains("htmx-request")) waiting.add(id);
    else window.htmx.trigger(element, "live");
  }

  document.addEventListener("htmx:afterSettle", () => {
    const again = [...waiting];
    waiting.clear();
    again.forEach(refresh);
  });

  function startLive() {
    const area = document.querySelector("[data-live-stream]");
    if (!area || !("EventSource" in window)) return;
    const source = new EventSource(area.dataset.liveStream);
    source.addEventListener("list", () => refresh("inbox-list"));
    source.addEventListener("conversation", () => refresh("conversation-live"));
    source.addEventListener("notice", () => document.dispatchEvent(new Event("smmdesk:notice")));
    // Refused for good (signed out, access taken away): the fragment's answer shows why, e.g. the login.
    source.addEventListener("error", () => {
      if (source.readyState !== EventSource.CLOSED) return;
      refresh("inbox-list");
      refresh("conversation-live");
    });
  }

  // Desktop notifications: SLA warnings and breaches, hand-offs, mentions. The live stream says when a
  // notice arrives; the slow poll is for when the stream cannot get through.

  const POLL_MS = 60000;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function localLink(url) {
    return typeof url === "string" && url.startsWith("/") && !url.startsWith("//") ? url : "";
  }

  function startNotifications() {
    const area = document.getElementById("notices");
    const url = area && area.dataset.notificationsUrl;
    const enable = document.querySelector("[data-notify-enable]");
    if (enable && "Notification" in window && Notification.permission === "default") {
      enable.hidden = false;
      enable.addEventListener("click", () => {
        Notification.requestPermission().then(() => {
          enable.hidden = true;
        });
      });
    }
    if (!url) return;
    const shown = new Set();
    let timer = null;

    function show(item) {
      const text = String(item.text || "");
      const link = localLink(item.url);
      const line = document.createElement("p");
      line.className = "notice-item";
      if (link) {
        const anchor = document.createElement("a");
        anchor.href = link;
        anchor.textContent = text;
        line.appendChild(anchor);
      } else line.textContent = text;
      area.prepend(line);
      if ("Notification" in window && Notification.permission === "granted") {
        const note = new Notification(area.dataset.notificationTitle || "smmdesk", {
          body: text,
          tag: `smmdesk-${item.id}`,
        });
        note.onclick = () => {
          window.focus();
          if (link) window.location.assign(link);
        };
      }
    }

    async function markRead(ids) {
      const body = new URLSearchParams();
      ids.forEach((id) => body.append("ids", String(id)));
      try {
        await fetch(area.dataset.readUrl || `${url}read/`, {
          method: "POST",
          body,
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrfToken() },
        });
      } catch (error) {
        // Shown already; the next poll does not repeat them (see `shown`).
      }
    }

    async function poll() {
      let response;
      try {
        response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      } catch (error) {
        return;
      }
      if ([401, 403, 404, 410].includes(response.status)) {
        clearInterval(timer);
        return;
      }
      if (!response.ok) return;
      const body = await response.json();
      const items = Array.isArray(body) ? body : body.notifications || body.items || [];
      const fresh = items.filter((item) => item && !shown.has(String(item.id)));
      fresh.forEach((item) => {
        shown.add(String(item.id));
        show(item);
      });
      if (fresh.length) markRead(fresh.map((item) => item.id));
    }

    timer = setInterval(poll, POLL_MS);
    document.addEventListener("smmdesk:notice", poll);
    poll();
  }
})();
