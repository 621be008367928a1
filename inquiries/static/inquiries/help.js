// Make the emergency notice prominent as soon as "safety" or "urgent" is chosen.
(function () {
  "use strict";
  var form = document.querySelector("[data-emergency-form]");
  var notice = document.getElementById("emergency-notice");
  if (!form || !notice) { return; }
  function update() {
    var category = form.querySelector("[name=category]");
    var urgent = form.querySelector("[name=urgency][value=urgent]");
    var on = (category && category.value === "safety") || (urgent && urgent.checked);
    notice.classList.toggle("alert-danger", on);
    notice.classList.toggle("border-danger", on);
    notice.classList.toggle("border-2", on);
    notice.classList.toggle("alert-warning", !on);
    if (on) { notice.setAttribute("role", "alert"); } else { notice.removeAttribute("role"); }
  }
  form.addEventListener("change", update);
  update();
})();
