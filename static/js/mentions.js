// `@mentions` in a private note: typing `@` and the start of a teammate's name or username in
// the note composer lists the teammates who may see this conversation; ArrowDown / ArrowUp move,
// Enter or Tab insert `@username`, Escape closes; a click inserts too. A mentioned teammate is
// notified (notifications/listeners.py).
(() => {
  const conversation = Number(document.body.dataset.conversation || 0);
  if (!conversation) return;
  const textarea = () => document.getElementById("composer-text");
  const noteMode = () => document.querySelector("#composer-form input[name=mode]:checked")?.value === "note";
  // The `@word` being typed just before the caret (not inside an email address).
  const TOKEN = /(?:^|[\s(])@([\w.+-]{0,50})$/;

  let matches = [];
  let index = 0;
  let token = null; // {start, end} of `@term` in the text
  let asked = 0;
  const cache = new Map();

  const picker = () => document.getElementById("mention-picker");
  const isOpen = () => Boolean(picker() && !picker().hidden);

  const close = () => {
    const el = picker();
    if (el) el.hidden = true;
    const t = textarea();
    t?.removeAttribute("aria-activedescendant");
    t?.setAttribute("aria-expanded", "false");
    matches = [];
    token = null;
  };

  const render = () => {
    const el = picker();
    const t = textarea();
    if (!el || !t) return;
    el.replaceChildren();
    if (!matches.length) { close(); return; }
    matches.forEach((user, i) => {
      const option = document.createElement("button");
      option.type = "button";
      option.id = `mention-option-${i}`;
      option.className = `saved mention${i === index ? " active" : ""}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", String(i === index));
      option.dataset.username = user.username;
      const name = document.createElement("strong");
      name.textContent = user.name;
      const handle = document.createElement("span");
      handle.textContent = `@${user.username}`;
      option.append(name, handle);
      // mousedown, not click: the text box keeps its focus and caret.
      option.addEventListener("mousedown", (e) => { e.preventDefault(); choose(user); });
      el.append(option);
    });
    el.hidden = false;
    t.setAttribute("aria-controls", "mention-picker");
    t.setAttribute("aria-autocomplete", "list");
    t.setAttribute("aria-expanded", "true");
    t.setAttribute("aria-activedescendant", `mention-option-${index}`);
  };

  const choose = (user) => {
    const t = textarea();
    if (!t || !token) return;
    const insert = `@${user.username} `;
    t.value = t.value.slice(0, token.start) + insert + t.value.slice(token.end);
    const caret = token.start + insert.length;
    close();
    t.focus();
    t.setSelectionRange(caret, caret);
  };

  const lookUp = async (term) => {
    if (!cache.has(term)) {
      cache.set(term, fetch(`/notifications/mentionable/${conversation}/?q=${encodeURIComponent(term)}`, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : { results: [] }))
        .then((data) => data.results)
        .catch(() => []));
    }
    return cache.get(term);
  };

  const update = async () => {
    const t = textarea();
    if (!t || !noteMode() || t.selectionStart !== t.selectionEnd) { close(); return; }
    const before = t.value.slice(0, t.selectionStart);
    const found = TOKEN.exec(before);
    if (!found) { close(); return; }
    const term = found[1];
    const start = before.length - term.length - 1;
    const ask = ++asked;
    const results = await lookUp(term);
    if (ask !== asked) return; // the agent typed on meanwhile: a newer lookup answers
    token = { start, end: t.selectionStart };
    matches = results;
    index = 0;
    render();
  };

  document.addEventListener("input", (e) => { if (e.target.id === "composer-text") update(); });
  document.addEventListener("change", (e) => { if (e.target.matches?.("#composer-form input[name=mode]")) close(); });
  document.addEventListener("focusout", (e) => { if (e.target.id === "composer-text") close(); });

  // Capture phase: while the list is open, these keys are the list's, not the composer's
  // (Enter must insert the name, not add the note).
  document.addEventListener("keydown", (e) => {
    if (e.target.id !== "composer-text" || !isOpen() || !matches.length) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      index = (index + (e.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
      render();
    } else if ((e.key === "Enter" || e.key === "Tab") && !e.shiftKey && !e.isComposing) {
      choose(matches[index] || matches[0]);
    } else if (e.key === "Escape") {
      close();
    } else {
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  }, true);
})();
