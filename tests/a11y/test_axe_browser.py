"""axe-core (vendored, tests/vendor/axe.min.js) on every main page, in light and dark mode:
no serious or critical violation. Runs in Chromium against the real server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.a11y.pages import (
    log_in,
    seed_configuration,
    seed_issue18_pages,
    seed_workspace,
)

pytestmark = [pytest.mark.live, pytest.mark.browser]

AXE = (Path(__file__).resolve().parent.parent / "vendor" / "axe.min.js").read_text()
# WCAG 2.1 A and AA, and axe's best practices.
RUN_AXE = """async (exclude) => {
  const result = await axe.run({include: [document], exclude: exclude.map((s) => [s])}, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
  });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " — " + n.failureSummary)}));
}"""


def serious_violations(page, exclude: tuple[str, ...] = ()) -> list[dict]:
    """``exclude``: selectors of vendored markup we do not own (each use says why)."""
    # Through the DevTools protocol, not a <script>: the page's CSP stays as users get it.
    page.evaluate(AXE)
    return page.evaluate(RUN_AXE, list(exclude))


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


def configuration_pages(configured) -> dict[str, str]:
    return {
        "contacts": "/contacts/",
        "contact": f"/contacts/{configured.contact_id}/",
        "contact attributes": "/contacts/attributes/",
        "labels": "/settings/labels/",
        "saved replies": "/settings/saved-replies/",
        "chatbot": "/settings/chatbot/",
        "sla": "/settings/sla/",
        "business hours": "/settings/business-hours/",
        "business hours calendar": f"/settings/business-hours/{configured.business_hours_id}/",
        "assignment": "/settings/assignment/",
        "surveys": "/settings/surveys/",
        "automation": "/settings/automation/",
        "automation rule": f"/settings/automation/{configured.rule_id}/",
        "macros": "/settings/automation/macros/",
        "account and its history import": f"/settings/accounts/{configured.account_id}/",
        "account whose check failed": f"/settings/accounts/{configured.failing_account_id}/",
        # The edit forms behind the lists.
        "label edit": f"/settings/labels/{configured.label_id}/",
        "assignment of a team": f"/settings/assignment/{configured.team_id}/",
        "survey of an account": f"/settings/surveys/{configured.account_id}/",
        "new automation rule": "/settings/automation/new/",
        "macro edit": f"/settings/automation/macros/{configured.macro_id}/",
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_configuration_and_contact_pages_have_no_serious_or_critical_axe_violations(
    live_server_process, chromium, scheme
):
    """The pages merged after the first check, each with data on it, and the notification
    bell's panel open with an unread notification."""
    workspace = seed_workspace()
    configured = seed_configuration(workspace)
    url = live_server_process.url
    found: dict[str, list[dict]] = {}
    context, page = log_in(chromium, url, workspace.admin.username, color_scheme=scheme)
    for name, path in configuration_pages(configured).items():
        page.goto(f"{url}{path}")
        page.wait_for_load_state("networkidle")
        assert (
            page.evaluate("() => getComputedStyle(document.documentElement).colorScheme") == scheme
        ), name
        found[name] = serious_violations(page)

    # The chatbot's "try it" box, answered.
    page.goto(f"{url}/settings/chatbot/")
    page.fill("#try-text", "What are your opening hours?")
    page.click("#try-submit")
    page.locator("#try-why li").first.wait_for()
    found["chatbot try-it answer"] = serious_violations(page)

    page.goto(f"{url}/")
    page.wait_for_selector("#live-status[data-state=live]")
    page.click("#notification-bell-button")
    page.locator("#notification-list li", has_text="Osaka rates").wait_for()
    found["notification panel"] = serious_violations(page)
    context.close()
    problems = {name: v for name, v in found.items() if v}
    assert problems == {}, json.dumps(problems, indent=1, ensure_ascii=False)


def issue18_pages(seeded) -> dict[str, tuple[str, str]]:
    """Each page, and what shows its seeded data is on it (waited for before axe runs)."""
    return {
        "outbound webhooks": ("/settings/webhooks/", "text=https://crm.example.org/in"),
        "a webhook's deliveries and attempts": (
            f"/settings/webhooks/{seeded.subscription_id}/",
            "#deliveries .attempts li:has-text('Timed out after 10 s')",
        ),
        "outreach lists": ("/outreach/", "text=Spring creators"),
        "an outreach list and its recipients": (
            f"/outreach/{seeded.outreach_id}/",
            "#outreach-recipients:has(tr[data-status=pending]):has(tr[data-status=refused])"
            ":has(tr[data-status=public]) .replied a",
        ),
        # A choice attribute (its menu of values) and a number (a text box).
        "reports filtered by a choice attribute": (
            "/reports/?attribute=plan&attribute_value=pro",
            "#report-attribute-options:not([hidden])",
        ),
        "reports filtered by a number attribute": (
            "/reports/?attribute=orders&attribute_value=7",
            "#report-attribute-text:not([hidden])",
        ),
        "campaigns": ("/campaigns/", "text=Winter offers"),
        "a new campaign's form": ("/campaigns/new/", "form"),
        "a draft campaign's eligibility preview": (
            f"/campaigns/{seeded.draft_campaign_id}/",
            "#eligible-count",
        ),
        "a started campaign's report": (
            f"/campaigns/{seeded.started_campaign_id}/",
            "#campaign-summary",
        ),
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_webhook_outreach_csat_and_api_pages_have_no_serious_or_critical_axe_violations(
    live_server_process, chromium, scheme
):
    """Outbound webhooks with their deliveries, outreach lists with recipients in every state,
    campaigns (a draft's preview, a started one's report), the reports' CSAT section with
    ratings and a comment, the contact-attribute filter, and our wrapper around the API
    reference."""
    workspace = seed_workspace()
    configured = seed_configuration(workspace)
    seeded = seed_issue18_pages(workspace, configured)
    url = live_server_process.url
    found: dict[str, list[dict]] = {}
    context, page = log_in(chromium, url, workspace.admin.username, color_scheme=scheme)
    for name, (path, shown) in issue18_pages(seeded).items():
        page.goto(f"{url}{path}")
        page.wait_for_load_state("networkidle")
        page.locator(shown).first.wait_for(timeout=5000)
        assert (
            page.evaluate("() => getComputedStyle(document.documentElement).colorScheme") == scheme
        ), name
        found[name] = serious_violations(page)

    # A refused webhook address: the form comes back with its error.
    page.goto(f"{url}/settings/webhooks/")
    page.fill("#add-webhook input[name=url]", "https://no-such-host.invalid/hook")
    page.locator("#add-webhook input[name=events]").first.check()
    page.click("#add-webhook button[type=submit]")
    page.locator("#add-webhook .errorlist").first.wait_for()
    found["webhook form with an error"] = serious_violations(page)

    # The CSAT section, its charts drawn and the comment shown.
    page.goto(f"{url}/reports/")
    page.wait_for_function("() => window.parleyCsatCharts && window.parleyCsatCharts.length === 2")
    page.get_by_text("Quick and friendly, thank you!").wait_for()
    found["reports with the CSAT section"] = serious_violations(page)

    # The reference's operations are drawn by Swagger UI, vendored (drf-spectacular-sidecar):
    # we check our own page around it, not markup we do not write (see SWAGGER_EXCLUDED).
    page.goto(f"{url}/api/docs/")
    page.locator("#swagger-ui .opblock").first.wait_for()
    found["API reference"] = serious_violations(page, exclude=SWAGGER_EXCLUDED)
    context.close()
    problems = {name: v for name, v in found.items() if v}
    assert problems == {}, json.dumps(problems, indent=1, ensure_ascii=False)


# Swagger UI's own markup (inside #swagger-ui) fails axe: its coloured method badges, version
# stamps and server URL lack contrast, and each operation's summary is a button holding other
# controls (nested-interactive). It is vendored (drf-spectacular-sidecar), not ours to edit;
# the heading, text, links and landmarks around it are checked.
SWAGGER_EXCLUDED = ("#swagger-ui",)


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


FOCUS_RING = """() => {
  const el = document.activeElement;
  el.dataset.tabbed = "1";
  const style = getComputedStyle(el);
  const outlined = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  const within = el.closest("label:focus-within");
  return {tag: el.tagName, id: el.id, text: (el.textContent || el.name || "").trim().slice(0, 40),
          ok: outlined || Boolean(within)};
}"""
# Controls a person can see but Tab never reached (after tabbing through the whole page).
UNREACHED = """() => [...document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]")]
  .filter((el) => !el.disabled && el.tabIndex >= 0 && !el.dataset.tabbed
    && el.getClientRects().length && getComputedStyle(el).visibility !== "hidden"
    && !(el.type === "radio" && !el.checked && el.form
         && [...el.form.elements].some((o) => o.name === el.name && o.dataset.tabbed)))
  .map((el) => el.tagName + "#" + el.id + " " + (el.textContent || el.name || "").trim().slice(0, 40))"""


def tab_through(page, limit: int = 200) -> tuple[list[dict], list[str]]:
    """Tab from the top of the page to its end: the controls focused without a visible ring,
    and the visible controls Tab never reached."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    unringed = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring["tag"] == "BODY":
            break
        if not ring["ok"]:
            unringed.append(ring)
    return unringed, page.evaluate(UNREACHED)


def test_contact_and_configuration_pages_are_reachable_by_keyboard_with_a_focus_ring(
    live_server_process, chromium
):
    """A contact's page and the business-hours calendar, in dark mode: every visible control
    is reached by Tab and shows its ring; the bell's panel opens, is walked and closes by
    keyboard, giving the focus back to the bell."""
    workspace = seed_workspace()
    configured = seed_configuration(workspace)
    url = live_server_process.url
    context, page = log_in(chromium, url, workspace.admin.username, color_scheme="dark")
    for path in (
        f"/contacts/{configured.contact_id}/",
        f"/settings/business-hours/{configured.business_hours_id}/",
        "/settings/automation/",
    ):
        page.goto(f"{url}{path}")
        page.wait_for_load_state("networkidle")
        assert tab_through(page) == ([], []), path

    page.goto(f"{url}/")
    page.wait_for_selector("#live-status[data-state=live]")
    page.focus("#notification-bell-button")
    page.keyboard.press("Enter")
    page.locator("#notification-list li", has_text="Osaka rates").wait_for()
    assert page.get_attribute("#notification-bell-button", "aria-expanded") == "true"
    reached = []
    for _ in range(3):  # "Mark all read", the notification, its "Mark read"
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        assert ring["ok"], ring
        reached.append(ring["text"])
    assert reached[0] == "Mark all read", reached
    assert reached[1].startswith("Ada mentioned you"), reached
    page.keyboard.press("Escape")
    assert page.is_hidden("#notification-panel")
    assert page.evaluate("() => document.activeElement.id") == "notification-bell-button"
    context.close()


def test_webhook_and_outreach_pages_are_reachable_by_keyboard_with_a_focus_ring(
    live_server_process, chromium
):
    """In dark mode: every visible control of a webhook's deliveries and an outreach list's
    page (and of the lists beside them) is reached by Tab and shows its ring."""
    workspace = seed_workspace()
    seeded = seed_issue18_pages(workspace, seed_configuration(workspace))
    url = live_server_process.url
    context, page = log_in(chromium, url, workspace.admin.username, color_scheme="dark")
    for path in (
        "/settings/webhooks/",
        f"/settings/webhooks/{seeded.subscription_id}/",
        "/outreach/",
        f"/outreach/{seeded.outreach_id}/",
    ):
        page.goto(f"{url}{path}")
        page.wait_for_load_state("networkidle")
        assert tab_through(page) == ([], []), path
    context.close()
