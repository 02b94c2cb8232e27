// Listening's buttons answer a refusal (409) or bad input (400) with the row or card itself, the reason
// written in it; htmx leaves error answers unshown unless told, so they are swapped in like any other.
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  const status = event.detail.xhr.status;
  if (target && target.closest("[data-listening]") && (status === 400 || status === 409)) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
