"""Logs recorded once per test session with the real server and client (see recording.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.replay.recording import VoiceRecording, record_voice_session


@pytest.fixture(scope="session")
def voice_log(tmp_path_factory: pytest.TempPathFactory) -> VoiceRecording:
    path = tmp_path_factory.mktemp("voice") / "voice.jsonl"
    return asyncio.run(record_voice_session(path))


def write_log(path: Path, lines: list[dict[str, object]]) -> Path:
    """A small v1 log from ``(t, dir, event)`` dicts, for figures that need exact inputs."""
    import json

    header = {"format": "realtime-console-log", "version": 1, "session": {}}
    path.write_text("\n".join(json.dumps(x) for x in [header, *lines]) + "\n")
    return path


def ev(t: float, direction: str, event_type: str, **fields: object) -> dict[str, object]:
    """One log line: ``ev(0.5, "server", "response.created", response={"id": "r1"})``."""
    return {"t": t, "dir": direction, "event": {"type": event_type, **fields}}


def user_item(text: str) -> dict[str, object]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
