"""The fixture replay commands post signed bodies to a running server."""

import pytest
from django.core.management import call_command

from inbox.models import Message
from tests.connectors.linkedin.test_linkedin import ORG
from tests.connectors.linkedin.test_linkedin import SECRET as LI_SECRET
from tests.connectors.x.conftest import FIXTURES, SECRET
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_x_and_linkedin_fixtures_replay_against_a_running_server(live_server, x_account, capsys):
    AccountFactory(platform="linkedin", external_id=ORG, credentials={"client_secret": LI_SECRET})
    linkedin_fixtures = FIXTURES.parent.parent / "linkedin" / "fixtures"

    call_command(
        "send_webhook_fixture",
        "x",
        live_server.url,
        str(FIXTURES / "x_aaa_direct_message_event.json"),
        "--secret",
        SECRET,
    )
    call_command(
        "send_webhook_fixture",
        "linkedin",
        live_server.url,
        str(linkedin_fixtures / "linkedin_org_social_action_comment.json"),
        "--secret",
        LI_SECRET,
    )

    assert capsys.readouterr().out.count("200 ok") == 2
    assert set(Message.objects.values_list("account__platform", flat=True)) == {"x", "linkedin"}
