/*
 * Photos shrink on the phone before they are sent (registration form, update forms).
 *
 * The server keeps at most REGISTRATION_IMAGE_MAX_SIDE pixels on the longest side, so a
 * 12-megapixel photo is resized here first (EXIF orientation applied, JPEG 0.85): about a
 * tenth of the bytes cross a slow mobile uplink. The form is then sent with XMLHttpRequest,
 * which shows the upload's progress, and the server's answer (the review page, the form
 * with its errors, or the page a redirect leads to) replaces this page.
 *
 * Without JavaScript, or when anything here fails (an old browser, a HEIC photo the
 * browser cannot decode, a network error), the form posts exactly as it always did.
 * The passport-reading script sends the shrunken passport photo: it listens for the
 * `linli:photo-ready` event this script dispatches on the input.
 */
(function () {
  "use strict";
  var box = document.getElementById("linli-upload");
  if (!box || !window.FormData || !window.XMLHttpRequest || !window.Promise) { return; }
  var canvasOk = !!document.createElement("canvas").toBlob;
  if (!canvasOk) { return; }
  var form = box.closest("form");
  if (!form) { return; }
  // REGISTRATION_IMAGE_MAX_SIDE, from the page: one limit, set in the settings only.
  var MAX_SIDE = parseInt(box.dataset.maxSide, 10);
  if (!(MAX_SIDE > 0)) { return; }
  var QUALITY = 0.85;
  var KEEP_BELOW_BYTES = 600 * 1024; // small enough already: sent as chosen
  var inputs = Array.prototype.slice.call(form.querySelectorAll('input[type="file"]'));
  if (!inputs.length) { return; }
  var ready = new Map(); // input -> Promise<File|null> (null: send what was chosen)
  var bar = box.querySelector(".progress-bar");
  var progress = box.querySelector('[role="progressbar"]');
  var sending = false;

  function decode(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file, { imageOrientation: "from-image" });
    }
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () { resolve(img); };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("decode")); };
      img.src = url;
    });
  }

  function shrink(file) {
    if (!file || !/^image\//.test(file.type)) { return Promise.resolve(null); }
    return decode(file).then(function (image) {
      var width = image.width, height = image.height;
      var scale = Math.min(1, MAX_SIDE / Math.max(width, height));
      if (scale === 1 && file.size <= KEEP_BELOW_BYTES) { return null; }
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(width * scale));
      canvas.height = Math.max(1, Math.round(height * scale));
      var context = canvas.getContext("2d");
      context.imageSmoothingEnabled = true;
      context.imageSmoothingQuality = "high";
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
      if (image.close) { image.close(); }
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) { resolve(null); return; }
          var name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg", lastModified: Date.now() }));
        }, "image/jpeg", QUALITY);
      });
    }).catch(function () { return null; });
  }

  inputs.forEach(function (input) {
    input.dataset.linliShrink = "on";
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) { ready.delete(input); return; }
      var job = shrink(file);
      ready.set(input, job);
      job.then(function (small) {
        if (ready.get(input) !== job) { return; }
        input.dispatchEvent(new CustomEvent("linli:photo-ready", {
          bubbles: true, detail: { file: small || file, original: file }
        }));
      });
    });
  });

  function setProgress(percent) {
    var value = Math.max(0, Math.min(100, Math.round(percent)));
    progress.setAttribute("aria-valuenow", String(value));
    bar.style.width = value + "%";
    bar.textContent = value + "%";
  }

  function buttons(disabled) {
    Array.prototype.forEach.call(form.querySelectorAll('button[type="submit"], button:not([type]), input[type="submit"]'), function (button) {
      button.disabled = disabled;
      if (disabled) { button.setAttribute("aria-disabled", "true"); } else { button.removeAttribute("aria-disabled"); }
    });
  }

  function native(submitter) {
    // Post exactly as without JavaScript: the chosen files are still in the inputs.
    if (submitter && submitter.name) {
      var extra = document.createElement("input");
      extra.type = "hidden";
      extra.name = submitter.name;
      extra.value = submitter.value;
      form.appendChild(extra);
    }
    box.hidden = true;
    HTMLFormElement.prototype.submit.call(form);
  }

  function fallback() {
    sending = false;
    buttons(false);
    native(lastSubmitter);
  }

  function show(xhr) {
    var html = xhr.responseText;
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (!html || type.indexOf("text/html") !== 0) { fallback(); return; }
    var url = xhr.responseURL || window.location.href;
    document.open();
    document.write(html);
    document.close();
    // The address bar shows the page now on screen (a redirect's target). Replaced, not
    // pushed: "back" leaves the form as it would after an ordinary post and redirect.
    window.history.replaceState(null, "", url);
  }

  var lastSubmitter = null;

  function send(submitter, files) {
    var data = new FormData(form);
    if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
    inputs.forEach(function (input, index) {
      // The passport-reading script may have emptied the input: the server has that photo.
      if (files[index] && input.files && input.files.length) {
        data.set(input.name, files[index], files[index].name);
      }
    });
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action") || window.location.href);
    xhr.setRequestHeader("Accept", "text/html");
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) { setProgress(100 * event.loaded / event.total); }
    });
    xhr.addEventListener("load", function () { setProgress(100); show(xhr); });
    xhr.addEventListener("error", fallback);
    xhr.addEventListener("abort", fallback);
    xhr.addEventListener("timeout", fallback);
    xhr.send(data);
  }

  form.addEventListener("submit", function (event) {
    if (sending) { event.preventDefault(); return; }
    var chosen = inputs.some(function (input) { return input.files && input.files.length; });
    if (!chosen) { return; } // no photo in this post: nothing to shrink
    event.preventDefault();
    sending = true;
    lastSubmitter = event.submitter || null;
    buttons(true);
    var jobs = inputs.map(function (input) {
      return ready.get(input) || shrink(input.files && input.files[0]);
    });
    Promise.all(jobs).then(function (files) {
      if (!files.some(Boolean)) {
        // Nothing got smaller (small photos, or ones this browser cannot decode): the
        // ordinary post sends the same bytes and is a real navigation.
        native(lastSubmitter);
        return;
      }
      box.hidden = false;
      setProgress(0);
      send(lastSubmitter, files);
    }).catch(fallback);
  });
}());
