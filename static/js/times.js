// One way to write times, the same as the server's (inbox/formatting.py: `when`, `ago`,
// `duration`): "Nov 23, 17:05" ("Nov 23, 2025, 17:05" in another year) in the server's time zone,
// and "just now" / "4 min ago" / "in 3 h". Keeps every <time data-ago> current while the page
// stays open, and after htmx swaps new ones in.
(function () {
  "use strict";

  function span(seconds) {
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)} h`;
    return `${Math.floor(seconds / 86400)} d`;
  }

  function ago(date, now) {
    const seconds = Math.trunc(((now === undefined ? Date.now() : now) - date.getTime()) / 1000);
    if (Math.abs(seconds) < 60) return "just now";
    return seconds > 0 ? `${span(seconds)} ago` : `in ${span(-seconds)}`;
  }

  function parts(date) {
    // The server's zone (on <html>), so a time reads the same whichever side wrote it.
    const format = new Intl.DateTimeFormat("en-US", {
      timeZone: document.documentElement.dataset.timeZone || undefined,
      year: "numeric",
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    return Object.fromEntries(format.formatToParts(date).map((part) => [part.type, part.value]));
  }

  function when(date) {
    const p = parts(date);
    const year = p.year !== parts(new Date()).year ? `, ${p.year}` : "";
    return `${p.month} ${p.day}${year}, ${p.hour}:${p.minute}`;
  }

  function refresh(root) {
    (root || document).querySelectorAll("time[data-ago]").forEach((element) => {
      const date = new Date(element.dateTime);
      if (Number.isNaN(date.getTime())) return;
      element.textContent = ago(date);
      if (!element.title) element.title = when(date);
    });
  }

  window.parleyTimes = { ago, when, refresh };
  document.addEventListener("htmx:afterSettle", (event) => refresh(event.target));
  setInterval(() => refresh(), 30000);
})();
