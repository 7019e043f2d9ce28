// Settings area: copy buttons (`data-copy="#element"` copies that element's text).
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  const text = source.textContent.trim();
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard API (plain http on another host): select the text for Ctrl+C instead.
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    document.execCommand("copy");
  }
  button.textContent = "Copied";
  button.dataset.copied = "1";
  setTimeout(() => { button.textContent = "Copy"; }, 2000);
});

// History import: while an import runs, its progress bar and caption follow the server (the
// import itself runs on the worker; a reload shows the same state from the database).
(function followHistoryImport() {
  const card = document.getElementById("history-import");
  if (!card || !card.dataset.active) return;
  const bar = document.getElementById("history-progress");
  const status = document.getElementById("history-status");
  const error = document.getElementById("history-error");
  const poll = async () => {
    let data;
    try {
      const response = await fetch(card.dataset.progressUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      data = (await response.json()).import;
    } catch {
      setTimeout(poll, 5000);
      return;
    }
    if (!data) return;
    bar.value = data.percent;
    status.textContent = data.summary;
    error.textContent = data.error;
    error.hidden = !data.error;
    if (data.active) {
      setTimeout(poll, 1000);
    } else {
      delete card.dataset.active;
      // Finished: the page's actions (start again) follow from the server.
      window.location.reload();
    }
  };
  setTimeout(poll, 1000);
})();

// WCAG relative luminance of #rrggbb: above LIGHT_BACKGROUND the label chip takes black text
// (the same sum as Label.on_light in inbox/models/conversations.py).
const LIGHT_BACKGROUND = Math.sqrt(1.05 * 0.05) - 0.05;
function luminance(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

// The label form's preview starts with the colour being edited (the server renders no class).
(() => {
  const preview = document.getElementById("label-preview");
  const color = preview && preview.closest("form").querySelector("input[name=color]");
  if (color && /^#[0-9a-f]{6}$/i.test(color.value)) preview.classList.toggle("on-light", luminance(color.value) > LIGHT_BACKGROUND);
})();

// Configuration pages: previews that follow what is typed.
//   the label form: #label-preview takes the name and colour being entered;
//   the survey form: [data-preview="question"|"comment"] take the question and comment prompt.
document.addEventListener("input", (event) => {
  const field = event.target;
  if (!(field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement)) return;
  const labelPreview = field.form && field.form.querySelector("#label-preview");
  if (labelPreview) {
    if (field.name === "name") labelPreview.textContent = field.value || "label";
    if (field.name === "color" && /^#[0-9a-f]{6}$/i.test(field.value)) {
      labelPreview.style.backgroundColor = field.value;
      labelPreview.classList.toggle("on-light", luminance(field.value) > LIGHT_BACKGROUND);
    }
  }
  const previews = { question: "question", comment_prompt: "comment" };
  if (field.form && field.form.id === "survey-form" && previews[field.name]) {
    const target = document.querySelector(`[data-preview="${previews[field.name]}"]`);
    if (target) target.textContent = field.value;
  }
});

// Automation rule form: only the trigger's own fields (minutes and business hours for "no
// reply", days for "pending") are shown.
const showTriggerFields = () => {
  const trigger = document.getElementById("id_trigger");
  if (!trigger) return;
  const wanted = { id_minutes: "no_reply", id_business_hours: "no_reply", id_days: "pending" };
  Object.entries(wanted).forEach(([id, kind]) => {
    const field = document.getElementById(id)?.closest(".field");
    if (field) field.hidden = trigger.value !== kind;
  });
};
document.addEventListener("change", (event) => { if (event.target.id === "id_trigger") showTriggerFields(); });
showTriggerFields();
