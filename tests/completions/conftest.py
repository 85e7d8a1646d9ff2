"""A real local server on port 0 and the settings that point the completions client at it.

Everything goes over real HTTP through the real SDK client; nothing is patched. Tests that
need the chat-completions routes of the local server carry ``needs_routes``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from realtime_console.audio.input_file import PreparedInput
from realtime_console.completions.client import CompletionsClient
from realtime_console.completions.opening import open_completions
from realtime_console.config import Settings, load_settings
from realtime_console.redact import Redactor
from realtime_console.server.app import LocalServer
from realtime_console.server.faults import FaultPlan
from realtime_console.server.options import ServerOptions

KEY = "completions-test-key-0123456789"
SEED_API_VERSION = "2025-01-01-preview"

needs_routes = pytest.mark.skipif(
    importlib.util.find_spec("realtime_console.server.completions") is None,
    reason="the local server's chat-completions routes are not there yet",
)


@contextlib.asynccontextmanager
async def serve(faults: str = "", **options: Any) -> AsyncIterator[LocalServer]:
    """The local server; fast pacing (inf) unless a test asks for real pacing."""
    options.setdefault("realtime_factor", math.inf)
    plan = FaultPlan.parse(faults) if faults else FaultPlan()
    async with LocalServer(ServerOptions(api_key=KEY, faults=plan, **options)) as server:
        yield server


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with serve() as running:
        yield running


def azure_env(server: LocalServer, key: str = KEY, **extra: str) -> dict[str, str]:
    """What a user of the Azure quickstarts sets, pointing at the local server."""
    return {
        "AZURE_OPENAI_ENDPOINT": server.http_url(),
        "AZURE_OPENAI_DEPLOYMENT_NAME": "gpt-audio",
        "AZURE_OPENAI_API_KEY": key,
        "OPENAI_API_VERSION": SEED_API_VERSION,
        **extra,
    }


def openai_env(server: LocalServer, key: str = KEY) -> dict[str, str]:
    return {"OPENAI_API_KEY": key, "OPENAI_BASE_URL": server.http_url() + "/v1"}


def settings_for(env: Mapping[str, str], **overrides: object) -> Settings:
    """``overrides`` use dotted keys with ``__`` for the dot: ``completions__max_retries=0``."""
    dotted = {key.replace("__", "."): value for key, value in overrides.items()}
    return load_settings(env=env, overrides=dotted)


class Notices(list[str]):
    def __call__(self, line: str) -> None:
        self.append(line)


@contextlib.asynccontextmanager
async def client_for(
    env: Mapping[str, str],
    *,
    notice: Callable[[str], None] | None = None,
    redactor: Redactor | None = None,
    **overrides: object,
) -> AsyncIterator[CompletionsClient]:
    settings = settings_for(env, **overrides)
    async with open_completions(
        settings,
        env=env,
        redactor=redactor if redactor is not None else Redactor(),
        notice=notice if notice is not None else Notices(),
    ) as client:
        yield client


def tone_wav(seconds: float) -> bytes:
    """A 440 Hz tone as a 24 kHz mono 16-bit WAV: input audio the service takes as it is."""
    import numpy as np

    from realtime_console.audio import codec
    from realtime_console.protocol import pcm

    t = np.arange(round(seconds * pcm.SAMPLE_RATE)) / pcm.SAMPLE_RATE
    return codec.encode(pcm.float32_to_pcm16(0.3 * np.sin(2 * np.pi * 440 * t)), "wav")


def prepared_input(tmp_path: Path, seconds: float, name: str = "in.wav") -> PreparedInput:
    from realtime_console.audio.input_file import prepare_input_audio

    path = tmp_path / name
    path.write_bytes(tone_wav(seconds))
    return prepare_input_audio(path)


def audio_message(seconds: float, text: str | None = None) -> dict[str, Any]:
    import base64

    parts: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    data = base64.b64encode(tone_wav(seconds)).decode("ascii")
    parts.append({"type": "input_audio", "input_audio": {"data": data, "format": "wav"}})
    return {"role": "user", "content": parts}
