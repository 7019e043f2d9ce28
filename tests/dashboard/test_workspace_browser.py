"""The workspace in headless Chromium against uvicorn + PostgreSQL + Redis (+ a real Celery
worker where webhooks arrive): the list beside the thread with j/k and Esc, the next
conversation after resolving, a list that holds still under the pointer, rows that name their
account, and the phone layout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Conversation
from tests.dashboard.test_live_dashboard import post
from tests.factories import PASSWORD, AccountFactory, ContactFactory, ConversationFactory
from tests.helpers import sandbox_body, wait_for

pytestmark = [pytest.mark.live, pytest.mark.browser]

# Every element's box inside the window (a box past the right edge means a sideways scroll or
# a control cut off); hidden elements have no box.
OVERFLOWING = """() => Array.from(document.querySelectorAll('body *'))
  .filter((el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.right > window.innerWidth + 0.5; })
  .map((el) => el.tagName + (el.id ? '#' + el.id : '') + '.' + el.className)"""


def open_page(chromium, url: str, user, **context_options):
    options = {"viewport": {"width": 1440, "height": 900}, **context_options}
    context = chromium.new_context(**options)
    page = context.new_page()
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#live-status[data-state=live]")
    return context, page


def conversations(account, *names: str) -> list[Conversation]:
    """Open conversations, the first name the most recent."""
    now = timezone.now()
    return [
        ConversationFactory(
            account=account,
            contact=ContactFactory(name=name),
            last_message_preview=f"A question from {name}",
            last_activity_at=now - timedelta(minutes=index + 1),
        )
        for index, name in enumerate(names)
    ]


def row_ids(page) -> list[int]:
    return [
        int(i)
        for i in page.eval_on_selector_all(
            "#conversation-rows li.row", "rows => rows.map(r => r.dataset.conversation)"
        )
    ]


def test_j_k_and_esc_inside_a_conversation(live_server_process, chromium, account, agent):
    ana, ben, cleo = conversations(account, "Ana Ruiz", "Ben Okafor", "Cleo Marsh")
    url = live_server_process.url
    context, page = open_page(chromium, url, agent)
    page.click("#conversation-rows li.row >> text=Ben Okafor")
    page.wait_for_url(f"**/conversations/{ben.pk}/")

    # The list stays beside the thread, the open conversation marked in it.
    pane = page.locator(".list-pane")
    assert pane.is_visible() and page.locator("#thread").is_visible()
    assert page.locator(".profile").is_visible()
    assert row_ids(page) == [ana.pk, ben.pk, cleo.pk]
    assert page.locator(f"#row-{ben.pk}.current").count() == 1

    page.keyboard.press("j")
    page.wait_for_url(f"**/conversations/{cleo.pk}/")
    page.wait_for_selector("#live-status[data-state=live]")
    page.keyboard.press("j")  # the last one: nowhere further
    page.keyboard.press("k")
    page.wait_for_url(f"**/conversations/{ben.pk}/")
    page.wait_for_selector("#live-status[data-state=live]")

    # Esc in the composer leaves the text box; Esc again goes to the list, on this row.
    page.click("#composer-text")
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") != "composer-text"
    page.keyboard.press("Escape")
    focused = page.evaluate(
        "document.activeElement.closest('#conversation-rows li.row')?.dataset.conversation"
    )
    assert focused == str(ben.pk)
    page.keyboard.press("k")  # from the list, the keys still walk it
    page.wait_for_url(f"**/conversations/{ana.pk}/")

    # Where the list does not fit beside the thread, Esc shows the list page.
    page.set_viewport_size({"width": 800, "height": 900})
    assert not pane.is_visible()
    page.keyboard.press("Escape")
    page.wait_for_url(f"{url}/")
    context.close()


def test_resolving_opens_the_next_conversation_unless_the_agent_turned_it_off(
    live_server_process, chromium, account, agent
):
    ana, ben, cleo = conversations(account, "Ana Ruiz", "Ben Okafor", "Cleo Marsh")
    url = live_server_process.url
    context, page = open_page(chromium, url, agent)
    page.goto(f"{url}/conversations/{ana.pk}/")
    page.click("#resolve")
    page.wait_for_url(f"**/conversations/{ben.pk}/")
    page.wait_for_selector("#live-status[data-state=live]")
    assert wait_for(lambda: Conversation.objects.get(pk=ana.pk).status == "resolved")

    # The preference, in the workspace: off, and resolving (the `e` key) stays here.
    assert page.is_checked("#open-next")
    page.uncheck("#open-next")
    agent.refresh_from_db()
    assert wait_for(lambda: not type(agent).objects.get(pk=agent.pk).open_next_after_resolve)
    page.locator("body").click(position={"x": 700, "y": 5})  # out of the checkbox
    page.keyboard.press("e")
    page.locator("#conversation-state[data-status=resolved]").wait_for()
    assert page.url.endswith(f"/conversations/{ben.pk}/")
    assert Conversation.objects.get(pk=cleo.pk).status == "open"
    page.reload()
    assert not page.is_checked("#open-next")  # it is kept
    context.close()


def test_list_holds_still_under_the_pointer_and_the_pill_applies_updates(
    live_server_process, celery_worker_process, chromium, account, agent
):
    url = live_server_process.url
    for sender, name in (("c-3", "Cleo Marsh"), ("c-2", "Ben Okafor"), ("c-1", "Ana Ruiz")):
        post(url, account, sandbox_body(sender_id=sender, name=name, text=f"Hi, {name} here"))
        wait_for(lambda name=name: Conversation.objects.filter(contact__name=name).exists())
    context, page = open_page(chromium, url, agent)
    page.wait_for_function(
        "() => document.querySelectorAll('#conversation-rows li.row').length === 3"
    )
    before = row_ids(page)
    cleo = Conversation.objects.get(contact__name="Cleo Marsh").pk
    assert before[-1] == cleo

    # The pointer rests on the list: Cleo's new message waits behind the pill.
    page.hover(f"#row-{before[0]} .preview")
    post(url, account, sandbox_body(sender_id="c-3", name="Cleo Marsh", text="Still there?"))
    pill = page.locator("#list-updates")
    pill.wait_for(state="visible", timeout=15_000)
    assert pill.inner_text().startswith("1 updated")
    assert row_ids(page) == before
    pill.click()
    page.wait_for_function(
        f"() => document.querySelector('#conversation-rows li.row').id === 'row-{cleo}'"
    )
    assert "Still there?" in page.locator(f"#row-{cleo}").inner_text()
    assert pill.is_hidden()

    # Pointer away and no focus in the list: updates apply at once.
    page.hover("#search")
    page.locator("#search").blur()
    ben = Conversation.objects.get(contact__name="Ben Okafor").pk
    post(url, account, sandbox_body(sender_id="c-2", name="Ben Okafor", text="Hello again"))
    page.wait_for_function(
        f"() => document.querySelector('#conversation-rows li.row').id === 'row-{ben}'"
    )
    assert pill.is_hidden()

    # Keyboard focus in the list holds it too.
    page.focus(f"#row-{cleo} a")
    ana = Conversation.objects.get(contact__name="Ana Ruiz").pk
    order = row_ids(page)
    post(url, account, sandbox_body(sender_id="c-1", name="Ana Ruiz", text="One more thing"))
    pill.wait_for(state="visible", timeout=15_000)
    assert row_ids(page) == order
    pill.focus()  # a button: the keyboard applies it too
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"() => document.querySelector('#conversation-rows li.row').id === 'row-{ana}'"
    )
    context.close()


def test_rows_say_which_brand_a_conversation_belongs_to(live_server_process, chromium, team, agent):
    north = AccountFactory(platform="messenger", name="Northwind Outfitters")
    kestrel = AccountFactory(platform="instagram", name="Kestrel Coffee")
    team.accounts.add(north, kestrel)
    (kenji_north,) = conversations(north, "Kenji Watanabe")
    (kenji_kestrel,) = conversations(kestrel, "Kenji Watanabe")
    context, page = open_page(chromium, live_server_process.url, agent)
    north_row = page.locator(f"#row-{kenji_north.pk}")
    kestrel_row = page.locator(f"#row-{kenji_kestrel.pk}")
    assert "Northwind Outfitters" in north_row.inner_text()
    assert "Messenger" in north_row.inner_text()
    assert "Kestrel Coffee" in kestrel_row.inner_text()
    assert "Instagram" in kestrel_row.inner_text()
    # Seen, not only in the markup: the badge is on screen and not cut to nothing.
    badge = kestrel_row.locator(".badge.account")
    assert badge.is_visible() and badge.bounding_box()["width"] > 60
    kestrel_row.locator("a").click()
    assert "Kestrel Coffee" in page.locator(".conv-head").inner_text()
    context.close()


def test_phone_layout(live_server_process, chromium, account, agent):
    ana, ben = conversations(account, "Ana Ruiz", "Ben Okafor")
    url = live_server_process.url
    context, page = open_page(
        chromium,
        url,
        agent,
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    )

    def fits() -> None:
        # The layout viewport is the device's width: the page was not zoomed out to fit.
        assert page.evaluate("document.documentElement.clientWidth") == 390
        assert page.evaluate("window.innerWidth") == 390
        assert page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        assert page.evaluate(OVERFLOWING) == []

    fits()
    assert page.locator("#conversation-rows").is_visible()
    page.tap(f"#row-{ben.pk} a")
    page.wait_for_url(f"**/conversations/{ben.pk}/")
    page.wait_for_selector("#live-status[data-state=live]")
    fits()
    # The thread takes the screen: no list beside it, the composer at the bottom.
    assert not page.locator(".list-pane").is_visible()
    assert not page.locator(".profile").is_visible()
    composer = page.locator("#composer-form").bounding_box()
    assert 844 - 2 <= composer["y"] + composer["height"] <= 844
    assert page.locator("#thread").bounding_box()["width"] > 360

    # The action bar is a menu: closed, then open, and its actions work.
    assert not page.locator("#assign-me").is_visible()
    page.tap("#actions-toggle")
    assert page.locator("#actions-bar").is_visible()
    assert page.get_attribute("#actions-toggle", "aria-expanded") == "true"
    fits()
    page.tap("#assign-me")
    page.locator(f"#conversation-state [data-assignee='{agent.pk}']").wait_for()
    assert Conversation.objects.get(pk=ben.pk).assignee_id == agent.pk
    page.tap("#actions-toggle")
    page.tap("#profile-toggle")
    assert page.locator(".profile").is_visible()
    fits()
    page.tap(".profile-close")
    assert not page.locator(".profile").is_visible()

    # The keyboard opens: with interactive-widget=resizes-content the layout viewport shrinks,
    # and the composer stays at its bottom, in view.
    page.tap("#composer-text")
    page.set_viewport_size({"width": 390, "height": 480})
    composer = page.locator("#composer-form").bounding_box()
    assert 480 - 2 <= composer["y"] + composer["height"] <= 480
    assert page.evaluate("document.activeElement.id") == "composer-text"
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#back-to-list").focus()

    # Back to the list.
    page.tap("#back-to-list")
    page.wait_for_url(f"{url}/")
    assert page.locator(f"#row-{ana.pk}").is_visible()

    # The icons a phone asks for.
    for path in ("/favicon.ico", "/manifest.webmanifest", "/static/icons/icon-192.png"):
        assert page.request.get(f"{url}{path}").status == 200
    context.close()
