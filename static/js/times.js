// One way to write times, the same as the server's (inbox/formatting.py: `when`, `ago`,
// `duration`): "Nov 23, 17:05" ("Nov 23, 2025, 17:05" in another year) in the agent's time zone
// and language (the same translated patterns as the server's, from /jsi18n/),
// and "just now" / "4 min ago" / "in 3 h". Keeps every <time data-ago> current while the page
// stays open, and after htmx swaps new ones in.
(function () {
  "use strict";

  // The page's language (Django's JavaScriptCatalog, /jsi18n/); English when it is missing.
  const t = {
    gettext: (text) => (window.gettext ? window.gettext(text) : text),
    pgettext: (context, text) => (window.pgettext ? window.pgettext(context, text) : text),
    format: (text, values) => text.replace(/%\((\w+)\)s/g, (_, name) => String(values[name])),
  };

  function span(seconds) {
    if (seconds < 3600) return `${Math.floor(seconds / 60)} ${t.pgettext("duration unit: minutes", "min")}`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)} ${t.pgettext("duration unit: hours", "h")}`;
    return `${Math.floor(seconds / 86400)} ${t.pgettext("duration unit: days", "d")}`;
  }

  function ago(date, now) {
    const seconds = Math.trunc(((now === undefined ? Date.now() : now) - date.getTime()) / 1000);
    if (Math.abs(seconds) < 60) return t.gettext("just now");
    return seconds > 0
      ? t.format(t.gettext("%(duration)s ago"), { duration: span(seconds) })
      : t.format(t.gettext("in %(duration)s"), { duration: span(-seconds) });
  }

  function parts(date) {
    // The server's zone (on <html>), so a time reads the same whichever side wrote it.
    const format = new Intl.DateTimeFormat(document.documentElement.lang || "en", {
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
    const values = { month: p.month.replace(/\.$/, ""), day: Number(p.day), year: p.year };
    values.month = values.month.charAt(0).toUpperCase() + values.month.slice(1);
    const day = p.year !== parts(new Date()).year
      ? t.format(t.pgettext("date with year", "%(month)s %(day)s, %(year)s"), values)
      : t.format(t.pgettext("date", "%(month)s %(day)s"), values);
    return t.format(t.gettext("%(date)s, %(time)s"), { date: day, time: `${p.hour}:${p.minute}` });
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
