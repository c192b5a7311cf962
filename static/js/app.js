// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Availability form: say live how many youths staffing allows tonight.
  function staffingHint() {
    var form = document.querySelector("[data-testid=availability-form]");
    if (!form) { return; }
    var hint = form.querySelector("[data-staffing-hint]");
    function value(name) { var el = form.elements[name]; return el ? parseInt(el.value, 10) : NaN; }
    function update() {
      var beds = value("open_beds"), staff = value("staff_on_duty"), ratio = value("youth_per_staff"), youth = value("current_youth");
      if ([beds, staff, ratio, youth].some(isNaN)) { return; }
      var staffed = Math.max(0, staff * ratio - youth);
      var room = Math.min(beds, staffed);
      hint.textContent = staff + " staff at 1:" + ratio + " can care for " + (staff * ratio) + " youths; with " + youth +
        " in the home, you can take " + room + " more tonight" + (staffed < beds ? " (staffing, not beds, is the limit)." : ".");
    }
    form.addEventListener("input", update);
    update();
  }

  // After a failed submit the server renders an error summary (with autofocus); make sure
  // focus lands on it so a screen reader announces it and the keyboard starts there.
  function focusErrorSummary() {
    var summary = document.getElementById("error-summary");
    if (summary && document.activeElement !== summary) { summary.focus(); }
  }

  // A table still wider than its box scrolls: the keyboard must be able to scroll it too.
  function focusableScrollers() {
    Array.prototype.forEach.call(document.querySelectorAll(".table-wrap"), function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth && !wrap.hasAttribute("tabindex")) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", "Table (scrolls sideways)");
      }
    });
  }

  // On a phone, tables are stacked cards (app.css): each cell shows its column's name,
  // taken from the table's header when the template did not set it.
  function labelTableCells() {
    Array.prototype.forEach.call(document.querySelectorAll("table"), function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
      if (!heads.length) { return; }
      Array.prototype.forEach.call(table.querySelectorAll("tbody tr"), function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.children, function (cell) {
          if (!cell.hasAttribute("data-label") && cell.colSpan === 1) { cell.setAttribute("data-label", heads[column] || ""); }
          column += cell.colSpan || 1;
        });
      });
    });
  }

  // The current wall-clock time in the user's own zone (not the phone's), as a
  // datetime-local value: the server reads typed times in the user's zone.
  function nowInZone(zoneName) {
    var parts = {};
    new Intl.DateTimeFormat("en-CA", {
      timeZone: zoneName, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"
    }).formatToParts(new Date()).forEach(function (part) { parts[part.type] = part.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" + parts.minute;
  }

  // A "Now" button beside every date-time field.
  function nowButtons() {
    var zoneName = document.documentElement.getAttribute("data-timezone") || undefined;
    Array.prototype.forEach.call(document.querySelectorAll("input[type=datetime-local]"), function (input) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = "Now";
      button.setAttribute("aria-label", "Set " + (input.labels && input.labels[0] ? input.labels[0].textContent.trim() : "the time") + " to now");
      button.addEventListener("click", function () { input.value = nowInZone(zoneName); input.focus(); });
      var wrap = document.createElement("div");
      wrap.className = "with-button";
      input.parentNode.insertBefore(wrap, input);
      wrap.appendChild(input);
      wrap.appendChild(button);
    });
  }

  // Live countdowns ("3 h 12 min left") for holds and report deadlines (data-countdown
  // holds the deadline as epoch milliseconds; the server-rendered text is the fallback).
  function countdowns() {
    var clocks = document.querySelectorAll("[data-countdown]");
    if (!clocks.length) { return; }
    function tick() {
      Array.prototype.forEach.call(clocks, function (el) {
        var left = Math.floor((parseInt(el.getAttribute("data-countdown"), 10) - Date.now()) / 60000);
        el.textContent = left <= 0 ? (el.getAttribute("data-expired") || "expired")
          : (left >= 60 ? Math.floor(left / 60) + " h " : "") + (left % 60) + " min left";
      });
    }
    tick();
    window.setInterval(tick, 30000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    staffingHint();
    labelTableCells();
    focusableScrollers();
    nowButtons();
    countdowns();
    focusErrorSummary();
  });
}());
