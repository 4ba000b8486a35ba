// pyLapse: the little behaviour htmx does not cover. No page builds code from user text.
(function () {
  "use strict";

  // Form re-renders with validation errors come back as 422: swap them like a 200 so the user
  // sees the marked fields. Other errors are not swapped; they show as a message instead.
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "422", swap: true },
      { code: "[45]..", swap: false, error: true },
    ];
  }
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = xhr.responseText || xhr.statusText;
    try { text = JSON.parse(text).detail || text; } catch (e) { /* plain text */ }
    var box = document.getElementById("toast");
    if (!box) {
      box = document.createElement("p");
      box.id = "toast";
      box.className = "flash error toast";
      box.setAttribute("role", "alert");
      document.body.appendChild(box);
    }
    box.textContent = xhr.status + ": " + String(text).slice(0, 300);
    box.hidden = false;
    setTimeout(function () { box.hidden = true; }, 8000);
  });

  // Live preview: an MJPEG <img> streams only while its <details> is open, so a closed card
  // holds no upstream connection to the camera.
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!(details instanceof HTMLDetailsElement) || !details.classList.contains("preview")) return;
    var img = details.querySelector("img[data-src]");
    if (!img) return;
    if (details.open) { img.src = img.dataset.src + "?t=" + Date.now(); }
    else { img.removeAttribute("src"); details.classList.remove("enlarged"); }
  }, true);

  // Day boxes under a cron line: ticking a day writes the line's day-of-week field as names
  // (runs of three or more as a range, "mon-fri"; every day "*"); the line is what is saved.
  var DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  function dayRule(days) {
    if (days.length === DAYS.length) return "*";
    var parts = [], start = 0;
    for (var i = 1; i <= days.length; i++) {
      if (i === days.length || DAYS.indexOf(days[i]) !== DAYS.indexOf(days[i - 1]) + 1) {
        var run = days.slice(start, i);
        parts.push(run.length >= 3 ? run[0] + "-" + run[run.length - 1] : run.join(","));
        start = i;
      }
    }
    return parts.join(",");
  }
  document.addEventListener("change", function (event) {
    var box = event.target;
    var set = box.closest && box.closest("fieldset[data-days-for]");
    if (!set || box.type !== "checkbox") return;
    var ticked = DAYS.filter(function (d) { return set.querySelector("input[value=" + d + "]").checked; });
    if (!ticked.length) { box.checked = true; return; }  // a schedule runs on at least one day
    var input = set.closest(".schedule").querySelector("input[name='" + set.dataset.daysFor + "']");
    var parts = input.value.trim().split(/\s+/);
    if (parts.length < 5 || parts.length > 7) return;  // not a whole line yet: nothing to rewrite
    parts[parts.length === 5 ? 4 : 5] = dayRule(ticked);
    input.value = parts.join(" ");
    input.dispatchEvent(new Event("input", { bubbles: true }));  // the next-runs preview follows
  });

  // Live preview, enlarged to the whole window and back: a click on it, its button, or Escape.
  function enlarge(details, on) {
    details.classList.toggle("enlarged", on);
    var button = details.querySelector("[data-enlarge]");
    if (button) {
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.textContent = on ? "Close" : "Enlarge";
    }
  }
  document.addEventListener("click", function (event) {
    var target = event.target;
    var details = target.closest && target.closest("details.preview");
    if (!details || !(target.matches("[data-enlarge]") || target.matches("img"))) return;
    enlarge(details, !details.classList.contains("enlarged"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.preview.enlarged").forEach(function (d) { enlarge(d, false); });
  });

  // Camera form: show only the fieldsets that apply to the chosen source type.
  function showTypeFields(root) {
    var select = root.querySelector("select[name=type]");
    if (!select) return;
    root.querySelectorAll("[data-types]").forEach(function (el) {
      var types = el.dataset.types.split(" ");
      el.hidden = types.indexOf(select.value) < 0;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[name=type]")) {
      showTypeFields(event.target.form || document);
    }
  });
  // Schedule rows: show the cron inputs or the interval inputs, whichever kind is chosen.
  function showKindFields(row) {
    var select = row.querySelector("select[name$='-type']");
    if (!select) return;
    row.querySelectorAll("[data-kind]").forEach(function (el) {
      el.hidden = el.dataset.kind !== select.value;
    });
  }
  document.addEventListener("change", function (event) {
    var row = event.target.closest && event.target.closest(".schedule");
    if (row && event.target.matches("select[name$='-type']")) showKindFields(row);
  });

  function init(root) {
    (root.querySelectorAll ? root : document).querySelectorAll(".schedule").forEach(showKindFields);
    if (root.classList && root.classList.contains("schedule")) showKindFields(root);
    (root.querySelectorAll ? root : document).querySelectorAll("form.camera-form").forEach(showTypeFields);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });

  // <select data-autosubmit>: choosing an option submits its form (no inline onchange: the
  // Content-Security-Policy runs no inline handlers).
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.matches && select.matches("select[data-autosubmit]") && select.form) {
      select.form.requestSubmit();
    }
  });

  // Requests whose parameters come from the page as it is now (htmx's js: values would need
  // eval, which the Content-Security-Policy forbids).
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt.hasAttribute) return;
    // Dashboard cards: just the cameras the "capture" event names (one request for them all)
    if (elt.hasAttribute("data-changed-cameras")) {
      var sse = event.detail.triggeringEvent && event.detail.triggeringEvent.detail;
      var cameras = [];
      try { cameras = JSON.parse(sse && sse.data).cameras || []; } catch (e) { /* all */ }
      cameras.forEach(function (id) { event.detail.formData.append("camera", id); });
    }
    // "Add another schedule": an index no row on the page has yet
    if (elt.hasAttribute("data-new-schedule-row")) {
      event.detail.parameters.index = document.querySelectorAll("#schedules .schedule").length + 100;
    }
  });

  // <time class="ago" datetime="ISO">: "3 s ago" that keeps counting between server updates
  // (the same wording as the server's 'ago' filter).
  function span(seconds) {
    var s = Math.round(seconds);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    if (s >= 86400) return Math.floor(s / 86400) + " d " + Math.floor(s % 86400 / 3600) + " h";
    if (s >= 3600) return Math.floor(s / 3600) + " h " + two(Math.floor(s % 3600 / 60)) + " min";
    if (s >= 60) return Math.floor(s / 60) + " min " + two(s % 60) + " s";
    return s + " s";
  }
  function tickAgo() {
    var now = Date.now();
    document.querySelectorAll("time.ago[datetime]").forEach(function (el) {
      var then = Date.parse(el.getAttribute("datetime"));
      if (isNaN(then)) return;
      var delta = (now - then) / 1000;
      el.textContent = delta < 0 ? "in " + span(-delta) : span(delta) + " ago";
    });
  }
  setInterval(tickAgo, 1000);

  // Export forms: saving or running a selection of no frames asks first (the selection
  // preview on the page says how many frames the rules pick).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.dataset && form.dataset.warnEmpty;
    if (!message || !document.querySelector("#selection-preview [data-chosen='0']")) return;
    if (!window.confirm(message)) { event.preventDefault(); event.stopPropagation(); }
  }, true);

  // Destructive buttons ask first (data-confirm="text"), also when htmx is not handling them.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = (button && button.dataset.confirm) || event.target.dataset.confirm;
    if (message && !window.confirm(message)) { event.preventDefault(); event.stopPropagation(); }
  }, true);
})();
