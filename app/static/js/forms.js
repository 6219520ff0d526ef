// Small helpers for every mobile page; each page also works without them.
(function () {
  document.documentElement.classList.add("js");
  document.addEventListener("change", function (event) {
    // Checkout: a new delivery option or address refreshes payments and freight.
    var input = event.target.closest("[data-refresh]");
    if (!input || !input.form) return;
    var refresh = input.form.querySelector('[name="refresh"]');
    if (refresh) refresh.click();
  });
  document.addEventListener("submit", function (event) {
    // One tap, one submit: the button waits while the page loads (the server also
    // guards with an idempotency key).
    var button = event.submitter;
    if (!button || button.name === "refresh" || button.hasAttribute("formaction")) return;
    setTimeout(function () { button.disabled = true; }, 0);
  });
})();
