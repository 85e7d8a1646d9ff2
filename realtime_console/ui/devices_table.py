"""The ``devices`` listing: one row per PortAudio device, and whether 24 kHz mono opens."""

from __future__ import annotations

from collections.abc import Sequence

from realtime_console.audio.devices import AudioDevice


def _yes_no(channels: int, ok: bool) -> str:
    if channels == 0:
        return "-"
    return "yes" if ok else "no"


def render_devices(devices: Sequence[AudioDevice]) -> str:
    header = ("#", "name", "host API", "in", "out", "default Hz", "24k in", "24k out")
    rows = [header]
    for d in devices:
        marks = ("<" if d.is_default_input else "") + (">" if d.is_default_output else "")
        rows.append(
            (
                f"{d.index}{marks}",
                d.name,
                d.host_api,
                str(d.max_input_channels),
                str(d.max_output_channels),
                f"{d.default_samplerate:g}",
                _yes_no(d.max_input_channels, d.input_ok),
                _yes_no(d.max_output_channels, d.output_ok),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.append("< default input, > default output; 24k = opens at 24000 Hz mono 16-bit")
    return "\n".join(lines)
