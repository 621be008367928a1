/*
 * Small enhancements of the registration pages; each works without JavaScript too.
 *
 * - The deadline countdown ([data-linli-countdown]): the server wrote the time left at page
 *   load; it is counted down every minute from that figure (not from the phone's clock,
 *   which may be wrong), and turns into the late state once the deadline passes.
 * - The error summary ([data-linli-focus]) takes the focus on load, so a screen reader
 *   reads the errors first and a keyboard starts there.
 * - The copy button ([data-linli-copy]) copies the private link; where the clipboard is
 *   not allowed, it selects the link for the phone's own Copy. Hidden without JavaScript.
 */
(function () {
  "use strict";
  // Included by several parts of one page: run once per document (photo-shrink.js may
  // write a new document into this same window, so the mark is not on the window).
  var root = document.documentElement;
  if (root.hasAttribute("data-linli-page")) { return; }
  root.setAttribute("data-linli-page", "");

  var loaded = Date.now();

  function tick(element) {
    var text = element.querySelector(".linli-countdown-text");
    var total = parseInt(element.dataset.secondsLeft, 10);
    if (!text || isNaN(total)) { return; }
    var left = Math.max(0, total - Math.floor((Date.now() - loaded) / 1000));
    if (left <= 0 && element.dataset.late) {
      text.textContent = element.dataset.late;
      text.classList.add("text-danger");
      return;
    }
    text.textContent = element.dataset.left
      .replace("__H__", String(Math.floor(left / 3600)))
      .replace("__M__", String(Math.floor(left % 3600 / 60)));
  }

  var countdowns = Array.prototype.slice.call(document.querySelectorAll("[data-linli-countdown]"));
  if (countdowns.length) {
    window.setInterval(function () { countdowns.forEach(tick); }, 60000);
  }

  var summary = document.querySelector("[data-linli-focus]");
  if (summary) { summary.focus(); }

  function select(link) {
    var range = document.createRange();
    range.selectNodeContents(link);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-linli-copy]"), function (button) {
    var link = document.getElementById(button.dataset.linliCopy);
    var status = button.parentNode.querySelector("[data-linli-copy-status]");
    if (!link) { return; }
    button.hidden = false;
    function say(message) { if (status) { status.textContent = message; } }
    button.addEventListener("click", function () {
      var value = link.href || link.textContent;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(value).then(function () {
          say(button.dataset.copied);
        }, function () {
          select(link);
          say(button.dataset.select);
        });
        return;
      }
      select(link);
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
      say(copied ? button.dataset.copied : button.dataset.select);
    });
  });
}());
