// Reply templates: picking one copies its text into the reply box, where staff edit it.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.querySelector("select[data-reply-templates]");
    var data = document.getElementById("reply-template-texts");
    var body = document.getElementById("id_entry_body");
    if (!select || !data || !body) { return; }
    var texts = JSON.parse(data.textContent);
    select.addEventListener("change", function () {
      if (texts[select.value] !== undefined) { body.value = texts[select.value]; body.focus(); }
    });
  });
})();
