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

// The group order of an item page: the total for the typed quantity at the tier the group would reach,
// and the time left until pre-orders close. The page renders both; this keeps them current. Texts and
// prices come from the page (data-template, data-tiers), in its language and currency.
(() => {
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => String(values[k]));
  const total = document.querySelector("[data-group=total]");
  const quantity = document.querySelector("#preorder input[name=quantity]");
  if (total && quantity) {
    const steps = JSON.parse(total.dataset.tiers);
    const money = new Intl.NumberFormat(total.dataset.lang, { style: "currency", currency: total.dataset.currency });
    const update = () => {
      const n = parseInt(quantity.value, 10);
      if (!(n > 0)) return;
      let price = steps[0][1];
      for (const [from, unit] of steps) if (Number(total.dataset.committed) + n >= from) price = unit;
      total.textContent = fill(total.dataset.template, { n, price: money.format(price / 100), total: money.format(n * price / 100) });
    };
    quantity.addEventListener("input", update);
    update();
  }
  const countdown = document.querySelector("[data-group=countdown]");
  if (countdown) {
    const closes = Date.parse(countdown.dataset.closes);
    const tick = () => {
      const left = Math.max(0, Math.floor((closes - Date.now()) / 1000));
      countdown.textContent = fill(countdown.dataset.template,
        { d: Math.floor(left / 86400), h: Math.floor(left % 86400 / 3600), m: Math.floor(left % 3600 / 60) });
    };
    tick();
    setInterval(tick, 15000);
  }
})();
