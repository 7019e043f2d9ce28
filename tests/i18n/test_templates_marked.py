"""Every word a template shows is marked for translation: a sentence left in plain HTML would
stay English in every language. The templates are parsed with Django's own lexer; text outside
``{% translate %}``/``{% blocktranslate %}`` that contains letters fails, with a few exceptions
(brand and platform names, symbols, ``{{ }}`` expressions)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType

TEMPLATE_DIRS = [Path(settings.BASE_DIR) / "templates"] + [
    path
    for path in Path(settings.BASE_DIR).glob("*/templates")
    if path.is_dir() and path.parent.name not in {"tests", ".venv"}
]
# Names that are the same in every language: the product, the platforms, apps and file formats
# the page names.
NOT_TRANSLATED = {
    "Parley",
    "Messenger",
    "Instagram",
    "LinkedIn",
    "X",
    "Facebook",
    "Meta",
    "OAuth",
    "Google",
    "Authenticator",
    "1Password",
    "Aegis",
    "CSV",
    "HTML",
    "JSON",
    "API",
    "URL",
    "ID",
}
# Attributes that people read or hear (tooltips, screen readers, empty fields).
SPOKEN_ATTRIBUTES = {
    "title",
    "alt",
    "placeholder",
    "aria-label",
    "aria-description",
    "data-confirm",
}
# Stand-ins for what is not plain text: a marked string, a {{ }} value, another tag.
MARKED, VALUE, TAG = "\x01", "\x02", "\x03"


def template_files() -> list[Path]:
    return sorted(path for folder in TEMPLATE_DIRS for path in folder.rglob("*.html"))


def flatten(source: str) -> str:
    """The template's HTML with every template construct replaced by a stand-in character:
    translations by MARKED, values by VALUE, other tags by TAG; comments vanish."""
    out: list[str] = []
    skip_until: str | None = None
    for token in Lexer(source).tokenize():
        if token.token_type is TokenType.COMMENT:
            continue
        if token.token_type is TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            if skip_until:
                if name == skip_until:
                    skip_until = None
                continue
            if name in {"blocktranslate", "blocktrans"}:
                out.append(MARKED)
                skip_until = "end" + name
            elif name == "comment":
                skip_until = "endcomment"
            elif name == "block" and token.contents.split()[-1].endswith("_attrs"):
                # A block of HTML attributes for a tag of the base template (body_attrs).
                out.append(TAG)
                skip_until = "endblock"
            elif name in {"translate", "trans"}:
                out.append(MARKED)
            else:
                out.append(TAG)
            continue
        if skip_until:
            continue
        if token.token_type is TokenType.VAR:
            out.append(VALUE)
        else:
            out.append(token.contents)
    return "".join(out)


def needs_translation(text: str) -> bool:
    for stand_in in (MARKED, VALUE, TAG):
        text = text.replace(stand_in, " ")
    text = re.sub(r"&[a-zA-Z]+;|&#\w+;", " ", text)
    words = re.findall(r"[^\W\d_][\w'’-]*", text)
    return any(word not in NOT_TRANSLATED for word in words)


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: list[str] = []
        self.raw = 0  # inside <script>, <style> or <code>: not prose

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "code", "kbd", "svg"}:
            self.raw += 1
        for name, value in attrs:
            if name in SPOKEN_ATTRIBUTES and value and needs_translation(value):
                self.found.append(f'{tag}[{name}="{value}"]')

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "code", "kbd", "svg"} and self.raw:
            self.raw -= 1

    def handle_data(self, data: str) -> None:
        if not self.raw and needs_translation(data):
            self.found.append(data.strip())


def unmarked_strings(source: str) -> list[str]:
    finder = _Finder()
    finder.feed(flatten(source))
    finder.close()
    return [
        text.replace(MARKED, "{% translate %}").replace(VALUE, "{{ }}").replace(TAG, "{% %}")
        for text in finder.found
    ]


@pytest.mark.parametrize(
    "path", template_files(), ids=lambda p: str(p.relative_to(settings.BASE_DIR))
)
def test_template_marks_every_string_for_translation(path: Path) -> None:
    assert unmarked_strings(path.read_text()) == []


def test_the_check_finds_plain_text_and_accepts_marked_text() -> None:
    """The check itself: it must fail on what a forgetful change would add."""
    assert unmarked_strings("<p>Hello agent</p>") == ["Hello agent"]
    assert unmarked_strings('<input placeholder="Search">') == ['input[placeholder="Search"]']
    assert unmarked_strings("<button>{{ count }} selected</button>") == ["{{ }} selected"]
    assert unmarked_strings("{% load i18n %}<p>{% translate 'Hello' %}</p>") == []
    assert unmarked_strings("<p>{% blocktranslate %}Hi {{ name }}{% endblocktranslate %}</p>") == []
    assert unmarked_strings("<b>Parley</b> <i>{{ user.name }}</i> · ✓") == []
    assert unmarked_strings("{% comment %}Why this is so{% endcomment %}<code>x-y</code>") == []
