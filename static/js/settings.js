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
