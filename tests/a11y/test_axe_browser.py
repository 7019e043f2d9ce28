"""axe-core (vendored, tests/vendor/axe.min.js) on every main page, in light and dark mode:
no serious or critical violation. Runs in Chromium against the real server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.a11y.pages import log_in, seed_workspace

pytestmark = [pytest.mark.live, pytest.mark.browser]

AXE = (Path(__file__).resolve().parent.parent / "vendor" / "axe.min.js").read_text()
# WCAG 2.1 A and AA, and axe's best practices.
RUN_AXE = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
  });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " — " + n.failureSummary)}));
}"""


def serious_violations(page) -> list[dict]:
    # Through the DevTools protocol, not a <script>: the page's CSP stays as users get it.
    page.evaluate(AXE)
    return page.evaluate(RUN_AXE)


def main_pages(workspace) -> dict[str, str]:
    return {
        "inbox": "/",
        "conversation": f"/conversations/{workspace.conversation_id}/",
        "reports": "/reports/",
        "settings": "/settings/accounts/",
        "profile": "/profile/",
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_main_pages_have_no_serious_or_critical_axe_violations(
    live_server_process, chromium, scheme
):
    workspace = seed_workspace()
    url = live_server_process.url
    found: dict[str, list[dict]] = {}

    anonymous = chromium.new_context(color_scheme=scheme)
    login = anonymous.new_page()
    login.goto(f"{url}/login/")
    found["login"] = serious_violations(login)
    anonymous.close()

    context, page = log_in(chromium, url, workspace.admin.username, color_scheme=scheme)
    for name, path in main_pages(workspace).items():
        page.goto(f"{url}{path}")
        page.wait_for_load_state("networkidle")
        assert (
            page.evaluate("() => getComputedStyle(document.documentElement).colorScheme") == scheme
        ), name  # the page really is in that mode
        found[name] = serious_violations(page)
    context.close()
    problems = {name: v for name, v in found.items() if v}
    assert problems == {}, json.dumps(problems, indent=1)


def test_the_dark_mode_switch_is_kept_without_a_flash(live_server_process, chromium):
    """The system says light; the agent switches to dark; the next page starts dark (the
    choice is applied before the first paint) and still has no serious violation."""
    workspace = seed_workspace()
    url = live_server_process.url
    context, page = log_in(chromium, url, workspace.admin.username, color_scheme="light")
    switch = page.locator("#theme-switch")
    assert switch.get_attribute("aria-pressed") == "false"
    switch.focus()
    page.keyboard.press("Enter")
    assert switch.get_attribute("aria-pressed") == "true"
    background = "() => getComputedStyle(document.body).backgroundColor"
    assert page.evaluate(background) == "rgb(11, 18, 32)"

    # The theme is set by a blocking script in <head>: read before any other script runs.
    page.add_init_script(
        "document.addEventListener('readystatechange', () => {"
        " if (!window.firstTheme) window.firstTheme = document.documentElement.dataset.theme;"
        "}, {once: true});"
    )
    page.goto(f"{url}/conversations/{workspace.conversation_id}/")
    assert page.evaluate("() => window.firstTheme") == "dark"
    assert page.evaluate(background) == "rgb(11, 18, 32)"
    assert serious_violations(page) == []
    context.close()


def test_everything_is_reachable_by_keyboard_with_a_visible_focus_ring(
    live_server_process, chromium
):
    workspace = seed_workspace()
    context, page = log_in(chromium, live_server_process.url, workspace.admin.username)
    page.goto(f"{live_server_process.url}/conversations/{workspace.conversation_id}/")
    # The first Tab offers to skip the navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip-link"
    unfocused = []
    for _ in range(80):
        page.keyboard.press("Tab")
        ring = page.evaluate(
            """() => {
              const el = document.activeElement;
              const style = getComputedStyle(el);
              const outlined = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
              const within = el.closest("label:focus-within");
              return {tag: el.tagName, id: el.id, ok: outlined || Boolean(within)};
            }"""
        )
        if ring["tag"] == "BODY":
            break  # past the last control: the browser's own UI is next
        if not ring["ok"]:
            unfocused.append(ring)
    assert unfocused == []
    # The composer is reached and used by keyboard alone.
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    assert page.evaluate("() => document.activeElement.id") == "composer-text"
    context.close()
