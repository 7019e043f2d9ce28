// Light or dark: the system's setting (prefers-color-scheme, in the CSS) unless the agent chose
// with the switch in the top bar; the choice is kept in this browser (localStorage). Loaded
// without `defer` in <head>, so the chosen theme is set before the first paint: no flash.
"use strict";

(() => {
  const KEY = "parley-theme";
  const root = document.documentElement;
  const stored = () => {
    try {
      return window.localStorage.getItem(KEY);
    } catch {
      return null; // storage refused (private mode): the system's setting
    }
  };
  const chosen = stored();
  if (chosen === "dark" || chosen === "light") root.dataset.theme = chosen;

  const system = window.matchMedia("(prefers-color-scheme: dark)");
  const current = () => root.dataset.theme || (system.matches ? "dark" : "light");
  const gettext = (text) => (window.gettext ? window.gettext(text) : text);

  const show = (button) => {
    const dark = current() === "dark";
    button.setAttribute("aria-pressed", String(dark));
    button.textContent = dark ? gettext("Dark mode: on") : gettext("Dark mode: off");
  };

  document.addEventListener("DOMContentLoaded", () => {
    const button = document.getElementById("theme-switch");
    if (!button) return;
    show(button);
    button.hidden = false;
    button.addEventListener("click", () => {
      const next = current() === "dark" ? "light" : "dark";
      root.dataset.theme = next;
      try {
        window.localStorage.setItem(KEY, next);
      } catch {
        // Not kept across pages, but this page still follows the switch.
      }
      show(button);
    });
    system.addEventListener("change", () => show(button));
  });
})();
