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

  /* Live queue: the 15-second poll (hx-trigger on [data-poll]) waits while the agent is busy in
     the list (a ticked box, focus in the bulk bar) or the tab is hidden. */
  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail && event.detail.elt;
    if (!element || !element.hasAttribute || !element.hasAttribute("data-poll")) {
      return;
    }
    var busy = element.querySelector('input[name="tickets"]:checked') ||
      (document.activeElement && element.contains(document.activeElement) &&
        document.activeElement.matches("input, select, textarea"));
    if (document.hidden || busy) {
      event.preventDefault();
    }
  });

  /* Presence: typing a reply turns the heartbeat's state to "replying" for 20 seconds. */
  var typingTimer = null;
  document.addEventListener("input", function (event) {
    var state = document.getElementById("presence-state");
    if (!state || !event.target.closest || !event.target.closest("#reply")) {
      return;
    }
    if (state.value !== "replying" && window.htmx) {
      state.value = "replying";
      var box = document.getElementById("desk-presence");
      if (box) {
        window.htmx.trigger(box, "presence-now"); // tell the others at once, not in 10 s
      }
    }
    state.value = "replying";
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(function () {
      state.value = "viewing";
    }, 20000);
  });

  /* Keyboard: j/k move in the queue, o (or Enter) opens, r jumps to the reply box, ? shows the
     list. Never while typing in a field, never with a modifier key; Escape closes the help. */
  var cursor = -1;

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-queue-rows] tr"));
  }

  function move(step) {
    var list = rows();
    if (!list.length) {
      return;
    }
    cursor = Math.max(0, Math.min(list.length - 1, cursor + step));
    list.forEach(function (row, index) {
      row.classList.toggle("row-cursor", index === cursor);
    });
    var link = list[cursor].querySelector("a[href]");
    if (link) {
      link.focus();
    }
  }

  function help() {
    // The list itself is in the page (templates/diagnosis/_desk_keyboard_help.html, translated).
    var box = document.getElementById("keyboard-help");
    if (box) {
      box.hidden = !box.hidden;
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) {
      return;
    }
    var target = event.target;
    if (target.isContentEditable || (target.matches && target.matches("input, textarea, select"))) {
      return;
    }
    if (event.key === "j") {
      move(1);
    } else if (event.key === "k") {
      move(-1);
    } else if (event.key === "o" && cursor >= 0 && rows()[cursor]) {
      window.location.href = rows()[cursor].getAttribute("data-ticket-url");
    } else if (event.key === "r") {
      var box = document.querySelector("#reply textarea");
      if (!box) {
        return;
      }
      box.focus();
    } else if (event.key === "?") {
      help();
    } else if (event.key === "Escape") {
      var shown = document.getElementById("keyboard-help");
      if (shown) {
        shown.hidden = true;
      }
      return;
    } else {
      return;
    }
    event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-keyboard-help]")) {
      help();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    reveal(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    reveal(event.target);
    var list = rows();
    if (cursor >= list.length) {
      cursor = list.length - 1;
    }
    if (cursor >= 0 && list[cursor]) {
      list[cursor].classList.add("row-cursor");
    }
  });
})();
