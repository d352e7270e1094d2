// trendloom pages work without JavaScript; this only stops a long form (generate, publish, match)
// from being sent twice, and says it is working. The text comes from the page (data-busy), so it is
// already in the page's language.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.busy) return;
  const button = form.querySelector("button[type=submit]");
  if (!button) return;
  if (form.dataset.sent) { event.preventDefault(); return; }
  form.dataset.sent = "1";
  // disabled after the form data is gathered, so the button's own name/value would still be sent
  setTimeout(() => { button.disabled = true; button.textContent = form.dataset.busy; }, 0);
});
