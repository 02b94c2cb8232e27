// Live character counters for the ad editor: each field with data-limit shows its length (the longest
// line for one-per-line fields) against the platform's limit, and is marked when it goes over.
(function () {
  // Characters as the server counts them (code points), so an emoji is one, not two.
  function size(text) { return Array.from(text).length; }
  function longest(field) {
    if (field.dataset.perLine !== "1") return size(field.value);
    return field.value.split("\n").reduce(function (most, line) { return Math.max(most, size(line.trim())); }, 0);
  }
  function update(field) {
    var counter = document.querySelector('[data-counter-for="' + field.id + '"]');
    if (!counter) return;
    var limit = parseInt(field.dataset.limit, 10);
    var used = longest(field);
    counter.textContent = used + " / " + limit;
    counter.classList.toggle("over", used > limit);
    counter.dataset.over = used > limit ? "1" : "0";
  }
  function start() {
    document.querySelectorAll("[data-limit]").forEach(function (field) {
      update(field);
      field.addEventListener("input", function () { update(field); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
