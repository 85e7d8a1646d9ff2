"""Counts audio payloads that cannot be decoded (bad base64, an odd PCM16 length), so a replay
skips each one and says so once at the end instead of failing or printing a line per chunk."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class BadAudio:
    count: int = 0
    first_line: int | None = None  # 1-based line in the log

    def add(self, line: int) -> None:
        self.count += 1
        if self.first_line is None:
            self.first_line = line

    def warning(self, where: str) -> str | None:
        """``warning: WHERE: skipped 2 audio deltas with bad data: first at line 7``."""
        if not self.count:
            return None
        plural = "s" if self.count > 1 else ""
        return (
            f"warning: {where}: skipped {self.count} audio delta{plural} with bad data: "
            f"first at line {self.first_line}"
        )
