import pytest

from tests.factories import AccountFactory


@pytest.fixture
def instagram(team):
    """An Instagram account the Support team sees too."""
    account = AccountFactory(platform="instagram", external_id="ig-shop")
    team.accounts.add(account)
    return account
