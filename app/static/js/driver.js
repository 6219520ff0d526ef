// Driver end 司机端: copy the address, print the loading list, and upload photos of the
// signed delivery note. Every page works without this script (plain forms and links).
(function () {
  "use strict";

  var MAX_SIDE = 2000; // longest side of a scaled photo, in pixels
  var QUALITY = 0.85; // JPEG quality of a scaled photo
  var RETRIES = 3; // a failed upload (network error or 5xx) is tried again this often
  var BACKOFF_MS = 1000; // first wait before trying again; doubled each time

  /* ---- copy the address ---------------------------------------------------------------- */
  function selectText(node) {
    if (!node || !window.getSelection) return;
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    var label = button.innerHTML;
    function say(text) {
      button.textContent = text;
      setTimeout(function () { button.innerHTML = label; }, 1800);
    }
    function fallback() {
      // Old WebViews: copy through a hidden text area; if even that fails, select the
      // address on the page so that a long press copies it.
      var area = document.createElement("textarea");
      area.value = button.dataset.copy;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.top = "0";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      document.body.removeChild(area);
      if (copied) {
        say(button.dataset.done);
      } else {
        var card = button.closest(".daddr-block") || document;
        selectText(card.querySelector("[data-address]"));
        say(button.dataset.fallback || button.dataset.done);
      }
    }
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(button.dataset.copy).then(function () {
          say(button.dataset.done);
        }, fallback);
      } else {
        fallback();
      }
    });
  });

  /* ---- print the loading list -------------------------------------------------------- */
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  /* ---- photos of the signed delivery note ------------------------------------------------ */
  var form = document.querySelector("[data-photo-form]");
  if (!form || !window.fetch || !window.FormData) return;
  var input = form.querySelector('input[type="file"]');
  var queueList = form.querySelector("[data-queue]");
  var grid = document.querySelector("[data-photo-grid]");
  var counter = document.querySelector("[data-photo-count]");
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.content : (form.querySelector('[name="csrf_token"]') || {}).value;
  var msg = form.dataset;
  var pending = 0;
  var chain = Promise.resolve(); // one photo at a time: light on the phone's memory

  function text(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (all, key) {
      return key in values ? values[key] : all;
    });
  }

  function setBusy(delta) {
    pending += delta;
    // Completing while photos are still on their way would be refused: wait.
    document.querySelectorAll('[data-action="complete_delivery"]').forEach(function (b) {
      b.disabled = pending > 0;
    });
  }

  function scale(file) {
    // Canvas -> JPEG, longest side at most MAX_SIDE. A file the browser cannot decode
    // goes as it is: the server decides (and refuses what is not a photo).
    return new Promise(function (resolve) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      var name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
      img.onload = function () {
        var w = img.naturalWidth, h = img.naturalHeight;
        var k = Math.min(1, MAX_SIDE / Math.max(w, h));
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(w * k));
        canvas.height = Math.max(1, Math.round(h * k));
        var ctx = canvas.getContext("2d");
        ctx.fillStyle = "#fff"; // transparent PNGs turn white, not black
        ctx.fillRect(0, 0, canvas.width, canvas.height);
        ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(url);
        canvas.toBlob(function (blob) {
          if (!blob || (k === 1 && file.type === "image/jpeg" && blob.size >= file.size)) {
            resolve({ blob: file, name: file.name || name });
          } else {
            resolve({ blob: blob, name: name });
          }
        }, "image/jpeg", QUALITY);
      };
      img.onerror = function () {
        URL.revokeObjectURL(url);
        resolve({ blob: file, name: file.name || name });
      };
      img.src = url;
    });
  }

  function wait(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function post(photo) {
    var data = new FormData();
    data.append("csrf_token", token);
    data.append("photos", photo.blob, photo.name);
    return fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token }
    }).then(function (resp) {
      return resp.json().catch(function () { return null; }).then(function (json) {
        return { status: resp.status, ok: resp.ok, json: json };
      });
    });
  }

  function upload(photo, item, attempt) {
    // Network errors and 5xx are tried again (RETRIES times, waiting longer each time);
    // a 4xx is the server's answer about this file and is shown as it is.
    return post(photo).then(function (result) {
      if (result.status >= 500) throw { retry: true };
      return result;
    }, function () {
      throw { retry: true, offline: navigator.onLine === false };
    }).catch(function (problem) {
      if (!problem || !problem.retry || attempt >= RETRIES) throw problem;
      status(item, "busy", text(msg.msgRetrying, { n: attempt + 1, max: RETRIES }));
      return wait(BACKOFF_MS * Math.pow(2, attempt)).then(function () {
        return upload(photo, item, attempt + 1);
      });
    });
  }

  function status(item, state, label) {
    item.className = state;
    item.querySelector(".dq-status").textContent = label;
  }

  function addThumb(photo) {
    if (!grid) return;
    var link = document.createElement("a");
    link.href = photo.url;
    link.target = "_blank";
    link.rel = "noopener";
    var img = document.createElement("img");
    img.src = photo.thumb;
    img.alt = msg.msgAlt || "";
    link.appendChild(img);
    grid.appendChild(link);
  }

  function uploaded(json) {
    (json.photos || []).forEach(addThumb);
    if (counter && json.count != null) counter.textContent = json.count;
    document.querySelectorAll("[data-photo-empty], [data-need-photo]").forEach(function (node) {
      node.hidden = true;
    });
  }

  function run(file, item) {
    setBusy(1);
    status(item, "busy", msg.msgPreparing);
    return scale(file).then(function (photo) {
      status(item, "busy", msg.msgUploading);
      return upload(photo, item, 0);
    }).then(function (result) {
      if (result.ok && result.json && result.json.ok) {
        status(item, "ok", msg.msgDone);
        uploaded(result.json);
        return;
      }
      var error = (result.json && result.json.error) ||
        (result.status === 413 ? msg.msgTooLarge : msg.msgFailed);
      status(item, "err", error); // refused by the server: trying again will not help
    }, function (problem) {
      status(item, "err", problem && problem.offline ? msg.msgOffline : msg.msgFailed);
      var again = document.createElement("button");
      again.type = "button";
      again.className = "dq-retry";
      again.textContent = msg.msgRetry;
      again.addEventListener("click", function () {
        item.removeChild(again);
        chain = chain.then(function () { return run(file, item); });
      });
      item.appendChild(again);
    }).then(function () { setBusy(-1); });
  }

  function queue(files) {
    Array.prototype.forEach.call(files, function (file) {
      var item = document.createElement("li");
      var preview = document.createElement("img");
      preview.alt = "";
      try {
        var url = URL.createObjectURL(file);
        preview.onload = function () { URL.revokeObjectURL(url); };
        preview.onerror = function () { // not a picture the browser can show
          URL.revokeObjectURL(url);
          var blank = document.createElement("span");
          blank.className = "dq-blank";
          if (preview.parentNode) preview.parentNode.replaceChild(blank, preview);
        };
        preview.src = url;
      } catch (e) { /* no preview */ }
      var name = document.createElement("span");
      name.className = "dq-name";
      name.textContent = file.name || "";
      var state = document.createElement("span");
      state.className = "dq-status";
      item.appendChild(preview);
      item.appendChild(name);
      item.appendChild(state);
      queueList.appendChild(item);
      status(item, "busy", msg.msgPreparing);
      chain = chain.then(function () { return run(file, item); });
    });
  }

  input.removeAttribute("required"); // the script uploads as soon as photos are chosen
  input.addEventListener("change", function () {
    if (input.files && input.files.length) queue(input.files);
    input.value = ""; // the same photo can be chosen again
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (input.files && input.files.length) queue(input.files);
    input.value = "";
  });
})();
