"""Shared fixtures: the cast (an agent, a teammate, an outsider), accounts, and the real stack —
an ASGI server process, a Celery worker process and headless Chromium — for live tests."""

from __future__ import annotations

import asyncio
import os

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
# beside one unless told that the tests know what they do.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402
from django.conf import settings  # noqa: E402

from tests.fakes.server import FakePlatformServer  # noqa: E402

# Each platform's default fake behaviour: ``install(server)`` functions, one per platform.
PLATFORM_FAKES: list = []

from tests.fakes import meta as _meta_fake  # noqa: E402

PLATFORM_FAKES.append(_meta_fake.install)

from tests.fakes import linkedin as _linkedin_fake  # noqa: E402
from tests.fakes import x as _x_fake  # noqa: E402

PLATFORM_FAKES += [_x_fake.install, _linkedin_fake.install]

from tests.fakes import oauth as _oauth_fake  # noqa: E402

PLATFORM_FAKES.append(_oauth_fake.install)

from tests.factories import AccountFactory, TeamFactory, UserFactory  # noqa: E402

# The real stack (live_server_process, celery_worker_process, chromium) lives in tests/live.py.
pytest_plugins = ["tests.live"]


@pytest.fixture(autouse=True)
def _no_browser_event_loop_outside_browser_tests(request):
    """Once a browser test has started Playwright's sync API (one per session), its event loop
    stays marked as running in the test thread, and Django's test client cannot call an async
    view (the webhook entrance) through ``async_to_sync``. A test that does not drive the
    browser runs without that mark; Playwright's loop is idle meanwhile."""
    loop = asyncio._get_running_loop()
    if loop is None or "chromium" in request.fixturenames:
        yield
        return
    asyncio._set_running_loop(None)
    try:
        yield
    finally:
        asyncio._set_running_loop(loop)


@pytest.fixture(scope="session")
def fake_platforms_session(tmp_path_factory):
    """One fake platform API server for the session; every platform's base URL points at it
    (in this process and in the live server and worker processes)."""
    server = FakePlatformServer().start()
    settings.META_GRAPH_URL = f"{server.url}/meta/v21.0"
    settings.X_API_URL = f"{server.url}/x"
    settings.LINKEDIN_API_URL = f"{server.url}/linkedin"
    settings.MEDIA_FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    # Outbound webhook receivers in tests listen on 127.0.0.1 too.
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    for install in PLATFORM_FAKES:
        install(server)
    yield server
    server.stop()


@pytest.fixture
def fake_platforms(fake_platforms_session):
    """The fake platform server, with this test's scripted replies and recorded requests."""
    fake_platforms_session.reset()
    yield fake_platforms_session
    fake_platforms_session.reset()


def forget_shared_claims() -> None:
    from inbox.triggers import shared_cache

    if not settings.REDIS_URL:
        shared_cache().clear()
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(match="*parley:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _webhook_accounts_forgotten():
    """Each process keeps a platform's accounts a few seconds for the webhook entrance; a test's
    rolled-back or flushed accounts must not outlive it (no signal says they are gone)."""
    from connectors.webhooks import forget_accounts

    forget_accounts()
    yield
    forget_accounts()


@pytest.fixture(autouse=True)
def eager_celery(request):
    """Unit tests run tasks in-process after commit; tests using a real worker opt out by
    requesting ``celery_worker_process``."""
    from parley.celery import app

    live = "celery_worker_process" in request.fixturenames
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = not live
    settings.CELERY_TASK_ALWAYS_EAGER = not live
    # A pass an earlier test requested (its worker gone since) must not stand for this test's,
    # nor a profile fetch claimed for an identity id an earlier run's database also had.
    forget_shared_claims()
    yield
    app.conf.task_always_eager = previous
    settings.CELERY_TASK_ALWAYS_EAGER = previous


@pytest.fixture
def team(db):
    return TeamFactory(name="Support")


@pytest.fixture
def account(team):
    """A sandbox account the Support team may see."""
    account = AccountFactory(
        platform="sandbox", external_id="shop", credentials={"secret": "s3cret"}
    )
    team.accounts.add(account)
    return account


@pytest.fixture
def other_account(db):
    """An account no team of the cast is granted."""
    return AccountFactory(
        platform="sandbox", external_id="elsewhere", credentials={"secret": "other-secret"}
    )


@pytest.fixture
def agent(team):
    user = UserFactory(username="alice", first_name="Alice", role="agent")
    team.members.add(user)
    return user


@pytest.fixture
def teammate(team):
    user = UserFactory(username="bob", first_name="Bob", role="agent")
    team.members.add(user)
    return user


@pytest.fixture
def outsider(db):
    """An agent in no team: must see nothing of the cast's accounts."""
    return UserFactory(username="charlie", first_name="Charlie", role="agent")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root-admin", role="admin", is_staff=True, is_superuser=True)
