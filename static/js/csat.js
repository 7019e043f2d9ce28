// The reports page's CSAT section: the score (line, percent) and responses (bars) over the
// period, and how many customers gave each rating, from the JSON the server embedded
// (#csat-data) with the vendored Chart.js. Labels come from the page (already translated).
(function () {
  "use strict";

  function text(id, fallback) {
    const node = document.getElementById(id);
    return node ? node.textContent.trim() : fallback;
  }

  function draw() {
    const source = document.getElementById("csat-data");
    if (!source || typeof Chart === "undefined") return;
    const data = JSON.parse(source.textContent);
    const common = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom" } },
    };
    const charts = [];
    const overTime = document.getElementById("chart-csat");
    if (overTime) charts.push(
      new Chart(overTime, {
        type: "bar",
        data: {
          labels: data.series.map((row) => row.period),
          datasets: [
            { type: "line", label: text("csat-score-label", "CSAT score"), data: data.series.map((r) => r.score), yAxisID: "score", borderColor: "#059669", backgroundColor: "#059669", spanGaps: true },
            { label: text("csat-responses-label", "Responses"), data: data.series.map((r) => r.responses), yAxisID: "count", backgroundColor: "#93c5fd" },
            { label: text("csat-sent-label", "Surveys sent"), data: data.series.map((r) => r.sent), yAxisID: "count", backgroundColor: "#e5e7eb" },
          ],
        },
        options: {
          ...common,
          scales: {
            score: { position: "left", min: 0, max: 100, title: { display: true, text: "%" } },
            count: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } },
          },
        },
      })
    );
    const ratings = document.getElementById("chart-csat-ratings");
    if (ratings) charts.push(
      new Chart(ratings, {
        type: "bar",
        data: {
          labels: Object.keys(data.distribution),
          datasets: [
            {
              label: text("csat-responses-label", "Responses"),
              data: Object.values(data.distribution),
              backgroundColor: ["#dc2626", "#f97316", "#eab308", "#84cc16", "#16a34a"],
            },
          ],
        },
        options: { ...common, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      })
    );
    // Tests (and curious people) can see what was drawn.
    window.parleyCsatCharts = charts;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
