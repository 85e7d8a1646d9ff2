"""The settings themselves: one frozen dataclass per section, with the built-in defaults.

Every field is a key in a profile (``connection.endpoint``, ``session.turn_detection.type``…);
``configs/default.toml`` documents each one. Validation lives in ``rules.py``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from realtime_console.audio.formats import AudioFormat

Provider = Literal["azure", "openai", "local"]
AuthMode = Literal["auto", "key", "entra"]
TurnDetectionType = Literal["server_vad", "semantic_vad", "none"]
Eagerness = Literal["low", "medium", "high", "auto"]
AudioLogging = Literal["full", "none"]
AzureChatApi = Literal["deployments", "v1"]
ToolMode = Literal["auto", "ask", "confirm"]
AecMode = Literal["auto", "on", "off"]
AecEngine = Literal["kalman", "webrtc"]  # the console's own canceller, or WebRTC's AEC3
OutputLatency = Literal["high", "low"]  # PortAudio's suggested output latency
NoiseReduction = Literal["near_field", "far_field", "off"]

DEFAULT_AUDIO_MODEL = "gpt-audio-1.5"  # OpenAI's current audio chat model (late 2026)
DEFAULT_ASK_PROMPT = "Describe in detail the spoken audio input."
DEFAULT_INSTRUCTIONS = (
    "You are a helpful assistant. You answer out loud, and what you say is also shown as text."
)
PACKAGED_CONFIGS = Path(__file__).parent.parent / "configs"
PROFILE_ENV = "REALTIME_CONSOLE_PROFILE"


@dataclass(frozen=True)
class TurnDetection:
    type: TurnDetectionType = "server_vad"
    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 200
    create_response: bool = True
    interrupt_response: bool = True
    eagerness: Eagerness = "auto"  # semantic_vad only
    idle_timeout_ms: int | None = None  # server_vad only


@dataclass(frozen=True)
class SessionSettings:
    instructions: str = DEFAULT_INSTRUCTIONS
    voice: str = "alloy"
    output_modalities: tuple[str, ...] = ("audio",)
    input_transcription_model: str | None = "whisper-1"
    turn_detection: TurnDetection = field(default_factory=TurnDetection)
    # The service's own input noise reduction, before its VAD and the model: near_field for a
    # headset, far_field for a laptop's or a conference microphone; off = the service default.
    input_audio_noise_reduction: NoiseReduction = "off"


@dataclass(frozen=True)
class AudioSettings:
    input_device: str | None = None  # device index or name substring
    output_device: str | None = None
    # Device block: a barge-in's cut lands in the next block and is heard once the device's
    # buffer (about two blocks + 5 ms through PulseAudio) has played out. 10 ms with "low" below
    # goes quiet a median 26-28 ms after speech_started (20 ms / "high": 52 ms; 5 ms: 15 ms at
    # half again the CPU), the block WebRTC and LiveKit use (README, "Barge-in and truncation").
    block_ms: int = 10
    # PortAudio's suggested output latency. Through PulseAudio it sets the device buffer once
    # blocks are small: 10 ms blocks sit 25 ms from the DAC with "low"; 5 ms blocks 15 ms with
    # "low", 40 ms with "high"; 20 ms blocks ~45 ms with either.
    output_latency: OutputLatency = "low"
    # Microphone audio per input_audio_buffer.append: each send costs syscalls and a loop
    # wakeup, so 100 ms keeps listening under 1% of a core (benchmarks/talk_cpu.py) for at most
    # 80 ms more before the server hears a block than 20 ms appends would.
    append_ms: int = 100
    # The starting playout delay of the adaptive jitter buffer (audio/jitter.py): 40 ms covers
    # 40 ms of network jitter at real-time pace from the first reply, adding a median ~50 ms
    # (benchmarks/talk_playback_latency.py); the buffer learns the network from there.
    prebuffer_ms: int = 40
    # Cap of that adaptive delay: beyond half a second a reply feels late; worse networks get
    # (counted) underruns rather than ever longer waits.
    max_prebuffer_ms: int = 500
    # The service streams a reply faster than it plays, so a whole reply may be queued: 10 min
    # (28.8 MB of 24 kHz PCM16) covers any reply while bounding memory; beyond it audio is
    # dropped, counted and said once per reply.
    max_buffer_ms: int = 600_000
    # Echo cancellation for talking on speakers: "auto" = on when the output is not a headset
    # (and, for the webrtc engine, its optional extra realtime-console[aec] is installed).
    aec: AecMode = "auto"
    # Which canceller: "kalman", the console's own (numpy; keeps the user's voice when they talk
    # over the reply, 0.98 correlation against AEC3's 0.75), or "webrtc", WebRTC's AEC3 (the
    # extra; a third of the CPU).
    aec_engine: AecEngine = "kalman"
    # "auto": the device clocks align the speaker reference and the canceller finds the rest;
    # a number (ms): the echo comes that much later than they say (Bluetooth speakers).
    aec_delay_ms: str = "auto"
    # Off: the service has its own noise reduction and VAD, tuned for unprocessed audio.
    noise_suppression: bool = False
    auto_gain: bool = False  # off: AGC2 also raises a quiet room's noise
    # Without AEC: hold back microphone audio the playback explains while the assistant speaks
    # (a louder voice still barges in). Off by default: it also hides quiet barge-ins.
    echo_guard: bool = False


@dataclass(frozen=True)
class ConnectionSettings:
    provider: Provider = "azure"
    endpoint: str | None = None
    deployment: str = "gpt-realtime"  # Azure deployment name, or the OpenAI model
    api_version: str = "2025-04-01-preview"  # chat completions only
    auth: AuthMode = "auto"
    connect_timeout_s: float = 15.0
    token_timeout_s: float = 20.0
    reconnect_attempts: int = 5  # after a dropped connection; 0 = give up at once (exit 1)
    # A turn's response that shows no life (no event of it, or no response.created after our
    # response.create) for this long is abandoned; each of its events restarts the clock.
    response_timeout_s: float = 30.0
    # The service ends a Realtime session this long after it opened (60 minutes); the console
    # renews it at a quiet moment in its last five minutes. 0 = never renew (a reconnect at the
    # limit instead).
    session_limit_s: float = 3600.0


@dataclass(frozen=True)
class CompletionsSettings:
    """The audio chat-completions commands (``audio say|ask|chat``)."""

    # None = the provider's default: the Azure deployment (connection.deployment, which
    # AZURE_OPENAI_DEPLOYMENT_NAME sets), or DEFAULT_AUDIO_MODEL on OpenAI and the local server.
    model: str | None = None
    # Azure only: "deployments" = /openai/deployments/{model}/chat/completions?api-version=…,
    # "v1" = /openai/v1/chat/completions with model = the deployment's name.
    azure_api: AzureChatApi = "deployments"
    format: AudioFormat = "wav"  # reply audio when neither -o's extension nor --format says
    instructions: str | None = None  # a system message before the conversation; None = none
    ask_prompt: str = DEFAULT_ASK_PROMPT  # `audio ask` without -p
    timeout_s: float = 120.0  # one request, until its last byte
    max_retries: int = 2  # after HTTP 429 / 5xx, honouring retry-after; 0 = fail at once


@dataclass(frozen=True)
class ToolsSettings:
    """Function calling in ``chat`` and ``talk`` (docs/tools.md)."""

    files: tuple[str, ...] = ()  # --tools sources: .py, .toml, .json files or module names
    mode: ToolMode = "auto"  # who answers a call: the handler, the handler once confirmed, you
    # Long enough for a web lookup, short enough that someone talking to the model still waits.
    timeout_s: float = 30.0
    tool_choice: str = "auto"  # auto | none | required | the name of one tool
    # Remote MCP servers ([[tools.mcp]] tables, or --mcp [LABEL=]URL strings), checked by
    # config/mcp_servers.py; header values name environment variables, never hold secrets.
    mcp: tuple[Any, ...] = ()


@dataclass(frozen=True)
class LogSettings:
    events: str | None = None  # path for --log-events
    audio: AudioLogging = "full"


@dataclass(frozen=True)
class Settings:
    """Everything but secrets, which auth reads from the environment and never from profiles."""

    connection: ConnectionSettings = field(default_factory=ConnectionSettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    completions: CompletionsSettings = field(default_factory=CompletionsSettings)
    log: LogSettings = field(default_factory=LogSettings)
    tools: ToolsSettings = field(default_factory=ToolsSettings)
    profile_name: str | None = None
    profile_path: str | None = None


def as_dict(settings: Settings) -> dict[str, Any]:
    """Plain JSON-ready data (tuples become lists) for printing and the event-log header."""
    plain: dict[str, Any] = json.loads(json.dumps(asdict(settings)))
    return plain
