// Agent availability on every page: teammates' changes arrive over the live socket (inbox.js
// re-dispatches each event as `parley:event`) and update every place that shows a name with its
// availability; the agent's own control in the top bar follows their other tabs.
(() => {
  const show = (el, change) => {
    el.dataset.status = change.status;
    if (el.tagName === "SELECT") {
      el.value = change.availability;
      el.closest("form").dataset.status = change.availability;
    } else if (el.tagName === "OPTION") {
      el.textContent = `${el.dataset.name} · ${change.status}`;
    } else {
      const label = el.querySelector(".availability-label");
      if (label) label.textContent = change.status;
    }
  };

  document.addEventListener("parley:event", (e) => {
    const event = e.detail;
    if (!event || event.type !== "inbox.availability" || !event.data) return;
    document.querySelectorAll(`[data-availability-user="${Number(event.data.user)}"]`)
      .forEach((el) => show(el, event.data));
  });
})();
