from __future__ import annotations

import pytest

from realtime_console.ui.tui.meter import (
    FLOOR_DB,
    RELEASE_DB_PER_S,
    MeterBallistics,
    level_style,
    render_meter,
)


def test_attack_is_instant_and_keeps_the_loudest_block_since_the_last_frame() -> None:
    meter = MeterBallistics()
    for level in (-40.0, -12.0, -30.0):
        meter.feed(level)
    assert meter.tick(0.0) == -12.0


def test_release_falls_at_the_configured_rate_down_to_the_floor() -> None:
    meter = MeterBallistics()
    meter.feed(-10.0)
    meter.tick(0.0)
    meter.feed(-50.0)  # quieter than the falling display: ignored
    assert meter.tick(0.5) == pytest.approx(-10.0 - RELEASE_DB_PER_S * 0.5)
    assert meter.tick(100.0) == FLOOR_DB


def test_silence_and_clipping_are_clamped_to_the_scale() -> None:
    meter = MeterBallistics()
    meter.feed(-120.0)
    assert meter.tick(0.0) == FLOOR_DB
    meter.feed(3.0)
    assert meter.tick(0.1) == 0.0


def test_rendered_bar_fills_in_eighths() -> None:
    width = 10
    empty = render_meter(FLOOR_DB, width)
    assert empty.plain.startswith(" " * width) and "<-60 dB" in empty.plain
    full = render_meter(0.0, width)
    assert full.plain.startswith("█" * width) and full.plain.endswith("0 dB")
    half = render_meter(FLOOR_DB / 2, width)
    assert half.plain[:width] == "█" * 5 + " " * 5
    a_sixteenth = render_meter(FLOOR_DB + -FLOOR_DB / (width * 8) * 3, width)
    assert a_sixteenth.plain[0] == "▍"


def test_colour_warns_near_full_scale() -> None:
    assert level_style(-40.0) == "green"
    assert level_style(-10.0) == "yellow"
    assert "red" in level_style(-1.0)
