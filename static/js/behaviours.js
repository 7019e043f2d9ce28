// Small page behaviours that templates ask for with data attributes. The Content-Security-Policy
// allows scripts only from our static files (no inline `on…=` handlers), so they live here:
//
//   data-submit-on-change       a select that submits its form when changed (requestSubmit, so a
//                               form that htmx posts is still posted by htmx)
//   data-confirm="Question?"    a form that asks before it is submitted (mouse, Enter or Space)
//   data-fill="field"           a button (on click) or select (on change) that copies its
//     [data-value="…"]          data-value, or its own value, into the form's field `field`
"use strict";

(() => {
  const fill = (control) => {
    const field = control.form && control.form.elements.namedItem(control.dataset.fill);
    if (field) field.value = control.dataset.value ?? control.value;
  };

  document.addEventListener("change", (event) => {
    const control = event.target;
    if (!(control instanceof HTMLSelectElement)) return;
    if (control.dataset.fill) fill(control);
    if ("submitOnChange" in control.dataset && control.form) control.form.requestSubmit();
  });

  document.addEventListener("click", (event) => {
    const control = event.target instanceof Element && event.target.closest("button[data-fill]");
    if (control) fill(control);
  });

  // Capture phase: asked before htmx (or anything else) acts on the submit.
  document.addEventListener(
    "submit",
    (event) => {
      const question = event.target.dataset && event.target.dataset.confirm;
      if (question && !window.confirm(question)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true,
  );
})();
