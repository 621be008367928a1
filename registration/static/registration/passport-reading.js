/*
 * Passport reading on the registration form (registration/views_mrz.py).
 *
 * When the resident chooses the photo of their passport information page, it is sent at
 * once; the page then asks every 1.5 s until the machine-readable zone is read, and fills
 * the identity and document fields the server could prove. A field the resident already
 * filled is never changed. The photo stays with the form attempt on the server, so the form
 * does not send it a second time. Without JavaScript (or fetch) nothing happens: the form
 * works as before.
 */
(function () {
  "use strict";
  var box = document.getElementById("linli-passport-reading");
  if (!box || !window.fetch || !window.FormData) { return; }
  var form = box.closest("form");
  var input = form && form.querySelector('input[type="file"][name="passport_page"]');
  var token = form && form.querySelector('input[name="csrfmiddlewaretoken"]');
  if (!input || !token) { return; }
  var POLL_MS = 1500;
  var GIVE_UP_MS = 45000;
  var round = 0;

  function show(kind, message, notes) {
    box.className = "alert alert-" + kind;
    box.textContent = "";
    if (message) {
      var lead = document.createElement("p");
      lead.className = "mb-1";
      lead.textContent = message;
      box.appendChild(lead);
    }
    (notes || []).forEach(function (note) {
      var line = document.createElement("p");
      line.className = "mb-1 small";
      line.textContent = note;
      box.appendChild(line);
    });
  }

  function fill(fields) {
    Object.keys(fields).forEach(function (name) {
      var value = fields[name];
      var radios = form.querySelectorAll('input[type="radio"][name="' + name + '"]');
      if (radios.length) {
        var chosen = Array.prototype.some.call(radios, function (r) { return r.checked; });
        if (!chosen) {
          Array.prototype.forEach.call(radios, function (r) {
            if (r.value === value) { r.checked = true; }
          });
        }
        return;
      }
      var field = form.elements[name];
      if (!field || field.value) { return; }
      if (field.tagName === "SELECT") {
        var known = Array.prototype.some.call(field.options, function (o) { return o.value === value; });
        if (!known) { return; }
      }
      field.value = value;
      field.classList.add("border-warning", "bg-warning-subtle");
      field.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  function answer(mine, started, body) {
    if (mine !== round) { return; }
    if (body.status === "done") {
      fill(body.fields || {});
      var notes = body.notes || [];
      show(notes.length && !(body.fields && Object.keys(body.fields).length) ? "warning" : "info",
           body.message || "", notes);
      return;
    }
    if (body.status !== "pending" || Date.now() - started > GIVE_UP_MS) {
      show("warning", box.dataset.failed);
      return;
    }
    show("info", body.message || box.dataset.sending);
    window.setTimeout(function () { poll(mine, started); }, POLL_MS);
  }

  function poll(mine, started) {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (body) { answer(mine, started, body); })
      .catch(function () { if (mine === round) { show("warning", box.dataset.failed); } });
  }

  // With photo-shrink.js the photo is sent once shrunk (its `linli:photo-ready` event);
  // without it, as soon as it is chosen.
  input.addEventListener("change", function () {
    if (input.dataset.linliShrink === "on") { return; }
    send(input.files && input.files[0]);
  });
  input.addEventListener("linli:photo-ready", function (event) {
    send(event.detail && event.detail.file);
  });

  function send(file) {
    if (!file) { return; }
    round += 1;
    var mine = round;
    var data = new FormData();
    data.append("passport_page", file);
    show("info", box.dataset.sending);
    fetch(box.dataset.url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token.value, "Accept": "application/json" }
    })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (mine !== round) { return; }
        if (!result.ok) {
          // The form sends the file again and shows the error next to the field.
          show("warning", result.body.error || box.dataset.failed);
          return;
        }
        // The server keeps the photo with this form: the form need not send it again.
        input.value = "";
        var hint = document.getElementById("linli-passport-received");
        if (!hint) {
          hint = document.createElement("div");
          hint.id = "linli-passport-received";
          hint.className = "small text-success";
          input.insertAdjacentElement("afterend", hint);
        }
        hint.textContent = box.dataset.received;
        answer(mine, Date.now(), result.body);
      })
      .catch(function () { if (mine === round) { show("warning", box.dataset.failed); } });
  }
}());
