// The reports page: draws the response-time and volume charts from the JSON the server
// embedded (#report-data) with the vendored Chart.js (no data is fetched from elsewhere), and
// keeps the From/To fields in step with the period menu.
(function () {
  "use strict";

  function minutes(seconds) {
    return seconds === null || seconds === undefined ? null : Math.round(seconds / 6) / 10;
  }

  function draw() {
    const source = document.getElementById("report-data");
    if (!source || typeof Chart === "undefined") return;
    const data = JSON.parse(source.textContent);
    const labels = data.series.map((row) => row.period);
    const common = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom" } },
    };
    const line = (label, key, color, dashed) => ({
      label,
      data: data.series.map((row) => minutes(row[key])),
      borderColor: color,
      backgroundColor: color,
      borderDash: dashed ? [5, 4] : [],
      spanGaps: true,
      tension: 0.2,
    });
    const charts = [];
    // A chart with too little data is not on the page (it says so instead): skip it.
    const response = document.getElementById("chart-response");
    const volume = document.getElementById("chart-volume");
    if (response) charts.push(
      new Chart(response, {
        type: "line",
        data: {
          labels,
          datasets: [
            line("First response (median)", "first_response_seconds_p50", "#2563eb", false),
            line("First response (p90)", "first_response_seconds_p90", "#2563eb", true),
            line("Reply time (median)", "reply_seconds_p50", "#059669", false),
            line("Resolution (median)", "resolution_seconds_p50", "#d97706", false),
          ],
        },
        options: { ...common, scales: { y: { beginAtZero: true, title: { display: true, text: "minutes" } } } },
      })
    );
    if (volume) charts.push(
      new Chart(volume, {
        type: "bar",
        data: {
          labels,
          datasets: [
            { label: "Messages in", data: data.series.map((r) => r.messages_in), backgroundColor: "#93c5fd", stack: "messages" },
            { label: "Messages out", data: data.series.map((r) => r.messages_out), backgroundColor: "#c4b5fd", stack: "out" },
            { type: "line", label: "Conversations opened", data: data.series.map((r) => r.opened), borderColor: "#111827", backgroundColor: "#111827" },
            { type: "line", label: "Resolved", data: data.series.map((r) => r.resolved), borderColor: "#059669", backgroundColor: "#059669" },
          ],
        },
        options: { ...common, scales: { y: { beginAtZero: true } } },
      })
    );
    // Tests (and curious people) can see what was drawn.
    window.parleyCharts = charts;
  }

  // The period menu fills in From and To at once (the same days as queries.parse_filters),
  // and typing a date of one's own makes the period "Custom".
  function isoDay(date) {
    return date.toISOString().slice(0, 10);
  }

  function today(timeZone) {
    let zone = timeZone || undefined;
    try {
      new Intl.DateTimeFormat("en-CA", { timeZone: zone });
    } catch (error) {
      zone = undefined; // an unknown zone: the server will say so; use the browser's meanwhile
    }
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" })
        .formatToParts(new Date())
        .map((part) => [part.type, part.value])
    );
    return new Date(Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day)));
  }

  function daysBefore(date, days) {
    return new Date(date.getTime() - days * 86400000);
  }

  function periodDays(preset, now) {
    if (preset === "today") return [now, now];
    if (preset === "7d") return [daysBefore(now, 6), now];
    if (preset === "30d") return [daysBefore(now, 29), now];
    if (preset === "month") return [new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)), now];
    return null;
  }

  function wirePeriod() {
    const range = document.getElementById("range");
    const from = document.getElementById("from");
    const to = document.getElementById("to");
    const zone = document.getElementById("tz");
    if (!range || !from || !to) return;
    range.addEventListener("change", () => {
      const days = periodDays(range.value, today(zone && zone.value.trim()));
      if (!days) return;
      from.value = isoDay(days[0]);
      to.value = isoDay(days[1]);
    });
    const custom = () => {
      range.value = "custom";
    };
    from.addEventListener("input", custom);
    to.addEventListener("input", custom);
  }

  function start() {
    wirePeriod();
    draw();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
