"""The accounts a webhook names are kept decrypted for a few seconds per process
(``connectors.webhooks.named_accounts``), but never one that no longer exists."""

from __future__ import annotations

from django.db import connection

from connectors import webhooks
from inbox.models import PlatformAccount
from tests.factories import AccountFactory


def _deleted_elsewhere(account: PlatformAccount) -> None:
    """Another process deletes the account: no signal reaches this one."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM inbox_platformaccount WHERE id = %s", [account.pk])


def test_an_account_deleted_or_made_again_elsewhere_is_not_taken_from_the_cache(db):
    first = AccountFactory(platform="x", external_id="42", credentials={"consumer_secret": "old"})
    assert [a.pk for a in webhooks.named_accounts("x", ["42"])] == [first.pk]

    _deleted_elsewhere(first)
    assert webhooks.named_accounts("x", ["42"]) == []

    (again,) = PlatformAccount.objects.bulk_create(  # no signal either
        [PlatformAccount(platform="x", external_id="42", credentials={"consumer_secret": "new"})]
    )
    found = webhooks.named_accounts("x", ["42"])
    assert [a.pk for a in found] == [again.pk]
    assert found[0].credentials["consumer_secret"] == "new"
