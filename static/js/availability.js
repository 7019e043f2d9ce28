// Agent availability on every page: teammates' changes arrive over the live socket (inbox.js
// re-dispatches each event as `parley:event`) and update every place that shows a name with its
// availability; the agent's own control in the top bar follows their other tabs.
(() => {
  // The status in the page's language (the same words as inbox.presence.STATUS_LABELS).
  const pgettext = window.pgettext || ((context, text) => text);
  const labels = {
    online: pgettext("availability", "online"),
    busy: pgettext("availability", "busy"),
    away: pgettext("availability", "away"),
    offline: pgettext("availability", "offline"),
  };
  const label = (status) => labels[status] || status;
  const show = (el, change) => {
    el.dataset.status = change.status;
    if (el.tagName === "SELECT") {
      el.value = change.availability;
      el.closest("form").dataset.status = change.availability;
    } else if (el.tagName === "OPTION") {
      el.textContent = `${el.dataset.name} · ${label(change.status)}`;
    } else {
      const text = el.querySelector(".availability-label");
      if (text) text.textContent = label(change.status);
    }
  };

  document.addEventListener("parley:event", (e) => {
    const event = e.detail;
    if (!event || event.type !== "inbox.availability" || !event.data) return;
    document.querySelectorAll(`[data-availability-user="${Number(event.data.user)}"]`)
      .forEach((el) => show(el, event.data));
  });
})();
