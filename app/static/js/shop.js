/* Storefront helpers, no build step. Every page works without this file:
   the quantity fields are plain number inputs (step = the MOQ) and the server checks
   every quantity (services/cart.py); this only makes them quicker to use. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function int(value) {
    var n = parseInt(value, 10);
    return isNaN(n) ? 0 : n;
  }

  function yuan(cents) {
    return "\u00a5" + (cents / 100).toFixed(2);
  }

  /* ---- quantity steppers on the product page ---- */
  var form = document.querySelector("[data-orderform]");
  if (form) {
    var summary = form.querySelector("[data-osum]");

    var refresh = function () {
      var chosen = 0, cents = 0, priced = true, bad = false;
      form.querySelectorAll(".spec[data-spec]").forEach(function (row) {
        var input = row.querySelector("input[type=number]");
        if (!input) return;
        var moq = int(row.dataset.moq), outer = int(row.dataset.outer);
        var stock = int(row.dataset.stock), qty = int(input.value);
        var minus = row.querySelector('[data-step="-1"]');
        var plus = row.querySelector('[data-step="1"]');
        var whole = row.querySelector("[data-whole]");
        if (minus) minus.disabled = qty <= 0;
        if (plus) plus.disabled = qty + moq > stock;
        if (whole) whole.disabled = qty + outer > stock;
        var wrong = qty < 0 || qty % moq !== 0 || qty > stock || String(input.value).indexOf(".") >= 0;
        input.classList.toggle("bad", wrong);
        bad = bad || wrong;
        row.classList.toggle("chosen", qty > 0);
        var sum = row.querySelector("[data-sum]");
        if (sum) {
          sum.textContent = qty > 0 && qty % moq === 0
            ? (qty / moq) + " " + row.dataset.inner + " = " + qty + " " + row.dataset.base
            : "";
        }
        if (qty > 0) {
          chosen += 1;
          if (row.dataset.cents) cents += qty * int(row.dataset.cents);
          else priced = false;
        }
      });
      if (!summary) return;
      summary.classList.toggle("bad", bad);
      if (bad) {
        summary.textContent = summary.dataset.bad;
        return;
      }
      if (!chosen) {
        summary.textContent = summary.dataset.none;
        return;
      }
      var text = chosen === 1 ? summary.dataset.one : summary.dataset.some.replace("{n}", chosen);
      if (priced && summary.dataset.total) {
        text += " \u00b7 " + summary.dataset.total.replace("{total}", yuan(cents));
      }
      summary.textContent = text;
    };

    form.addEventListener("click", function (event) {
      var button = event.target.closest("button.step");
      if (!button || button.disabled) return;
      var row = button.closest(".spec");
      var input = row.querySelector("input[type=number]");
      var moq = int(row.dataset.moq), stock = int(row.dataset.stock);
      var qty = int(input.value);
      qty = qty - (qty % moq); // back onto the MOQ grid first
      if (button.hasAttribute("data-whole")) qty += int(row.dataset.outer);
      else qty += int(button.dataset.step) * moq;
      if (qty < 0) qty = 0;
      if (qty > stock) return;
      input.value = qty;
      refresh();
    });
    form.addEventListener("input", refresh);
    form.addEventListener("submit", function () {
      var button = form.querySelector("[data-order]");
      if (button) setTimeout(function () { button.disabled = true; }, 0);
    });
    refresh();
  }

  /* ---- copy buttons (store addresses) ---- */
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = button.dataset.copy;
      var done = function () {
        var label = button.textContent;
        button.textContent = button.dataset.done || label;
        setTimeout(function () { button.textContent = label; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, fallback);
      } else {
        fallback();
      }
      function fallback() {
        var area = document.createElement("textarea");
        area.value = text;
        area.setAttribute("readonly", "");
        area.style.position = "fixed";
        area.style.opacity = "0";
        document.body.appendChild(area);
        area.select();
        try { document.execCommand("copy"); done(); } catch (e) { /* text stays selectable */ }
        document.body.removeChild(area);
      }
    });
  });

  /* ---- back arrows: go back when we came from this site ---- */
  document.querySelectorAll("[data-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (history.length > 1 && document.referrer.indexOf(location.origin + "/") === 0) {
        event.preventDefault();
        history.back();
      }
    });
  });

  /* ---- gallery counter and banner dots ---- */
  function track(strip, onIndex) {
    var update = function () {
      var index = Math.round(strip.scrollLeft / Math.max(1, strip.clientWidth));
      onIndex(index);
    };
    strip.addEventListener("scroll", function () { window.requestAnimationFrame(update); },
                           { passive: true });
  }
  var gallery = document.querySelector("[data-gallery]");
  var counter = document.querySelector("[data-gallery-count]");
  if (gallery && counter) {
    var total = gallery.children.length;
    track(gallery, function (i) { counter.textContent = (i + 1) + "/" + total; });
  }
  document.querySelectorAll("[data-carousel]").forEach(function (strip) {
    var dots = strip.parentNode.querySelectorAll(".dots i");
    var count = strip.children.length;
    var current = 0;
    track(strip, function (i) {
      current = i;
      dots.forEach(function (dot, n) { dot.classList.toggle("on", n === i); });
    });
    var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    if (count > 1 && !still) {
      setInterval(function () {
        if (document.hidden) return;
        var next = (current + 1) % count;
        strip.scrollTo({ left: next * strip.clientWidth, behavior: "smooth" });
      }, 4000);
    }
  });
})();
