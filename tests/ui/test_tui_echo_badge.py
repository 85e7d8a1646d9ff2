"""The status bar's echo badge: AEC on or off, and the echo reduction talk reports."""

from __future__ import annotations

from realtime_console.ui.tui.app import TalkApp
from realtime_console.ui.tui.status_bar import EchoBadge
from tests.ui.test_tui_app import SIZE, frame, make_app


def badge_text(app: TalkApp) -> str:
    return app.query_one(EchoBadge).render().plain


async def test_the_badge_is_empty_until_talk_says_then_shows_on_off_and_the_reduction() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert badge_text(app) == ""
        app.echo_status(False, None)
        await frame(pilot)
        assert badge_text(app).strip() == "AEC off"
        app.echo_status(True, None)
        await frame(pilot)
        assert badge_text(app).strip() == "AEC on"
        app.echo_status(True, 37.6)
        await frame(pilot)
        assert badge_text(app).strip() == "AEC −38 dB"
        status = app.query_one("#status")
        assert "AEC −38 dB" in "".join(
            str(w.render()) for w in status.children if hasattr(w, "render")
        )
