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
  document.addEventListener("change", function (event) {
    // A photo over the size the server accepts is refused here, before a long upload on
    // a weak signal; the server refuses it too (on the form, with what was typed kept).
    var input = event.target;
    if (!input.matches || !input.matches('input[type="file"][data-max-bytes]')) return;
    var max = Number(input.dataset.maxBytes);
    var tooBig = Array.prototype.some.call(input.files || [], function (f) {
      return f.size > max;
    });
    var note = input.nextElementSibling;
    if (!note || !note.hasAttribute("data-file-error")) {
      note = document.createElement("p");
      note.className = "form-error";
      note.setAttribute("data-file-error", "");
      note.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", note);
    }
    note.textContent = tooBig ? input.dataset.tooLarge : "";
    note.hidden = !tooBig;
    if (tooBig) input.value = "";
  });
  document.addEventListener("submit", function (event) {
    // One tap, one submit: the button waits while the page loads (the server also
    // guards with an idempotency key).
    var button = event.submitter;
    if (!button || button.name === "refresh" || button.hasAttribute("formaction")) return;
    setTimeout(function () { button.disabled = true; }, 0);
  });
})();
