"""The Content-Security-Policy in Chromium: the main pages break none of it (violations are
reported to a collector of the test's own), the behaviours that used to be inline handlers still
work by mouse and keyboard, and an injected inline script is blocked and reported."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from inbox.models import Conversation, PlatformAccount
from tests.factories import PASSWORD, ContactFactory, ConversationFactory, MessageFactory
from tests.helpers import wait_for
from tests.live import process_env, start_uvicorn, stop

pytestmark = [pytest.mark.live, pytest.mark.browser]

# Records `securitypolicyviolation` events too, so a failure names the page it happened on.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(
  {directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample, line: e.lineNumber}));
"""


class ReportCollector:
    """The `report-uri` of the policy under test: a real HTTP server recording each report."""

    def __init__(self) -> None:
        self.reports: list[dict] = []
        reports = self.reports

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                reports.append(json.loads(body or b"{}").get("csp-report", {}))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/csp-report"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def collector() -> Iterator[ReportCollector]:
    collector = ReportCollector()
    yield collector
    collector.server.shutdown()


@pytest.fixture(scope="module")
def _csp_server(django_db_setup, fake_platforms_session, collector):
    live = start_uvicorn(process_env(CSP_REPORT_URI=collector.url), log_name="uvicorn-csp")
    yield live
    stop(live)


@pytest.fixture
def csp_server(_csp_server, transactional_db, collector):
    collector.reports.clear()
    return _csp_server


def log_in(chromium, url: str, user):
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_selector("#live-status")
    return context, page


def test_main_pages_report_no_violations_and_still_work(
    csp_server, collector, chromium, account, admin_user, teammate
):
    url = csp_server.url
    admin_user.teams.add(*teammate.teams.all())
    conversation = ConversationFactory(account=account, contact=ContactFactory(name="Priya"))
    MessageFactory(conversation=conversation, text="Is the green coat in stock?")
    other = ConversationFactory(account=account, contact=ContactFactory(name="Sam"))
    team = teammate.teams.get()
    context, page = log_in(chromium, url, admin_user)
    visited: dict[str, list] = {}

    pages = [
        "/",
        f"/conversations/{conversation.pk}/",
        "/reports/",
        "/settings/",
        "/settings/accounts/",
        f"/settings/accounts/{account.pk}/",
        "/settings/accounts/connect/",
        "/settings/users/",
        "/settings/users/new/",
        "/settings/teams/",
        f"/settings/teams/{team.pk}/",
        "/settings/audit/",
        "/settings/webhooks/",
        "/admin/",
        "/api/v1/conversations/",  # DRF's browsable API
    ]
    for path in pages:
        response = page.goto(f"{url}{path}")
        assert response.status == 200, path
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-eval" not in csp, path
        page.wait_for_load_state("load")
        visited[path] = page.evaluate("window.__violations")

    # The onchange-submitted select still submits.
    page.goto(f"{url}/settings/accounts/connect/")
    page.select_option("select[name=platform]", "x")
    page.wait_for_url("**platform=x**")
    # The conversation header's selects post through htmx.
    page.goto(f"{url}/conversations/{conversation.pk}/")
    page.select_option("#assign-select", str(teammate.pk))
    wait_for(lambda: Conversation.objects.get(pk=conversation.pk).assignee_id == teammate.pk)
    page.select_option("select[name=priority]", "2")
    wait_for(lambda: Conversation.objects.get(pk=conversation.pk).priority == 2)
    # The bulk bar's "Assign to me" fills the hidden assignee before the form posts.
    page.goto(f"{url}/")
    page.check(f"input[name=ids][value='{other.pk}']")
    page.click("#bulk-form button[data-value=me]")
    wait_for(lambda: Conversation.objects.get(pk=other.pk).assignee_id == admin_user.pk)

    # The disconnect confirmation still asks; dismissed, nothing happens.
    questions: list[str] = []
    page.goto(f"{url}/settings/accounts/{account.pk}/")
    page.once("dialog", lambda d: (questions.append(d.message), d.dismiss()))
    page.click("#disconnect")
    page.wait_for_timeout(300)
    assert PlatformAccount.objects.get(pk=account.pk).status == "connected"
    # Accepted from the keyboard, the account is disconnected.
    page.once("dialog", lambda d: (questions.append(d.message), d.accept()))
    page.focus("#disconnect")
    page.keyboard.press("Enter")
    wait_for(lambda: PlatformAccount.objects.get(pk=account.pk).status == "disconnected")
    page.wait_for_selector("text=To reconnect")
    assert questions == [f"Disconnect {account.name}? Its conversations are kept."] * 2
    visited["after the interactions"] = page.evaluate("window.__violations")

    page.wait_for_timeout(1000)  # reports are posted shortly after the violation
    context.close()
    assert {path: found for path, found in visited.items() if found} == {}
    assert collector.reports == []


def test_an_injected_inline_script_is_blocked_and_reported(
    csp_server, collector, chromium, account, agent
):
    context, page = log_in(chromium, csp_server.url, agent)

    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__ran = 'inline script'";
            document.body.append(script);
            const button = document.createElement("button");
            button.id = "injected";
            button.setAttribute("onclick", "window.__ran = 'inline handler'");
            document.body.append(button);
        }"""
    )
    page.click("#injected")

    assert page.evaluate("window.__ran") is None
    # The page's own record of violations (what the first test reads per page) saw both too.
    seen = page.evaluate("window.__violations.map((v) => v.directive)")
    assert sorted(seen) == ["script-src-attr", "script-src-elem"]
    reports = wait_for(lambda: len(collector.reports) >= 2 and collector.reports)
    context.close()
    assert {r["effective-directive"] for r in reports} == {"script-src-elem", "script-src-attr"}
    assert all(r["document-uri"].startswith(csp_server.url) for r in reports)


def test_the_api_reference_page_works_under_the_policy(csp_server, collector, chromium, agent):
    context, page = log_in(chromium, csp_server.url, agent)

    # Reached from the page's own link in the settings area for admins; agents open it directly.
    response = page.goto(f"{csp_server.url}/api/docs/")

    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # Swagger UI (our static copy) rendered the schema's operations.
    page.wait_for_selector("text=/api/v1/conversations/{id}/")
    page.wait_for_selector("text=/api/v1/webhooks/")
    # "Try it out" on a GET goes out with the page's session.
    page.click('.opblock-get .opblock-summary-path[data-path="/api/v1/labels/"]')
    page.click(".opblock.is-open button.try-out__btn")
    page.click(".opblock.is-open button.execute")
    page.wait_for_selector(".live-responses-table .response-col_status >> text=200")
    page.wait_for_timeout(1000)  # reports are posted shortly after a violation
    violations = page.evaluate("window.__violations")
    context.close()
    assert violations == []
    assert collector.reports == []
