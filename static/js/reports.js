// The reports page: draws the response-time and volume charts from the JSON the server
// embedded (#report-data) with the vendored Chart.js. No data is fetched from elsewhere.
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
    charts.push(
      new Chart(document.getElementById("chart-response"), {
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
    charts.push(
      new Chart(document.getElementById("chart-volume"), {
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

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
