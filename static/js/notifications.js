// The notification centre: the bell in the top bar (unread count, the list, mark read), browser
// notifications and a sound, and the "test" button on /profile/. Notifications arrive on the page's
// live socket (inbox.js forwards every payload as a `parley:event`); after a reconnect the bell
// asks /api/v1/notifications/?after=<newest id seen> for what it missed.
(() => {
  const bell = document.getElementById("notification-bell");
  if (!bell) return; // logged out
  const button = document.getElementById("notification-bell-button");
  const panel = document.getElementById("notification-panel");
  const list = document.getElementById("notification-list");
  const countEl = document.getElementById("notification-count");
  const API = "/api/v1/notifications/";
  let latest = 0; // the newest notification id this page has: where a catch-up starts
  let loaded = false;

  const csrfToken = () => {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch { return ""; }
  };
  const getJSON = async (url) => {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    return response.ok ? response.json() : null;
  };

  const setCount = (n) => {
    countEl.dataset.count = String(n);
    countEl.textContent = n >= 100 ? "99+" : String(n);
    countEl.hidden = n <= 0;
  };

  // --- The list: built with textContent (a notification's text is whatever people typed) ---
  const item = (n) => {
    const li = document.createElement("li");
    li.className = n.read ? "read" : "unread";
    li.dataset.notification = String(n.id);
    const text = n.conversation ? document.createElement("a") : document.createElement("span");
    text.textContent = n.text;
    if (n.conversation) {
      text.href = `/conversations/${n.conversation}/`;
      text.addEventListener("click", () => { if (!n.read) markRead([n.id], true); });
    }
    const when = document.createElement("time");
    when.dateTime = n.created_at;
    when.className = "muted small";
    when.textContent = new Date(n.created_at).toLocaleString();
    li.append(text, when);
    if (!n.read) {
      const mark = document.createElement("button");
      mark.type = "button";
      mark.className = "secondary small mark-read";
      mark.textContent = list.dataset.markRead;
      mark.addEventListener("click", () => markRead([n.id]));
      li.append(mark);
    }
    return li;
  };
  const renderEmpty = () => {
    if (list.querySelector("li[data-notification]")) { list.querySelector("li.empty")?.remove(); return; }
    if (list.querySelector("li.empty")) return;
    const empty = document.createElement("li");
    empty.className = "empty muted";
    empty.textContent = list.dataset.empty;
    list.append(empty);
  };
  const load = async () => {
    const data = await getJSON(`${API}?page_size=20`);
    if (!data) return;
    list.replaceChildren(...data.results.map(item));
    loaded = true;
    renderEmpty();
  };

  const markRead = async (ids, keepalive = false) => {
    const response = await fetch(`${API}read/`, {
      method: "POST",
      credentials: "same-origin",
      keepalive, // a click on a notification's link leaves the page meanwhile
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(ids ? { ids } : { all: true }),
    });
    if (!response.ok) return;
    const data = await response.json();
    setCount(data.unread);
    if (loaded) load();
  };

  const openPanel = (open) => {
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) load();
  };
  button.addEventListener("click", () => openPanel(panel.hidden));
  document.getElementById("notification-read-all")?.addEventListener("click", () => markRead(null));
  document.addEventListener("click", (e) => { if (!panel.hidden && !bell.contains(e.target)) openPanel(false); });
  bell.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !panel.hidden) { e.stopPropagation(); openPanel(false); button.focus(); }
  });

  // --- Sound: a short tone made here (no audio file to fetch), once the page may play one ---
  let audio = null;
  const unlockAudio = () => {
    if (!audio && window.AudioContext) audio = new AudioContext();
    if (audio && audio.state === "suspended") audio.resume();
  };
  document.addEventListener("pointerdown", unlockAudio, { once: true });
  document.addEventListener("keydown", unlockAudio, { once: true });
  const chime = () => {
    if (bell.dataset.sound !== "1" || !audio || audio.state !== "running") return;
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.4);
    bell.dataset.chimed = String(Number(bell.dataset.chimed || 0) + 1);
  };

  // --- Browser notifications: while the tab is hidden (the test always), one per notification
  // across tabs (the tag) ---
  const systemNotification = (n) => {
    if (bell.dataset.browser !== "1" || !("Notification" in window) || Notification.permission !== "granted") return;
    if (document.visibilityState === "visible" && n.kind !== "test") return;
    const shown = new Notification("Parley", { body: n.text, tag: `parley-notification-${n.id}` });
    shown.onclick = () => {
      window.focus();
      if (n.conversation) location.assign(`/conversations/${n.conversation}/`);
      shown.close();
    };
  };

  const arrived = (n, unread, { alert = true } = {}) => {
    if (n.id <= latest) return; // already here (a catch-up overlapping the socket)
    latest = n.id;
    if (unread !== undefined) setCount(unread);
    if (loaded) { list.prepend(item(n)); renderEmpty(); }
    if (alert) { systemNotification(n); chime(); }
  };

  document.addEventListener("parley:event", (e) => {
    const event = e.detail;
    if (event.type === "inbox.notification") {
      const d = event.data;
      arrived({ id: d.notification, kind: d.kind, text: d.text, conversation: event.conversation, created_at: event.at, read: false }, d.unread);
    } else if (event.type === "inbox.notifications_read") {
      setCount(event.data.unread);
      if (loaded) load();
    }
  });

  // After a reconnect: what arrived meanwhile (oldest first, one sound for all), and the count.
  document.addEventListener("parley:live", async (e) => {
    if (!e.detail || !e.detail.reconnected) return;
    const missed = await getJSON(`${API}?after=${latest}&page_size=50`);
    if (missed) {
      const fresh = missed.results.filter((n) => n.id > latest).reverse();
      fresh.forEach((n, i) => arrived(n, undefined, { alert: i === fresh.length - 1 }));
    }
    const unread = await getJSON(`${API}?unread=1&page_size=100`);
    if (unread) setCount(unread.results.length);
  });

  // Start the catch-up cursor at the newest notification now (as inbox.js does for events).
  getJSON(`${API}?page_size=1`).then((data) => {
    if (data && data.results.length) latest = Math.max(latest, data.results[0].id);
  });

  // --- The "test" button on /profile/: asks the browser's permission (a click may), then a
  // real notification comes back through the socket ---
  const testForm = document.getElementById("notification-test-form");
  testForm?.addEventListener("submit", async (e) => {
    e.preventDefault();
    unlockAudio();
    const status = document.getElementById("notification-permission");
    if ("Notification" in window && Notification.permission === "default") {
      await Notification.requestPermission();
    }
    if (status) status.textContent = "Notification" in window ? status.dataset[Notification.permission] || "" : "";
    await fetch(testForm.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    });
  });
})();
