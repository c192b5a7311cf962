// Draws the coordinator pages' charts with the vendored Chart.js. Each chart's data sits
// next to its canvas in a <script type="application/json"> block (data, never code), so
// the strict Content-Security-Policy holds: no inline script runs. The tables below the
// charts carry the same figures for anyone without JavaScript.
(function () {
  "use strict";

  var COLOURS = ["#1f5fa8", "#1d7a46", "#9a5b00", "#b3261e"];
  var LABEL_CHARS = 26; // long reasons are cut on a phone's axis; the table has them in full

  function shorten(text) {
    text = String(text);
    return text.length > LABEL_CHARS ? text.slice(0, LABEL_CHARS - 1) + "\u2026" : text;
  }

  function config(spec) {
    var horizontal = !!spec.horizontal;
    var valueAxis = { beginAtZero: true, ticks: { precision: 0 } };
    if (spec.max) { valueAxis.max = spec.max; }
    var labelAxis = {
      ticks: {
        autoSkip: !horizontal,
        callback: function (value) { return shorten(this.getLabelForValue(value)); }
      }
    };
    return {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (series, i) {
          return {
            label: series.label, data: series.data, spanGaps: true, tension: 0.2,
            backgroundColor: COLOURS[i % COLOURS.length], borderColor: COLOURS[i % COLOURS.length]
          };
        })
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        indexAxis: horizontal ? "y" : "x",
        plugins: { legend: { position: "bottom" } },
        scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis }
      }
    };
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof window.Chart === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    if (!spec.labels.length) {
      canvas.parentNode.textContent = "No data yet.";
      return;
    }
    if (spec.horizontal) {
      // One readable bar per reason, however many reasons there are.
      canvas.parentNode.style.height = Math.max(220, 44 * spec.labels.length + 60) + "px";
    }
    new window.Chart(canvas, config(spec));
    canvas.setAttribute("data-drawn", "true");
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart]"), draw);
  });
}());
