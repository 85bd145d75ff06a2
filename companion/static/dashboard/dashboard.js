/* Sales Companion dashboard: draws the charts from data the page carries, and keeps the date
   picker honest. No inline scripts (the pages send a strict Content-Security-Policy). */
(function () {
  "use strict";

  var palette = { gross: "#1d4ed8", refunds: "#b91c1c", net: "#166534", bar: "#3b82f6", spark: "#1d4ed8" };

  function readJSON(el, name) {
    try { return JSON.parse(el.getAttribute(name) || "null"); } catch (e) { return null; }
  }

  function money(currency) {
    var fmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
    return function (v) { return fmt.format(v) + " " + (currency || ""); };
  }

  function spark(canvas) {
    var values = readJSON(canvas, "data-values") || [];
    var labels = readJSON(canvas, "data-labels") || values.map(function (_, i) { return i; });
    return new Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: [{ data: values, borderColor: palette.spark, borderWidth: 1.5,
        pointRadius: 0, fill: false, tension: 0.3, spanGaps: true }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false, events: [],
        plugins: { legend: { display: false }, tooltip: { enabled: false } },
        scales: { x: { display: false }, y: { display: false } } }
    });
  }

  function revenue(canvas) {
    var s = readJSON(canvas, "data-series");
    var fmt = money(canvas.getAttribute("data-currency"));
    return new Chart(canvas, {
      type: "bar",
      data: { labels: s.labels, datasets: [
        { type: "line", label: "Net", data: s.net, borderColor: palette.net, backgroundColor: palette.net,
          pointRadius: 0, borderWidth: 2, tension: 0.2, order: 0 },
        { label: "Gross", data: s.gross, backgroundColor: "rgba(29,78,216,0.35)", order: 1 },
        { label: "Refunds", data: s.refunds.map(function (v) { return -v; }), backgroundColor: "rgba(185,28,28,0.7)", order: 2 }
      ] },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { x: { stacked: true, ticks: { maxTicksLimit: 10 } }, y: { stacked: false, ticks: { callback: fmt } } },
        plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + fmt(Math.abs(c.parsed.y)); } } } } }
    });
  }

  function bars(canvas) {
    var s = readJSON(canvas, "data-series");
    var fmt = money(canvas.getAttribute("data-currency"));
    var horizontal = canvas.getAttribute("data-horizontal") === "1";
    return new Chart(canvas, {
      type: "bar",
      data: { labels: s.labels, datasets: [{ label: "Revenue", data: s.values, backgroundColor: palette.bar }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false, indexAxis: horizontal ? "y" : "x",
        plugins: { legend: { display: false } },
        scales: horizontal ? { x: { ticks: { callback: fmt } } } : { y: { ticks: { callback: fmt } } } }
    });
  }

  var kinds = { spark: spark, revenue: revenue, bars: bars };

  function drawCharts() {
    if (typeof Chart === "undefined") { return 0; }
    var drawn = 0;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var make = kinds[canvas.getAttribute("data-chart")];
      if (make) { make(canvas); drawn += 1; }
    });
    document.body.setAttribute("data-charts", String(drawn));
    return drawn;
  }

  function datePicker() {
    var form = document.querySelector("form.range");
    if (!form) { return; }
    var preset = form.querySelector("#range");
    form.querySelectorAll("input[type=date]").forEach(function (input) {
      input.addEventListener("change", function () { preset.value = "custom"; });
    });
    preset.addEventListener("change", function () { if (preset.value !== "custom") { form.submit(); } });
  }

  // The flow form: what the owner types is previewed (not saved) in the frame beside it.
  function livePreview() {
    var form = document.querySelector("form[data-preview-form]");
    var button = document.getElementById("preview-button");
    if (!form || !button || !form.requestSubmit) { return; }
    var timer = null;
    function later() {
      clearTimeout(timer);
      timer = setTimeout(function () { form.requestSubmit(button); }, 600);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }

  document.addEventListener("DOMContentLoaded", function () {
    datePicker();
    drawCharts();
    livePreview();
  });
})();
