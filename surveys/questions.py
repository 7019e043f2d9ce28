"""How the rating question is put on each platform, and how a customer's answer is read.

- Messenger and Instagram (quick replies): native buttons "1 ★" … "5 ★★★★★"; a tap comes back
  as a quick-reply payload (the title) and as the message text.
- X: numbered options in the text; the customer answers with a number.
- Other platforms (LinkedIn, the sandbox without buttons): the question and the scale in plain
  text; the customer answers with a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import regex
from django.utils.translation import gettext, gettext_lazy

from connectors.base import PlatformRules

RATINGS = (1, 2, 3, 4, 5)
# Ratings that count towards the CSAT score ("satisfied").
SATISFIED = (4, 5)
LABELS = {
    1: gettext_lazy("Very poor"),
    2: gettext_lazy("Poor"),
    3: gettext_lazy("Okay"),
    4: gettext_lazy("Good"),
    5: gettext_lazy("Excellent"),
}
# Platforms without buttons where customers are used to numbered menus (the chatbot's too).
NUMBERED = frozenset({"x"})
# A comment is kept to this length (a customer can paste a novel; the report shows a line).
COMMENT_MAX = 2000

# "5", "5/5", "5 ★★★★★", "5 stars", "★★★★", "⭐⭐⭐" — and nothing else: "5 minutes late" is a
# message, not a rating.
_RATING = regex.compile(
    r"^\s*(?:(?P<digit>[1-5])\s*(?:/\s*5|[★⭐]+|stars?|sterne|étoiles?|estrellas?|estrelas?)?"
    r"|(?P<stars>[★⭐]{1,5}))\s*[.!]*\s*$",
    flags=regex.IGNORECASE,
)


def button_title(rating: int) -> str:
    """A quick-reply button (Meta allows 20 characters); it is also its payload."""
    return f"{rating} " + "★" * rating


@dataclass(frozen=True)
class Question:
    text: str
    quick_replies: tuple[str, ...] = ()


def rating_question(question: str, platform: str, rules: PlatformRules) -> Question:
    """The rating question as this platform can show it."""
    if rules.quick_replies:
        return Question(question, tuple(button_title(r) for r in RATINGS))
    if platform in NUMBERED:
        options = "\n".join(f"{r}. {LABELS[r]}" for r in RATINGS)
        reply = gettext("Reply with a number from 1 to 5.")
        return Question(f"{question}\n\n{options}\n\n{reply}")
    scale = gettext("Reply with a number from 1 (very poor) to 5 (excellent).")
    return Question(f"{question}\n{scale}")


def parse_rating(text: str, metadata: Mapping[str, Any] | None = None) -> int | None:
    """The 1–5 rating a customer's answer gives (a button's payload first), or None."""
    payload = (metadata or {}).get("quick_reply")
    for candidate in (payload, text):
        if not isinstance(candidate, str) or len(candidate) > 40:
            continue
        match = _RATING.match(candidate)
        if match is None:
            continue
        if match.group("digit"):
            return int(match.group("digit"))
        return len(match.group("stars"))
    return None
