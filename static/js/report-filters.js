// The reports page's contact-attribute filter: once an attribute is chosen, its value is picked
// from a menu (choice and yes/no attributes) or typed (text, number, date). The attributes and
// their values come from the JSON the server embedded (#report-attributes). Without this script
// the typed field alone works: the server checks the value against the attribute's type.
(function () {
  "use strict";

  const INPUT_TYPES = { number: "number", date: "date" };

  function setUp() {
    const source = document.getElementById("report-attributes");
    const attribute = document.getElementById("report-attribute");
    const menu = document.getElementById("report-attribute-options");
    const text = document.getElementById("report-attribute-text");
    if (!source || !attribute || !menu || !text) return;
    const definitions = new Map(JSON.parse(source.textContent).map((d) => [d.key, d]));
    const anyValue = menu.options[0];

    function show(control, shown) {
      control.hidden = !shown;
      control.disabled = !shown;
    }

    function typed(definition) {
      text.type = (definition && INPUT_TYPES[definition.type]) || "text";
      if (text.type === "number") text.step = "any";
    }

    function changed() {
      const definition = definitions.get(attribute.value);
      const options = definition ? definition.options : [];
      menu.replaceChildren(anyValue);
      for (const [value, label] of options) {
        menu.append(new Option(label, value));
      }
      menu.value = "";
      text.value = "";
      typed(definition);
      show(menu, options.length > 0);
      show(text, options.length === 0);
    }

    typed(definitions.get(attribute.value));
    attribute.addEventListener("change", changed);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
