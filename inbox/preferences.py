"""An agent's own workspace preferences: each a write of its own, like every other write."""

from __future__ import annotations

from inbox.models import User


def set_open_next_after_resolve(*, user: User, enabled: bool) -> None:
    """Whether resolving a conversation opens the next one of the agent's list."""
    user.open_next_after_resolve = enabled
    user.save(update_fields=["open_next_after_resolve"])
