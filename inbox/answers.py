"""Answers Parley waits for on a resolved conversation: a satisfaction survey's rating and
comment. Ingest stores them like any customer message but does not bring the conversation back
to the agents (no reopening, no waiting clock), and marks them — ``MARK`` in the message's
metadata and in its event's data — so that only the listeners ``inbox.listeners.ONLY`` allows
follow them (no bot reply, SLA clock, assignment or notification).

The inbox does not know who waits: an app registers a classifier when it starts
(``surveys.apps``), as ``inbox.events`` is given its dispatcher."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from inbox.models import Conversation

# The key of the mark: its value names who waited ("survey").
MARK = "awaited"


@dataclass(frozen=True)
class Inbound:
    """A customer's new message on a resolved conversation, before it is stored."""

    conversation: Conversation
    text: str
    metadata: Mapping[str, Any]
    at: datetime


# Given a batch's messages on resolved conversations (in platform order), says for each who
# waited for it as an answer, or None. Reads only: the listeners record the answers.
Classifier = Callable[[list[Inbound]], list[str | None]]
_classifiers: list[Classifier] = []


def register(classifier: Classifier) -> None:
    if classifier not in _classifiers:
        _classifiers.append(classifier)


def classify(items: list[Inbound]) -> list[str | None]:
    """Who awaited each message (the first classifier that claims it), or None."""
    found: list[str | None] = [None] * len(items)
    if not items:
        return found
    for classifier in _classifiers:
        for index, name in enumerate(classifier(items)):
            if found[index] is None and name:
                found[index] = name
    return found


def is_answer(metadata: Mapping[str, Any] | None) -> bool:
    return bool((metadata or {}).get(MARK))
