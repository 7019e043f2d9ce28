"""A label's chip on the labels page is the label's own colour: its text, black or white, reads
at WCAG AA (4.5:1) whatever colour the admin picked."""

from __future__ import annotations

import pytest

from inbox.models import Label
from inbox.models.conversations import relative_luminance

DARK_TEXT = "#000000"  # .label-chip.on-light in static/css/settings.css


def contrast(a: str, b: str) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize(
    "color",
    ["#ffffff", "#f59e0b", "#0ea5e9", "#7c3aed", "#6b7280", "#22c55e", "#000000", "#ff0000",
     "#777777", "#808080", "#ffff00", "#1e3a8a"],
)  # fmt: skip
def test_the_chip_text_reads_at_aa_on_the_labels_colour(color):
    text = DARK_TEXT if Label(name="x", color=color).on_light else "#ffffff"
    assert contrast(text, color) >= 4.5, (color, text)


def test_every_grey_gets_readable_text():
    for level in range(256):
        color = f"#{level:02x}{level:02x}{level:02x}"
        text = DARK_TEXT if Label(name="x", color=color).on_light else "#ffffff"
        assert contrast(text, color) >= 4.5, color


def test_a_malformed_colour_is_read_as_the_default_grey():
    assert Label(name="x", color="red").on_light is Label(name="x", color="#6b7280").on_light
