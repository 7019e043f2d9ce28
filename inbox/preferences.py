"""An agent's own workspace preferences: each a write of its own, like every other write."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from inbox.models import User


def set_open_next_after_resolve(*, user: User, enabled: bool) -> None:
    """Whether resolving a conversation opens the next one of the agent's list."""
    user.open_next_after_resolve = enabled
    user.save(update_fields=["open_next_after_resolve"])


def set_language(*, user: User, language: str) -> bool:
    """The interface language the agent chose: a code of settings.LANGUAGES, or "" for the
    browser's. ValidationError for any other code (nothing is stored)."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Unknown language: %(code)s") % {"code": language[:20]})
    if user.language == language:
        return False
    user.language = language
    user.save(update_fields=["language"])
    return True
