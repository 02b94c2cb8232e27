// Publishing enhancements: the editor's channel tabs, live character counters and UTM link, best-time
// buttons, and drag and drop in the calendar. Every page works without this file (the calendar has a
// date field beside each post); it is a static file because the Content Security Policy refuses inline
// scripts. Text people typed is only ever put into the page with textContent.
(function () {
  "use strict";

  // The editor: one tab per chosen channel.

  function chosenChannels() {
    return Array.from(document.querySelectorAll("[data-channel-toggle]"))
      .filter((box) => box.checked)
      .map((box) => box.dataset.channelToggle);
  }

  function showTab(id) {
    document.querySelectorAll("[data-variant]").forEach((panel) => {
      panel.hidden = panel.dataset.variant !== id;
    });
    document.querySelectorAll("[data-variant-tab]").forEach((tab) => {
      const active = tab.dataset.variantTab === id;
      tab.setAttribute("aria-selected", active ? "true" : "false");
      tab.tabIndex = active ? 0 : -1;
    });
  }

  function refreshTabs(preferred) {
    const tabs = document.querySelector("[data-variant-tabs]");
    if (!tabs) return;
    const chosen = chosenChannels();
    tabs.hidden = chosen.length === 0;
    tabs.querySelectorAll("[data-variant-tab]").forEach((tab) => {
      tab.hidden = !chosen.includes(tab.dataset.variantTab);
    });
    const current = tabs.querySelector("[aria-selected=true]:not([hidden])");
    // A panel with an error is opened first, so the person sees what to fix.
    const failing = tabs.querySelector(".has-errors:not([hidden])");
    const id =
      preferred && chosen.includes(preferred)
        ? preferred
        : (failing && failing.dataset.variantTab) || (current && current.dataset.variantTab) || chosen[0];
    if (id) showTab(id);
    else document.querySelectorAll("[data-variant]").forEach((panel) => (panel.hidden = true));
  }

  // Counting as the network counts (validation.py is the judge; this is the live hint).

  const URL_RE = /https?:\/\/[^\s]+/g;

  function xWeight(codePoint) {
    const light = [
      [0, 4351],
      [8192, 8205],
      [8208, 8223],
      [8242, 8247],
    ];
    return light.some(([from, to]) => codePoint >= from && codePoint <= to) ? 1 : 2;
  }

  function measure(kind, text) {
    text = text.replace(/\r\n/g, "\n");
    if (kind === "x" || kind === "mastodon") {
      let length = 0;
      let rest = text.replace(URL_RE, () => {
        length += 23;
        return "";
      });
      for (const ch of rest) length += kind === "x" ? xWeight(ch.codePointAt(0)) : 1;
      return length;
    }
    // Bluesky counts what a reader sees as one character (an emoji with a skin tone is one).
    if (kind === "bluesky" && typeof Intl !== "undefined" && Intl.Segmenter) {
      return Array.from(new Intl.Segmenter().segment(text)).length;
    }
    return Array.from(text).length;
  }

  function fieldOf(panel, suffix) {
    return panel.querySelector(`[name$="-${suffix}"]`);
  }

  function finalUrl(panel) {
    const link = fieldOf(panel, "link");
    if (!link || !link.value.trim()) return "";
    let url;
    try {
      url = new URL(link.value.trim());
    } catch (error) {
      return "";
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return "";
    ["source", "medium", "campaign", "content", "term"].forEach((key) => {
      const field = fieldOf(panel, `utm_${key}`);
      const value = field ? field.value.trim() : "";
      // Parameters the link already carries are kept as they are (models.add_utm).
      if (value && !url.searchParams.has(`utm_${key}`)) url.searchParams.append(`utm_${key}`, value);
    });
    return url.toString();
  }

  function postedText(panel, textarea, link) {
    let text = textarea.value;
    const tagsField = fieldOf(panel, "hashtags");
    const tags = (tagsField ? tagsField.value : "")
      .replace(/,/g, " ")
      .split(/\s+/)
      .map((tag) => tag.replace(/^#+/, ""))
      .filter((tag) => tag && !text.toLowerCase().includes(`#${tag}`.toLowerCase()))
      .map((tag) => `#${tag}`);
    if (tags.length) text = text ? `${text}\n\n${tags.join(" ")}` : tags.join(" ");
    if (link && textarea.dataset.linkInText && !text.includes(link)) text = `${text}\n\n${link}`.trim();
    return text;
  }

  function updateVariant(panel) {
    const textarea = panel.querySelector("textarea[data-max-length]");
    if (!textarea) return;
    const link = finalUrl(panel);
    const shown = panel.querySelector("[data-final-url]");
    if (shown) shown.textContent = link;
    const counter = panel.querySelector(`[data-counter-for="${textarea.id}"]`);
    if (!counter) return;
    const count = measure(textarea.dataset.countKind || "", postedText(panel, textarea, link));
    const withMedia = panel.querySelector('.media-pick input[type="checkbox"]:checked') !== null;
    const max = parseInt((withMedia && textarea.dataset.maxCaption) || textarea.dataset.maxLength || "0", 10);
    counter.querySelector("[data-count]").textContent = String(count);
    const shownMax = counter.querySelector("[data-max]");
    if (shownMax) shownMax.textContent = String(max);
    counter.classList.toggle("over", max > 0 && count > max);
  }

  document.addEventListener("input", (event) => {
    const panel = event.target.closest("[data-variant]");
    if (panel) updateVariant(panel);
  });

  document.addEventListener("change", (event) => {
    const toggle = event.target.closest("[data-channel-toggle]");
    if (toggle) refreshTabs(toggle.checked ? toggle.dataset.channelToggle : null);
  });

  document.addEventListener("click", (event) => {
    const tab = event.target.closest("[data-variant-tab]");
    if (tab) showTab(tab.dataset.variantTab);
    const fill = event.target.closest("[data-fill-date]");
    if (fill) {
      const form = fill.closest("form");
      const date = form.querySelector("input[name=date]");
      const time = form.querySelector("input[name=time]");
      if (date) date.value = fill.dataset.fillDate;
      if (time) time.value = fill.dataset.fillTime;
      (time || date).dispatchEvent(new Event("change", { bubbles: true }));
    }
  });

  // Arrow keys move between the tabs, as in any tab list.
  document.addEventListener("keydown", (event) => {
    const tab = event.target.closest("[data-variant-tab]");
    if (!tab || !["ArrowLeft", "ArrowRight"].includes(event.key)) return;
    const tabs = Array.from(document.querySelectorAll("[data-variant-tab]:not([hidden])"));
    const index = tabs.indexOf(tab) + (event.key === "ArrowRight" ? 1 : -1);
    const next = tabs[(index + tabs.length) % tabs.length];
    if (next) {
      event.preventDefault();
      showTab(next.dataset.variantTab);
      next.focus();
    }
  });

  // The calendar: drag a post to another day (month) or day and hour (week). The drop fills the page's
  // one reschedule form and submits it, as the date field beside each post does by hand.

  let dragged = null;

  document.addEventListener("dragstart", (event) => {
    const chip = event.target.closest && event.target.closest("[data-reschedule-url]");
    if (!chip) return;
    dragged = chip;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", chip.dataset.postId || "");
    chip.classList.add("dragging");
  });

  document.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    document.querySelectorAll(".drop-over").forEach((cell) => cell.classList.remove("drop-over"));
  });

  function dropCell(event) {
    return dragged && event.target.closest ? event.target.closest("[data-drop-date]") : null;
  }

  document.addEventListener("dragover", (event) => {
    const cell = dropCell(event);
    if (!cell) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".drop-over").forEach((other) => other !== cell && other.classList.remove("drop-over"));
    cell.classList.add("drop-over");
  });

  document.addEventListener("drop", (event) => {
    const cell = dropCell(event);
    if (!cell) return;
    event.preventDefault();
    const chip = dragged;
    const form = document.getElementById("drop-form");
    if (!form || !chip) return;
    const hour = cell.dataset.dropHour || "";
    const fromCell = chip.closest("[data-drop-date]");
    const same =
      fromCell && fromCell.dataset.dropDate === cell.dataset.dropDate && (fromCell.dataset.dropHour || "") === hour;
    if (same) return;
    form.action = chip.dataset.rescheduleUrl;
    form.elements.date.value = cell.dataset.dropDate;
    form.elements.hour.value = hour;
    cell.classList.add("drop-busy");
    form.requestSubmit();
  });

  document.addEventListener("DOMContentLoaded", () => {
    refreshTabs(null);
    document.querySelectorAll("[data-variant]").forEach(updateVariant);
  });
})();
