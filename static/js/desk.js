/* Agents' desk: small enhancements only; every page works without this file. */
(function () {
  "use strict";

  function reveal(root) {
    root.querySelectorAll("[data-js-only]").forEach(function (element) {
      element.hidden = false;
    });
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-select-all]")) {
      return;
    }
    var form = box.closest("form");
    if (!form) {
      return;
    }
    form.querySelectorAll('input[type="checkbox"][name="tickets"]').forEach(function (item) {
      item.checked = box.checked;
    });
  });

  document.addEventListener("click", function (event) {
    var trigger = event.target.closest ? event.target.closest("[data-print]") : null;
    if (trigger) {
      event.preventDefault();
      window.print();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    reveal(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    reveal(event.target);
  });
})();
