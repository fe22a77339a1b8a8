// Berth's own script: small enhancements that pages do not depend on.
// Loaded with defer; no inline script anywhere, so a strict CSP holds.
(function () {
  "use strict";

  // Copy buttons: <button data-copy="#target">. Shown only when the
  // clipboard API exists, since without script the text is selectable anyway.
  function wireCopy(root) {
    if (!navigator.clipboard) return;
    root.querySelectorAll("button[data-copy]").forEach(function (btn) {
      if (btn.dataset.wired) return;
      btn.dataset.wired = "1";
      btn.hidden = false;
      btn.addEventListener("click", function () {
        var target = document.querySelector(btn.dataset.copy);
        if (!target) return;
        navigator.clipboard.writeText(target.textContent.trim()).then(function () {
          var label = btn.textContent;
          btn.textContent = "Copied";
          setTimeout(function () { btn.textContent = label; }, 1500);
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { wireCopy(document); });
  document.addEventListener("htmx:afterSettle", function (e) { wireCopy(e.target); });
})();
