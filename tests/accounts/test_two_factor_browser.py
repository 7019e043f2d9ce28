"""Two-factor authentication in Chromium: an agent turns it on from the workspace with the
keyboard, then logs in on a phone with a code computed as an authenticator app does."""

from __future__ import annotations

import pytest

from inbox.settings_area.models import AuditLog
from tests.accounts.twofactor_helpers import code_for
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_agent_enrols_and_then_logs_in_with_a_code(live_server_process, chromium, account, agent):
    url = live_server_process.url

    # Desktop, keyboard only: log in, open Security from the top bar, turn it on.
    desk = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = desk.new_page()
    page.goto(f"{url}/login/")
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/")
    page.get_by_role("link", name="Security").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/account/security/")
    assert page.locator(".qr svg").is_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code the app shows").fill(code_for(secret))
    page.keyboard.press("Enter")
    page.locator("#recovery-codes li").first.wait_for()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    desk.close()

    # A phone: the password alone leads to the code step, the app's next code opens the inbox.
    phone = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/login/code/")
    page.goto(f"{url}/")
    assert page.url.startswith(f"{url}/login/")  # nothing opens halfway through

    page.goto(f"{url}/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/login/code/")
    page.fill("input[name=code]", "000000")
    page.click("button[type=submit]")
    assert page.get_by_role("alert").inner_text().startswith("That code is not right")
    page.wait_for_timeout(1100)  # django-otp's pause after a wrong code
    page.fill("input[name=code]", code_for(secret, steps_ahead=1))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/")
    page.wait_for_selector("#live-status[data-state=live]")
    phone.close()

    assert list(
        AuditLog.objects.filter(target_id=str(agent.pk), action__startswith="2fa.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["2fa.enabled", "2fa.used"]
