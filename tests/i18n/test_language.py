"""Each agent reads Parley in their language: the browser's before login and by default, the
one they chose on /profile/ (or in the top bar) after. Dates and numbers follow it too."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone, translation

from inbox.formatting import duration, when
from inbox.models import User

SHIPPED = ("es", "de", "fr", "pt_BR")


def log_in(client, user: User) -> None:
    client.force_login(user)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "lang", "button"),
    [
        ("es-ES,es;q=0.9", "es", "Iniciar sesión"),
        ("de-DE,de;q=0.9,en;q=0.5", "de", "Anmelden"),
        ("fr-CA,fr;q=0.8", "fr", "Se connecter"),
        ("pt-BR,pt;q=0.9", "pt-br", "Entrar"),
        ("ja-JP", "en", "Log in"),
    ],
)
def test_login_page_follows_the_browsers_language(client, accept, lang, button):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE=accept).content.decode()
    assert f'<html lang="{lang}" dir="ltr"' in page
    assert f">{button}</button>" in page


@pytest.mark.django_db
def test_arabic_pages_are_right_to_left(client):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert '<html lang="ar" dir="rtl"' in page


@pytest.mark.django_db
def test_the_profile_language_wins_over_the_browser_and_blank_follows_it(client, agent):
    log_in(client, agent)
    page = client.get("/profile/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Votre profil" in page
    assert "Celle de votre navigateur (français)" in page  # the default: the browser's

    response = client.post(
        "/profile/",
        {"availability": "online", "time_zone": "", "language": "de"},
        HTTP_ACCEPT_LANGUAGE="fr",
        follow=True,
    )
    agent.refresh_from_db()
    assert agent.language == "de"
    assert "Profil gespeichert." in response.content.decode()  # said in the new language
    inbox = client.get("/", HTTP_ACCEPT_LANGUAGE="fr")
    assert inbox["Content-Language"] == "de"
    assert '<html lang="de"' in inbox.content.decode()
    assert "Posteingang" in inbox.content.decode()

    client.post("/profile/", {"availability": "online", "time_zone": "", "language": ""})
    agent.refresh_from_db()
    assert agent.language == ""
    assert "Boîte de réception" in client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()


@pytest.mark.django_db
def test_an_unknown_language_is_refused_and_nothing_is_stored(client, agent):
    log_in(client, agent)
    response = client.post(
        "/profile/", {"availability": "online", "time_zone": "", "language": "xx"}
    )
    assert response.status_code == 200  # the form again, with its error
    agent.refresh_from_db()
    assert agent.language == ""

    client.post("/profile/language/", {"language": "klingon", "next": "/"})
    agent.refresh_from_db()
    assert agent.language == ""


@pytest.mark.django_db
def test_the_top_bar_switch_sets_the_language_and_goes_back_only_to_this_site(client, agent):
    log_in(client, agent)
    response = client.post("/profile/language/", {"language": "es", "next": "/?view=mine"})
    assert response["Location"] == "/?view=mine"
    agent.refresh_from_db()
    assert agent.language == "es"
    assert "Bandeja de entrada" in client.get("/").content.decode()

    response = client.post(
        "/profile/language/", {"language": "fr", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/profile/"


@pytest.mark.django_db
def test_an_anonymous_visitor_can_switch_the_login_page_language(client):
    client.post("/i18n/setlang/", {"language": "pt-br", "next": "/login/"})
    assert ">Entrar</button>" in client.get("/login/").content.decode()


@pytest.mark.django_db
def test_scripts_get_their_translations_as_a_script_of_our_own(client, agent):
    log_in(client, agent)
    client.post("/profile/language/", {"language": "de", "next": "/"})
    page = client.get("/").content.decode()
    assert '<script src="/jsi18n/?l=de" defer></script>' in page
    catalog = client.get("/jsi18n/?l=de")
    assert catalog["Content-Type"].startswith("text/javascript")
    body = catalog.content.decode()
    assert "Neue Nachricht von %(name)s" in body  # a string of static/js/inbox.js
    assert "eval(" not in body  # the CSP forbids it


def test_dates_times_and_figures_follow_the_language_and_zone():
    moment = datetime(2026, 11, 23, 16, 5, tzinfo=UTC)
    with timezone.override("Europe/Berlin"):
        with translation.override("en"):
            assert when(moment) in ("Nov 23, 17:05", "Nov 23, 2026, 17:05")
        with translation.override("es"):
            assert "23 Nov" in when(moment) and "17:05" in when(moment)
        with translation.override("de"):
            assert "23. Nov" in when(moment)
            assert duration(1234, decimals=1) == "20,6 Min"
        with translation.override("fr"):
            assert duration(7200) == "2 h"
            assert duration(3 * 86400) == "3 j"


@pytest.mark.parametrize("language", SHIPPED)
def test_every_shipped_catalogue_is_complete(language):
    """Spanish, German, French and Portuguese (Brazil) are complete: no empty or fuzzy entry
    (after `make messages`, this names what a new change left to translate)."""
    folder = Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES"
    untranslated = []
    for po in sorted(folder.glob("*.po")):
        entries = po.read_text().split("\n\n")[1:]  # the first block is the header
        for entry in entries:
            if "#, fuzzy" in entry or 'msgstr ""' in entry and not _continues(entry):
                untranslated.append(entry)
    assert untranslated == []


def _continues(entry: str) -> bool:
    """A msgstr "" followed by continuation lines holds a long translation."""
    lines = entry.splitlines()
    for index, line in enumerate(lines):
        if line.startswith('msgstr ""') or line.startswith("msgstr[") and line.endswith('""'):
            return index + 1 < len(lines) and lines[index + 1].startswith('"')
    return True


@pytest.mark.django_db
def test_the_reports_page_speaks_the_managers_language(client, admin_user):
    admin_user.language = "fr"
    admin_user.save(update_fields=["language"])
    client.force_login(admin_user)
    page = client.get("/reports/?range=7d").content.decode()
    assert "<h1>Rapports</h1>" in page
    assert "Première réponse (médiane)" in page  # a headline figure's name
    assert "<th>lun</th>" in page  # the heat map's weekdays


def test_the_catalogues_hold_every_marked_string(tmp_path, settings, monkeypatch):
    """`make messages` was run after the last marked string: extracting afresh finds nothing
    the committed catalogues lack. Fails with the missing texts. The extraction runs in a
    scratch tree of links to the sources, so the committed catalogues are never written."""
    from django.core.management import call_command

    root = Path(settings.BASE_DIR)
    scratch = tmp_path / "src"
    scratch.mkdir()
    skipped = {"locale", "tests", "bench", "docs", "staticfiles", "node_modules"}
    for entry in root.iterdir():
        if entry.name not in skipped and not entry.name.startswith("."):
            (scratch / entry.name).symlink_to(entry)
    (scratch / "locale" / "es").mkdir(parents=True)
    monkeypatch.chdir(scratch)
    settings.LOCALE_PATHS = [scratch / "locale"]
    for domain in ("django", "djangojs"):
        call_command(
            "makemessages",
            locale=["es"],
            domain=domain,
            symlinks=True,
            ignore_patterns=["static/vendor/*", "staticfiles/*"],
            verbosity=0,
        )
        fresh = _msgids(scratch / "locale" / "es" / "LC_MESSAGES" / f"{domain}.po")
        committed = _msgids(root / "locale" / "es" / "LC_MESSAGES" / f"{domain}.po")
        assert fresh, "nothing extracted: the check would prove nothing"
        assert sorted(fresh - committed) == [], f"run `make messages` ({domain})"


def _msgids(po: Path) -> set[str]:
    """The (context, text) of each entry of a .po file, continuation lines joined."""
    found = set()
    for entry in po.read_text().split("\n\n")[1:]:
        fields: dict[str, str] = {}
        current = None
        for line in entry.splitlines():
            if line.startswith(("msgctxt ", "msgid ")):
                current, _, value = line.partition(" ")
                fields[current] = value[1:-1]
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
            else:
                current = None
        if fields.get("msgid"):
            found.add(f"{fields.get('msgctxt', '')}\x04{fields['msgid']}")
    return found
