// Parley's live socket: one connection per page, reconnecting with catch-up over HTTP.
// Events carry ids; after a gap the page asks /api/v1/events/?after=<last id> for what it missed.
(() => {
  const body = document.body;
  const statusEl = document.getElementById("live-status");
  if (!statusEl) return; // logged out
  let lastEventId = null;
  let retry = 0;

  const setStatus = (state, text) => {
    statusEl.dataset.state = state;
    statusEl.textContent = text;
  };

  const refreshList = () => document.body.dispatchEvent(new Event("parley:refresh"));

  const appendNewMessages = async () => {
    const thread = document.getElementById("thread");
    if (!thread) return;
    const items = thread.querySelectorAll("[data-message]");
    const last = items.length ? items[items.length - 1].dataset.message : "";
    const url = `${thread.getAttribute("hx-get")}?after=${encodeURIComponent(last)}`;
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return;
    const html = await response.text();
    const template = document.createElement("template");
    template.innerHTML = html;
    for (const node of template.content.querySelectorAll("[data-message]")) {
      const existing = document.getElementById(node.id);
      if (existing) existing.replaceWith(node);
      else thread.appendChild(node);
    }
  };

  const refreshMessage = async (id) => {
    const thread = document.getElementById("thread");
    if (!thread) return;
    // Re-render the thread from just before the changed message.
    const response = await fetch(`${thread.getAttribute("hx-get")}?after=${id - 1}`, { credentials: "same-origin" });
    if (!response.ok) return;
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    const node = template.content.getElementById(`message-${id}`);
    const existing = document.getElementById(`message-${id}`);
    if (node && existing) existing.replaceWith(node);
  };

  const handle = (event) => {
    if (event.id) lastEventId = Math.max(lastEventId || 0, event.id);
    const openId = Number(body.dataset.conversation || 0);
    if (body.dataset.page === "list") {
      refreshList();
    } else if (openId && event.conversation === openId) {
      if (event.type === "inbox.message_updated" && event.data && event.data.message) {
        refreshMessage(event.data.message);
      } else if (event.type === "inbox.message_received" || event.type === "inbox.message_sent") {
        appendNewMessages();
      }
    }
    document.dispatchEvent(new CustomEvent("parley:event", { detail: event }));
  };

  const catchUp = async () => {
    if (lastEventId === null) return;
    const response = await fetch(`/api/v1/events/?after=${lastEventId}`, { credentials: "same-origin" });
    if (!response.ok) return;
    const data = await response.json();
    data.results.forEach(handle);
  };

  const connect = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/inbox/`);
    socket.onopen = () => {
      setStatus("live", "live");
      if (retry > 0) catchUp();
      retry = 0;
    };
    socket.onmessage = (message) => handle(JSON.parse(message.data));
    socket.onclose = (close) => {
      if (close.code === 4401 || close.code === 4403) {
        setStatus("closed", "signed out");
        return;
      }
      setStatus("offline", "reconnecting…");
      retry += 1;
      setTimeout(connect, Math.min(1000 * 2 ** retry, 15000));
    };
  };

  // Start the catch-up cursor at "now" so a reconnect only replays what happened since load.
  fetch("/api/v1/events/?after=0&latest=1", { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : null))
    .then((data) => {
      if (data && data.latest !== undefined) lastEventId = data.latest;
    })
    .finally(connect);

  document.body.addEventListener("parley:thread-changed", appendNewMessages);
})();
