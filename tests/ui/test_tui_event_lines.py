from __future__ import annotations

from realtime_console.ui.tui.event_lines import EventLines, render_event_line


def test_history_is_bounded_and_counts_everything_seen() -> None:
    lines = EventLines(max_lines=3, clock=lambda: 0.0)
    for n in range(5):
        lines.add("server", f"e{n}", "")
    assert [line.event_type for line in lines] == ["e2", "e3", "e4"]
    assert (len(lines), lines.total, lines.max_lines) == (3, 5, 3)


def test_line_shows_time_direction_type_and_summary() -> None:
    lines = EventLines(clock=lambda: 1_700_000_000.25)
    client = render_event_line(lines.add("client", "response.create", "modalities audio"))
    assert client.plain.endswith(".250 → response.create  modalities audio")
    server = render_event_line(lines.add("server", "session.created", ""))
    assert server.plain.endswith("← session.created")
    meta = render_event_line(lines.add("meta", "reconnect", "1006"))
    assert "• reconnect" in meta.plain
    odd = render_event_line(lines.add("sideways", "x", ""))
    assert "? x" in odd.plain


def test_error_events_are_red() -> None:
    line = EventLines().add("server", "error", "invalid_value")
    text = render_event_line(line)
    start = text.plain.index("error")
    assert any("red" in str(s.style) for s in text.spans if s.start <= start < s.end)
