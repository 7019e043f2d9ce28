// Parley's agent pages: one live socket per page (reconnecting, with catch-up over HTTP),
// live list rows and thread, collision detection, the composer and keyboard shortcuts.
// Events carry ids; after a gap the page asks /api/v1/events/?after=<last id> for what it missed.
(() => {
  const body = document.body;
  const statusEl = document.getElementById("live-status");
  if (!statusEl) return; // logged out
  const page = body.dataset.page;
  const me = Number(body.dataset.user || 0);
  const openId = Number(body.dataset.conversation || 0);
  const baseTitle = document.title;
  let lastEventId = null;
  let retry = 0;
  let socket = null;

  // Text in the page's language: Django's JavaScriptCatalog (/jsi18n/, loaded before this file).
  const gettext = window.gettext || ((text) => text);
  const ngettext = window.ngettext || ((one, many, n) => (n === 1 ? one : many));
  const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_, name) => String(values[name]));

  // Screen readers hear what arrives live (new messages elsewhere than the open thread, whose
  // role="log" announces its own additions).
  const announcer = document.getElementById("live-announcer");
  const announce = (text) => {
    if (!announcer) return;
    announcer.textContent = "";
    // A moment apart, so the same sentence twice is still read twice.
    setTimeout(() => { announcer.textContent = text; }, 50);
  };

  const setStatus = (state, text) => {
    statusEl.dataset.state = state;
    statusEl.textContent = text;
  };

  const fetchText = async (url) => {
    const response = await fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } });
    return response.ok ? response.text() : null;
  };

  const fragment = (html) => {
    const template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  };

  // --- Tab title: unread conversations in view (list) or new messages elsewhere (thread) ---
  let unreadElsewhere = 0;
  const updateTitle = () => {
    let count = unreadElsewhere;
    if (page === "list") {
      count = document.querySelectorAll("#conversation-rows li.row[data-unread]:not([data-unread='0'])").length;
    }
    document.title = count ? `(${count}) ${baseTitle}` : baseTitle;
  };

  // --- List: fetch the one row an event is about and put it where it belongs ---
  const rowsEl = () => document.getElementById("conversation-rows");
  const inFlight = new Map();
  const activityEvents = new Set(["inbox.created", "inbox.message_received", "inbox.message_sent"]);
  const refreshRow = async (id, newActivity = false, force = false) => {
    if (inFlight.has(id)) {
      // Changed again while fetching: fetch once more afterwards.
      inFlight.set(id, { again: true, newActivity: newActivity || inFlight.get(id).newActivity });
      return;
    }
    inFlight.set(id, { again: false, newActivity });
    try {
      const rows = rowsEl();
      if (!rows) return;
      const query = rows.dataset.query ? `${rows.dataset.query}&` : "";
      const html = await fetchText(`/?${query}only=${id}`);
      if (html === null) return;
      if (rowsEl() !== rows) {
        // The list was reloaded meanwhile (a search, a filter): this answer was for the old
        // one and would drop or misplace the row in the new one. Ask again for the new list.
        inFlight.get(id).again = true;
        return;
      }
      const node = fragment(html).querySelector("li.row");
      const existing = document.getElementById(`row-${id}`);
      const wasChecked = existing && existing.querySelector("input[type=checkbox]")?.checked;
      const toTop = Boolean(node) && rows.dataset.sort === "activity" && rows.dataset.firstPage === "1"
        && (newActivity || !existing);
      // A row that would move, appear or vanish waits while the agent points at or works in
      // the list: the "N updated" pill applies it. A row changing in place is applied at once.
      if ((node ? toTop : existing) && !force && listHeld(rows)) {
        holdRow(rows, id, newActivity);
        return;
      }
      if (!node) {
        if (existing) existing.remove();
      } else {
        if (wasChecked) node.querySelector("input[type=checkbox]").checked = true;
        if (existing && existing.classList.contains("selected")) node.classList.add("selected");
        markCurrent(node);
        if (toTop) {
          if (existing) existing.remove();
          rows.querySelector("li.empty")?.remove();
          rows.prepend(node);
        } else if (existing) {
          existing.replaceWith(node);
        } else if (!rows.querySelector("li.more")) {
          rows.querySelector("li.empty")?.remove();
          rows.append(node);
        }
      }
      updateTitle();
    } finally {
      const state = inFlight.get(id);
      inFlight.delete(id);
      if (state.again) refreshRow(id, state.newActivity);
    }
  };

  // --- List: held updates and the "N updated" pill ---
  let pointerOnList = false;
  document.addEventListener("pointermove", (e) => {
    // A mouse resting over the list; a finger's tap is not "pointing at" it.
    pointerOnList = e.pointerType === "mouse" && Boolean(e.target.closest?.("#conversation-rows"));
  });
  document.documentElement.addEventListener("mouseleave", () => { pointerOnList = false; });
  const listHeld = (rows) => pointerOnList || rows.contains(document.activeElement);
  const held = new Map(); // conversation id -> new activity, in arrival order
  let heldFor = null;
  const pill = (rows) => {
    let el = document.getElementById("list-updates");
    if (!el) {
      el = document.createElement("button");
      el.type = "button";
      el.id = "list-updates";
      el.className = "updates-pill";
      el.setAttribute("aria-live", "polite");
      el.hidden = true;
      el.addEventListener("click", applyHeld);
      rows.before(el);
    }
    return el;
  };
  const renderPill = (rows) => {
    const el = pill(rows);
    el.textContent = `${fmt(ngettext("%(count)s updated", "%(count)s updated", held.size), { count: held.size })} ↑`;
    el.hidden = held.size === 0;
  };
  const holdRow = (rows, id, newActivity) => {
    if (heldFor !== rows) { held.clear(); heldFor = rows; } // a reloaded list starts afresh
    held.set(id, Boolean(held.get(id)) || newActivity);
    renderPill(rows);
  };
  const applyHeld = async () => {
    const rows = rowsEl();
    const waiting = Array.from(held);
    held.clear();
    if (rows) renderPill(rows);
    // Oldest first, so the latest activity ends on top.
    for (const [id, newActivity] of waiting) await refreshRow(id, newActivity, true);
  };
  // The open conversation's row in the list pane.
  const markCurrent = (row) => {
    if (!openId || Number(row.dataset.conversation) !== openId) return;
    row.classList.add("current");
    row.querySelector("a")?.setAttribute("aria-current", "page");
  };
  const currentRow = () => document.getElementById(`row-${openId}`);
  if (openId && currentRow()) {
    markCurrent(currentRow());
    currentRow().scrollIntoView({ block: "nearest" });
  }

  // --- Thread: append what is new, refresh what changed ---
  const lastId = (selector, attr) => {
    const items = document.querySelectorAll(selector);
    let max = 0;
    items.forEach((el) => { max = Math.max(max, Number(el.dataset[attr] || 0)); });
    return max;
  };

  // The agent sees the thread: move the read mark (after the DOM update, off its path).
  const csrfToken = () => {
    try { return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch { return ""; }
  };
  const markRead = () => {
    if (!openId || document.visibilityState !== "visible") return;
    const last = lastId("#thread [data-message]", "message");
    if (!last) return;
    fetch(`/conversations/${openId}/read/`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
      body: `message=${last}`,
    }).catch(() => {});
  };

  // --- Thread position: it opens at the first unread message (under its marker) or the newest;
  // what arrives live never pulls the agent away from what they are reading further up: a
  // "new messages" pill offers the jump instead. ---
  const newPill = () => document.getElementById("new-messages");
  const nearBottom = (thread) => thread.scrollHeight - thread.scrollTop - thread.clientHeight < 40;
  const scrollToNewest = (thread) => {
    thread.scrollTop = thread.scrollHeight;
    const pill = newPill();
    if (pill) pill.hidden = true;
  };
  const openThread = () => {
    const thread = document.getElementById("thread");
    if (!thread) return;
    const marker = document.getElementById("unread-marker");
    if (marker) {
      thread.scrollTop += marker.getBoundingClientRect().top - thread.getBoundingClientRect().top;
    } else {
      scrollToNewest(thread);
    }
    thread.addEventListener("scroll", () => {
      const pill = newPill();
      if (pill && !pill.hidden && nearBottom(thread)) pill.hidden = true;
    }, { passive: true });
    newPill()?.addEventListener("click", () => scrollToNewest(thread));
  };
  openThread();

  let appending = null;
  let appendAgain = false;
  let stickNext = false;
  // `stick`: the agent's own send, which they want to see whatever they were reading.
  const appendNew = async (stick = false) => {
    if (stick) stickNext = true;
    if (appending) { appendAgain = true; return appending; }
    appending = (async () => {
      const thread = document.getElementById("thread");
      if (!thread) return;
      const url = `${thread.getAttribute("hx-get")}?after=${lastId("#thread [data-message]", "message")}&note_after=${lastId("#thread [data-note]", "note")}`;
      const html = await fetchText(url);
      if (html === null) return;
      const follow = stickNext || nearBottom(thread);
      stickNext = false;
      let added = false;
      for (const node of fragment(html).querySelectorAll("li[id]")) {
        const existing = document.getElementById(node.id);
        if (existing) existing.replaceWith(node);
        else { thread.appendChild(node); added = true; }
      }
      if (follow) scrollToNewest(thread);
      else if (added && newPill()) newPill().hidden = false;
      markRead();
    })();
    try { await appending; } finally {
      appending = null;
      if (appendAgain) { appendAgain = false; appendNew(); }
    }
  };

  const refreshMessage = async (id) => {
    const thread = document.getElementById("thread");
    if (!thread) return;
    const html = await fetchText(`${thread.getAttribute("hx-get")}?after=${id - 1}`);
    if (html === null) return;
    const node = fragment(html).getElementById(`message-${id}`);
    const existing = document.getElementById(`message-${id}`);
    if (node && existing) existing.replaceWith(node);
    else if (node) appendNew();
  };

  // --- Collision detection: who else has this conversation open ---
  const others = new Map(); // user id -> {name, state, at}
  let contactTyping = null; // {name, at}: the customer typing (X), a live-only event
  const collisionEl = document.getElementById("collision");
  const renderCollision = () => {
    if (!collisionEl) return;
    const now = Date.now();
    const parts = [];
    for (const [user, info] of others) {
      const age = now - info.at;
      if (age > 70000) { others.delete(user); continue; }
      const typing = info.typingAt && now - info.typingAt < 6000;
      parts.push(fmt(typing ? gettext("%(name)s is typing a reply…") : gettext("%(name)s is viewing"), { name: info.name }));
    }
    if (contactTyping && now - contactTyping.at < 6000) parts.unshift(fmt(gettext("%(name)s is typing…"), { name: contactTyping.name }));
    collisionEl.textContent = parts.join(" · ");
    collisionEl.hidden = parts.length === 0;
  };
  setInterval(renderCollision, 2000);

  const send = (data) => {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(data));
  };

  const handlePresence = (event) => {
    if (!openId || event.conversation !== openId || event.user === me) return;
    if (event.state === "left") {
      others.delete(event.user);
    } else {
      const info = others.get(event.user) || { name: event.name };
      info.name = event.name;
      info.at = Date.now();
      if (event.state === "typing") info.typingAt = Date.now();
      others.set(event.user, info);
      // A newcomer says hello; answer so they see us too.
      if (event.hello) send({ type: "viewing", conversation: openId });
    }
    renderCollision();
  };

  // Whoever just sent (a reply or a note) is no longer typing it.
  const forgetTyping = (event) => {
    if (["inbox.message_sent", "inbox.note_added"].includes(event.type) && others.has(event.actor)) {
      others.get(event.actor).typingAt = null;
      renderCollision();
    } else if (event.type === "inbox.message_received" && contactTyping) {
      contactTyping = null;
      renderCollision();
    }
  };

  // --- Events ---
  const conversationEvents = new Set([
    "inbox.created", "inbox.message_received", "inbox.message_sent", "inbox.message_updated",
    "inbox.assigned", "inbox.status_changed", "inbox.labels_changed", "inbox.priority_changed",
    "inbox.sla_warning", "inbox.sla_breached",
  ]);
  const headerEvents = new Set([
    "inbox.assigned", "inbox.status_changed", "inbox.labels_changed", "inbox.priority_changed",
    "inbox.sla_warning", "inbox.sla_breached", "inbox.bot_handoff", "inbox.bot_resumed",
    "inbox.consent_changed", "inbox.contact_updated",
  ]);

  const handle = (event) => {
    if (event.type === "presence") { handlePresence(event); return; }
    if (openId && event.conversation === openId) forgetTyping(event);
    if (event.type === "inbox.typing") {
      if (openId && event.conversation === openId) {
        contactTyping = { name: (event.data && event.data.name) || gettext("The customer"), at: Date.now() };
        renderCollision();
      }
      return;
    }
    if (event.id) lastEventId = Math.max(lastEventId || 0, event.id);
    if (page === "list") {
      if (event.conversation && (conversationEvents.has(event.type) || event.type === "inbox.read")) {
        refreshRow(event.conversation, activityEvents.has(event.type));
      }
    } else if (openId && event.conversation === openId) {
      if (event.type === "inbox.message_updated" && event.data && event.data.message) {
        refreshMessage(event.data.message);
      } else if (["inbox.message_received", "inbox.message_sent", "inbox.note_added"].includes(event.type)) {
        appendNew();
      } else if (headerEvents.has(event.type)) {
        body.dispatchEvent(new Event("parley:header-changed"));
      }
    } else if (openId && event.type === "inbox.message_received" && !(event.data && event.data.test)) {
      // A settings-area test event is nobody's unread message.
      unreadElsewhere += 1;
      updateTitle();
    }
    // The list pane beside the thread: after the thread's own fetch, which the agent is
    // reading (a web process runs its views one at a time).
    if (page !== "list" && rowsEl() && event.conversation
        && (conversationEvents.has(event.type) || event.type === "inbox.read")) {
      refreshRow(event.conversation, activityEvents.has(event.type));
    }
    if (event.type === "inbox.message_received" && !(openId && event.conversation === openId)) {
      announceMessage(event.conversation);
    }
    document.dispatchEvent(new CustomEvent("parley:event", { detail: event }));
  };

  // "New message from Ada Lovelace" once the row shows who wrote (the list refreshes it first).
  const announceMessage = (conversation) => {
    setTimeout(() => {
      const name = document.querySelector(`#row-${Number(conversation)} .contact`)?.textContent;
      announce(name ? fmt(gettext("New message from %(name)s"), { name }) : gettext("New message"));
    }, 600);
  };

  const catchUp = async () => {
    if (lastEventId === null) return;
    // Pages of 500 until nothing is left: a long outage is replayed in full.
    for (let pageCount = 0; pageCount < 20; pageCount += 1) {
      const response = await fetch(`/api/v1/events/?after=${lastEventId}`, { credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      data.results.forEach(handle);
      if (data.results.length < 500) return;
    }
  };

  const connect = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/inbox/`);
    socket.onopen = () => {
      setStatus("live", gettext("live"));
      if (retry > 0) catchUp();
      // Other modules catch up on what they keep (the notification bell).
      document.dispatchEvent(new CustomEvent("parley:live", { detail: { reconnected: retry > 0 } }));
      retry = 0;
      if (openId) send({ type: "viewing", conversation: openId, hello: true });
    };
    socket.onmessage = (message) => handle(JSON.parse(message.data));
    socket.onclose = (close) => {
      if (close.code === 4401 || close.code === 4403) {
        setStatus("closed", gettext("signed out"));
        return;
      }
      setStatus("offline", gettext("reconnecting…"));
      retry += 1;
      setTimeout(connect, Math.min(500 * 2 ** retry, 15000));
    };
  };

  setInterval(() => {
    send({ type: "heartbeat" });
    if (openId && document.visibilityState === "visible") send({ type: "viewing", conversation: openId });
  }, 25000);
  window.addEventListener("pagehide", () => { if (openId) send({ type: "left", conversation: openId }); });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && openId) {
      unreadElsewhere = 0;
      updateTitle();
      appendNew();
    }
  });

  // Start the catch-up cursor at "now" so a reconnect only replays what happened since load.
  fetch("/api/v1/events/?after=0&latest=1", { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : null))
    .then((data) => {
      if (data && data.latest !== undefined) lastEventId = data.latest;
    })
    .finally(connect);

  body.addEventListener("parley:thread-changed", () => appendNew(true));
  // For operators and tests: drop the socket as a network failure would (it reconnects and
  // catches up from the last event id).
  window.Parley = Object.freeze({ dropConnection: () => socket && socket.close(4000, "dropped") });
  updateTitle();

  // --- Composer: Enter to send, `/` saved replies, typing notice, attachment limits ---
  const textarea = () => document.getElementById("composer-text");
  const mode = () => document.querySelector("#composer-form input[name=mode]:checked")?.value || "reply";
  // The text box says which mode it is in: a note must never look like a reply.
  const showMode = () => {
    const t = textarea();
    if (!t) return;
    const note = mode() === "note";
    t.placeholder = note ? t.dataset.notePlaceholder : t.dataset.replyPlaceholder;
    t.setAttribute("aria-label", note ? gettext("Private note") : gettext("Reply"));
  };
  const setMode = (value) => {
    const radio = document.querySelector(`#composer-form input[name=mode][value=${value}]`);
    if (radio) radio.checked = true;
    showMode();
    textarea()?.focus();
  };

  let savedReplies = null;
  let pickerIndex = 0;
  const picker = () => document.getElementById("saved-picker");
  let savedLoading = null;
  const loadSaved = () => {
    // One request per page, however fast the agent types.
    // Saved replies, then the agent's macros (automation/), in one list.
    const get = (url) => fetch(url, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : { results: [] }))
      .then((data) => data.results || []);
    savedLoading = savedLoading || Promise.all([
      get(`/conversations/${openId}/saved-replies/`),
      get(`/conversations/${openId}/macros/`),
    ]).then(([replies, macros]) => {
      savedReplies = [...replies, ...macros.map((m) => ({ ...m, macro: true, shortcut: "", title: m.name, text: m.problems.length ? m.problems.join(" · ") : m.steps.join(" → ") }))];
      return savedReplies;
    });
    return savedLoading;
  };
  const pickerMatches = () => {
    const text = textarea()?.value || "";
    const term = text.startsWith("/") ? text.slice(1).toLowerCase() : "";
    return (savedReplies || []).filter((r) => r.shortcut.includes(term) || r.title.toLowerCase().includes(term));
  };
  const say = (text, ok) => {
    const flash = document.getElementById("flash");
    if (!flash) return;
    const line = document.createElement("p");
    line.className = ok ? "flash-success" : "flash-error";
    line.textContent = text;
    flash.replaceChildren(line);
  };
  const runMacro = (macro) => {
    const t = textarea();
    t.value = "";
    if (macro.problems.length) { say(macro.problems.join(" · "), false); return; }
    fetch(`/conversations/${openId}/macros/${macro.id}/run/`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    })
      .then((response) => response.json().catch(() => ({ ok: false, detail: response.statusText })))
      .then((data) => {
        say(data.detail, data.ok);
        savedLoading = null; // what the macro changed may change what can run next
        body.dispatchEvent(new Event("parley:thread-changed"));
        body.dispatchEvent(new Event("parley:header-changed"));
      });
  };
  const renderPicker = () => {
    const el = picker();
    if (!el) return;
    const matches = pickerMatches();
    el.replaceChildren();
    matches.forEach((reply, i) => {
      const option = document.createElement("button");
      option.type = "button";
      option.className = `saved${i === pickerIndex ? " active" : ""}`;
      option.setAttribute("role", "option");
      option.dataset.shortcut = reply.shortcut;
      const title = document.createElement("strong");
      title.textContent = reply.macro ? `▶ ${reply.title}` : `/${reply.shortcut} · ${reply.title}`;
      if (reply.macro) option.dataset.macro = reply.id;
      const preview = document.createElement("span");
      preview.textContent = reply.text;
      option.append(title, preview);
      option.addEventListener("mousedown", (e) => { e.preventDefault(); choose(reply); });
      el.append(option);
    });
    if (!matches.length) {
      const none = document.createElement("p");
      none.className = "muted small";
      none.textContent = savedReplies && savedReplies.length ? gettext("No saved reply or macro matches.") : gettext("No saved replies or macros yet.");
      el.append(none);
    }
    el.hidden = false;
  };
  const closePicker = () => { const el = picker(); if (el) el.hidden = true; };
  const pickerOpen = () => picker() && !picker().hidden;
  const choose = (reply) => {
    if (reply.macro) { closePicker(); runMacro(reply); return; }
    const t = textarea();
    t.value = reply.text;
    closePicker();
    t.focus();
    t.setSelectionRange(t.value.length, t.value.length);
  };
  const openPicker = async () => {
    await loadSaved();
    // The agent may have chosen or typed on while the list loaded.
    const t = textarea();
    if (!t || !t.value.startsWith("/") || t.value.includes("\n")) return;
    pickerIndex = 0;
    renderPicker();
  };

  let lastTyping = 0;
  document.addEventListener("input", (e) => {
    if (e.target.id !== "composer-text") return;
    const value = e.target.value;
    if (value.startsWith("/") && !value.includes("\n")) openPicker();
    else closePicker();
    if (openId && Date.now() - lastTyping > 2500 && value.trim()) {
      lastTyping = Date.now();
      send({ type: "typing", conversation: openId });
    }
  });

  // After a send, the next keystroke is news again (the send ended the teammates' notice).
  document.addEventListener("submit", (e) => { if (e.target.id === "composer-form") lastTyping = 0; });

  document.addEventListener("keydown", (e) => {
    if (e.target.id !== "composer-text") return;
    if (pickerOpen()) {
      const matches = pickerMatches();
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        pickerIndex = (pickerIndex + (e.key === "ArrowDown" ? 1 : matches.length - 1)) % Math.max(matches.length, 1);
        renderPicker();
        return;
      }
      if ((e.key === "Enter" || e.key === "Tab") && matches.length) {
        e.preventDefault();
        choose(matches[pickerIndex] || matches[0]);
        return;
      }
      if (e.key === "Escape") { closePicker(); return; }
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      const button = document.getElementById(mode() === "note" ? "add-note" : "send");
      if (button && !button.disabled && e.target.value.trim()) e.target.form.requestSubmit(button);
    }
  });

  // --- Attachments: the styled picker, files dropped on the composer or images pasted into it,
  // each chosen file listed with a remove button. The file input stays the field submitted. ---
  const fileInput = () => document.getElementById("composer-file");
  const filesProblem = (input, files) => {
    const maxBytes = Number(input.dataset.maxBytes || 0);
    const maxCount = Number(input.dataset.maxCount || 1);
    const tooBig = files.find((file) => maxBytes && file.size > maxBytes);
    if (tooBig) return fmt(gettext("%(name)s is over this platform's limit."), { name: tooBig.name });
    if (files.length > maxCount) return fmt(ngettext("At most %(count)s attachment on this platform.", "At most %(count)s attachments on this platform.", maxCount), { count: maxCount });
    return "";
  };
  const renderChosen = () => {
    const list = document.getElementById("chosen-files");
    const input = fileInput();
    if (!list || !input) return;
    list.replaceChildren();
    Array.from(input.files).forEach((file, index) => {
      const item = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = file.name;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "secondary remove";
      remove.textContent = "✕";
      remove.setAttribute("aria-label", fmt(gettext("Remove %(name)s"), { name: file.name }));
      remove.addEventListener("click", () => {
        setFiles(Array.from(input.files).filter((_, i) => i !== index));
        textarea()?.focus();
      });
      item.append(name, remove);
      list.append(item);
    });
  };
  const setFiles = (files) => {
    const input = fileInput();
    if (!input || input.disabled) return;
    const problem = filesProblem(input, files);
    if (problem) { window.alert(problem); return; }
    const transfer = new DataTransfer();
    files.forEach((file) => transfer.items.add(file));
    input.files = transfer.files;
    renderChosen();
  };
  // Where the platform takes one file per message, a new file replaces the chosen one.
  const addFiles = (files) => {
    const input = fileInput();
    if (input && files.length) setFiles([...(input.multiple ? Array.from(input.files) : []), ...files]);
  };
  // Files dropped anywhere on a conversation go to its composer (and never make the browser
  // leave the page, and the draft, to show the file).
  const draggingFiles = (e) => openId && fileInput() && Array.from(e.dataTransfer?.types || []).includes("Files");
  document.addEventListener("dragover", (e) => {
    if (!draggingFiles(e)) return;
    e.preventDefault();
    document.getElementById("composer-form").classList.add("dropping");
  });
  document.addEventListener("dragleave", (e) => {
    if (draggingFiles(e) && !e.relatedTarget) document.getElementById("composer-form").classList.remove("dropping");
  });
  document.addEventListener("drop", (e) => {
    if (!draggingFiles(e)) return;
    e.preventDefault();
    document.getElementById("composer-form").classList.remove("dropping");
    addFiles(Array.from(e.dataTransfer?.files || []));
  });
  document.addEventListener("paste", (e) => {
    if (e.target.id !== "composer-text") return;
    const images = Array.from(e.clipboardData?.files || []).filter((file) => file.type.startsWith("image/"));
    if (!images.length) return; // text pastes as text
    e.preventDefault();
    addFiles(images);
  });

  document.addEventListener("change", (e) => {
    const input = e.target;
    if (input.matches?.("#composer-form input[name=mode]")) showMode();
    if (input.id === "composer-file") {
      const problem = filesProblem(input, Array.from(input.files));
      if (problem) {
        input.value = "";
        window.alert(problem);
      }
      renderChosen();
    }
    if (input.name === "ids" || input.matches?.("#conversation-rows input[type=checkbox]")) {
      const count = document.querySelectorAll("#conversation-rows input[type=checkbox]:checked").length;
      const label = document.getElementById("bulk-count");
      if (label) label.textContent = count ? fmt(ngettext("%(count)s selected", "%(count)s selected", count), { count }) : gettext("Select rows for bulk actions");
      document.getElementById("bulk-form")?.classList.toggle("has-selection", count > 0);
    }
  });

  // The composer's answer says whether the send went through (the warning keeps the text).
  body.addEventListener("htmx:afterSwap", (e) => {
    if (e.detail.target && e.detail.target.id === "composer") {
      const t = textarea();
      if (t && document.getElementById("changed-warning")) t.focus();
    }
    if (e.detail.target && e.detail.target.id === "list-body") updateTitle();
  });

  // --- Undo after a resolve: the offer goes when its time is up, unless it is in use. ---
  const armUndo = () => {
    const offer = document.getElementById("undo-offer");
    if (!offer || offer.dataset.armed) return;
    offer.dataset.armed = "1";
    const expire = () => {
      if (offer.matches(":focus-within, :hover")) setTimeout(expire, 1000);
      else offer.remove();
    };
    setTimeout(expire, Number(offer.dataset.secondsLeft || 0) * 1000);
  };
  armUndo();
  body.addEventListener("htmx:afterSettle", armUndo);
  // An action's answer carries the page's flash (a resolve's undo offer): show it.
  const showFlash = (html) => {
    const flash = fragment(html).getElementById("flash");
    const current = document.getElementById("flash");
    if (flash && current) {
      flash.removeAttribute("hx-swap-oob");
      current.replaceWith(flash);
      armUndo();
    }
  };

  // --- Keyboard shortcuts ---
  const typingInField = (el) => el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  const rowList = () => Array.from(document.querySelectorAll("#conversation-rows li.row"));
  const moveSelection = (delta) => {
    const rows = rowList();
    if (!rows.length) return;
    const current = rows.findIndex((r) => r.classList.contains("selected"));
    const next = Math.min(rows.length - 1, Math.max(0, current + delta));
    rows.forEach((r) => r.classList.remove("selected"));
    rows[next].classList.add("selected");
    rows[next].scrollIntoView({ block: "nearest" });
  };

  // Inside a conversation: j / k open the next / previous one of the list pane, Esc goes back
  // to the list (the pane beside the thread, or the list page where there is no room for it).
  const openNeighbour = (delta) => {
    const rows = rowList();
    const at = rows.findIndex((r) => Number(r.dataset.conversation) === openId);
    const target = at < 0 ? rows[0] : rows[at + delta];
    const link = target && target.querySelector("a");
    if (link) location.assign(link.href);
  };
  const backToList = () => {
    const rows = rowsEl();
    if (rows && rows.offsetParent !== null) {
      (currentRow() || rows.querySelector("li.row"))?.querySelector("a")?.focus();
    } else {
      const back = document.getElementById("back-to-list");
      if (back) location.assign(back.href);
    }
  };

  // The action bar folds into a menu on a phone; the contact panel opens over the thread
  // where there is no room beside it. (The header is re-rendered after actions: delegate.)
  document.addEventListener("click", (e) => {
    const toggle = e.target.closest?.("#actions-toggle, #profile-toggle, .profile-close");
    if (!toggle) return;
    const target = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!target) return;
    const open = !target.classList.contains("open");
    target.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", String(open));
    if (toggle.id === "profile-toggle") document.getElementById("actions-bar")?.classList.remove("open");
  });

  // On a phone the list's secondary navigation starts folded (it is open on wider screens).
  if (window.matchMedia("(max-width: 480px)").matches) {
    document.querySelectorAll("details[data-fold-on-phone]").forEach((d) => { d.open = false; });
  }

  // `a` / `e` on the list act on the selected row; the live event then updates the row.
  const actOnSelectedRow = (fields) => {
    const row = document.querySelector("#conversation-rows li.row.selected");
    if (!row) return;
    fetch(`/conversations/${row.dataset.conversation}/actions/`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    }).then(async (response) => {
      if (response.ok) showFlash(await response.text());
      refreshRow(Number(row.dataset.conversation), false, true); // the agent's own act
    });
  };

  document.addEventListener("keydown", (e) => {
    const dialog = document.getElementById("shortcuts");
    if (e.key === "Escape" && typingInField(e.target)) { e.target.blur(); return; }
    if (typingInField(e.target) || e.metaKey || e.ctrlKey || e.altKey) return;
    const click = (id) => { const el = document.getElementById(id); if (el) el.click(); };
    switch (e.key) {
      case "?":
        if (dialog) { if (dialog.open) dialog.close(); else dialog.showModal(); }
        break;
      case "j": if (page === "list") moveSelection(1); else if (openId) openNeighbour(1); break;
      case "k": if (page === "list") moveSelection(-1); else if (openId) openNeighbour(-1); break;
      case "Escape": {
        const menu = document.querySelector("#actions-bar.open, #contact-panel.open");
        if (menu) { // a folded menu or sheet closes first
          menu.classList.remove("open");
          document.querySelector(`[aria-controls="${menu.id}"][aria-expanded]`)?.setAttribute("aria-expanded", "false");
        }
        else if (openId && !(dialog && dialog.open) && !document.querySelector("details[open]")) backToList();
        break;
      }
      case "x": {
        const row = document.querySelector("#conversation-rows li.row.selected input[type=checkbox]");
        if (row) { row.checked = !row.checked; row.dispatchEvent(new Event("change", { bubbles: true })); }
        break;
      }
      case "Enter": {
        if (e.target.closest?.("button, a")) break; // Enter on a control is that control's
        const link = document.querySelector("#conversation-rows li.row.selected a");
        if (link) link.click();
        break;
      }
      case "r": if (openId) { e.preventDefault(); setMode("reply"); } break;
      case "u": click("undo"); break;
      case "n": if (openId) { e.preventDefault(); setMode("note"); } break;
      case "a":
        if (openId) click("assign-me");
        else actOnSelectedRow({ action: "assign", assignee: "me" });
        break;
      case "e":
        if (openId) click("resolve");
        else actOnSelectedRow({ action: "resolve", stay: "1" }); // the agent stays on the list
        break;
      case "/":
        e.preventDefault();
        if (openId) {
          const t = textarea();
          if (t) { t.focus(); if (!t.value) { t.value = "/"; openPicker(); } }
        } else {
          document.getElementById("search")?.focus();
        }
        break;
      default:
        return;
    }
  });
})();
