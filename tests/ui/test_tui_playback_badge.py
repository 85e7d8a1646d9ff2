"""The status bar's playback badge: the adaptive buffer's delay and the underruns talk reports,
and what gives way when the terminal is too narrow for every part of the bar."""

from __future__ import annotations

from textual.pilot import Pilot

from realtime_console.ui.tui.app import TalkApp
from realtime_console.ui.tui.status_bar import PlaybackBadge, TurnInfo
from tests.ui.test_tui_app import SIZE, frame, make_app


def badge_text(app: TalkApp) -> str:
    return app.query_one(PlaybackBadge).render().plain.strip()


def on_screen(app: TalkApp) -> str:
    """The status bar's parts as laid out: each shown part's text, cut to its region, and
    nothing of a part that lies past the right edge or is hidden."""
    status = app.query_one("#status")
    shown = []
    for part in status.children:
        region = part.region
        if part.display and region.width and region.x < app.size.width:
            text = str(getattr(part.render(), "plain", ""))
            shown.append(text[: min(region.width, app.size.width - region.x)].strip())
    return " | ".join(text for text in shown if text)


async def settle(pilot: Pilot[int]) -> None:
    await frame(pilot)
    await pilot.pause()  # the refit after a width change lays the bar out once more


async def test_the_badge_shows_the_buffer_then_the_underruns_once_there_are_any() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert badge_text(app) == ""  # nothing reported yet: no made-up figure
        app.playback_status(40.4, 0)
        await settle(pilot)
        assert badge_text(app) == "buffer 40 ms"
        app.playback_status(61.0, 1)
        await settle(pilot)
        assert badge_text(app) == "buffer 61 ms · 1 underrun"
        app.playback_status(119.6, 2)
        await settle(pilot)
        assert badge_text(app) == "buffer 120 ms · 2 underruns"
        # Wholly on the screen, in the status bar: its width followed the text.
        assert on_screen(app).endswith("VAD: just speak | buffer 120 ms · 2 underruns")


async def test_a_narrow_terminal_drops_turn_info_then_shortens_then_hides_the_badge() -> None:
    app, _ = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        app.echo_status(True, 37.6)
        app.turn_latency(612)
        app.playback_status(80.0, 2)
        await settle(pilot)
        assert on_screen(app).endswith(
            "AEC −38 dB | buffer 80 ms · 2 underruns | last turn 612 ms"
        )  # room for everything
        await pilot.resize_terminal(120, 30)
        await settle(pilot)
        assert on_screen(app).endswith("AEC −38 dB | buffer 80 ms · 2 underruns")
        assert not app.query_one(TurnInfo).display  # shown with each answer anyway
        await pilot.resize_terminal(*SIZE)
        await settle(pilot)
        assert on_screen(app).endswith("AEC −38 dB | 2 underruns")  # what went wrong stays
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert on_screen(app).endswith("AEC −38 dB")  # nothing cut off at the edge
        await pilot.resize_terminal(140, 30)
        await settle(pilot)
        assert on_screen(app).endswith("2 underruns | last turn 612 ms")  # all back
