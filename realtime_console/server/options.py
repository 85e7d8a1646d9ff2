"""Settings of the local server (what ``serve`` flags and ``--local`` decide)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from realtime_console.errors import ConfigError
from realtime_console.server.conversation import MAX_CONTEXT_BYTES
from realtime_console.server.faults import FaultPlan
from realtime_console.server.response import Pacing

VoiceEngine = Literal["synthetic", "espeak", "auto"]
VOICE_ENGINES: tuple[VoiceEngine, ...] = ("synthetic", "espeak", "auto")

DEFAULT_MODEL = "gpt-realtime"
DEFAULT_REALTIME_FACTOR = 4.0
DEFAULT_CHUNK_MS = 200
DEFAULT_MAX_MSG_SIZE = 16 * 1024 * 1024  # a 15 MiB append (the service's limit) plus framing
DEFAULT_AUDIO_TTL_S = 3600.0  # the service keeps reply audio for multi-turn use about an hour
# Concurrent Realtime sessions. The development machine serves 20 streaming sessions with a
# fifth of a core (docs/local-server.md, Performance); 100 leaves room for idle or text-only
# sessions while keeping one server's memory and CPU bounded.
DEFAULT_MAX_SESSIONS = 100
# Open TCP connections of every kind (sessions, HTTP requests, handshakes in progress). Above
# the session cap, so handshakes and chat completions still get in when the sessions are full;
# the server lowers it further to fit the process's file-descriptor limit.
DEFAULT_MAX_CONNECTIONS = 512
# From accepting a connection to having its whole request (headers) read: a client that has
# not sent a request line and headers in this time is closed. Real clients send them at once.
DEFAULT_HANDSHAKE_TIMEOUT_S = 10.0
DEFAULT_MAX_CONTEXT_BYTES = MAX_CONTEXT_BYTES  # 32 MiB; why, in conversation.py
# The service ends every Realtime session 60 minutes after it opened (close 1001); clients that
# must outlive it (the console's recycle) are tested against a limit of a few seconds.
DEFAULT_MAX_SESSION_S = 3600.0


@dataclass(frozen=True, kw_only=True)
class ServerOptions:
    """``api_key`` is required: the server refuses every connection that does not present it."""

    api_key: str
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port (read it back from ``LocalServer.port``)
    model: str = DEFAULT_MODEL  # session model when the URL names none
    # Audio seconds streamed per wall-clock second: fast enough for tests and snappy demos, slow
    # enough that clients still see deltas spread over time as from the service. inf: no pacing.
    realtime_factor: float = DEFAULT_REALTIME_FACTOR
    chunk_ms: int = DEFAULT_CHUNK_MS  # audio per delta, 100–250 (the tail absorbs the rest)
    max_msg_size: int = DEFAULT_MAX_MSG_SIZE  # larger client frames close the socket (1009)
    # "synthetic": the deterministic tone voice (exact lengths; the default for tests);
    # "espeak": eSpeak NG speech (ConfigError if it is missing); "auto": eSpeak NG if present.
    voice_engine: VoiceEngine = "synthetic"
    faults: FaultPlan = field(default_factory=FaultPlan)  # nothing goes wrong by default
    # Chat completions: how long a reply's audio id can be referred to in a later request.
    audio_ttl_s: float = DEFAULT_AUDIO_TTL_S
    # Realtime sessions open at once; the next handshake gets HTTP 503 (server_overloaded).
    max_sessions: int = DEFAULT_MAX_SESSIONS
    # TCP connections open at once: at the limit the longest-idle one (no request in progress)
    # is closed to make room; if every one is busy the newcomer gets a 503 and is closed.
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    handshake_timeout_s: float = DEFAULT_HANDSHAKE_TIMEOUT_S  # see DEFAULT_HANDSHAKE_TIMEOUT_S
    # Bytes of JSON a session's conversation items may hold; conversation.item.create beyond it
    # is an error event (context_length_exceeded) and the session goes on.
    max_context_bytes: int = DEFAULT_MAX_CONTEXT_BYTES
    # Seconds a Realtime session may last: then the server closes it with 1001 and the service's
    # "maximum duration" reason, whatever the session is doing.
    max_session_s: float = DEFAULT_MAX_SESSION_S

    def __post_init__(self) -> None:
        if not self.api_key:
            raise ConfigError("local server: api_key must not be empty")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"local server: port must be 0..65535, got {self.port}")
        if math.isnan(self.realtime_factor) or self.realtime_factor <= 0:
            raise ConfigError(
                f"local server: realtime_factor must be > 0, got {self.realtime_factor}"
            )
        if not 100 <= self.chunk_ms <= 250:
            raise ConfigError(f"local server: chunk_ms must be 100..250, got {self.chunk_ms}")
        if self.voice_engine not in VOICE_ENGINES:
            raise ConfigError(
                f"local server: voice_engine must be one of {', '.join(VOICE_ENGINES)}, "
                f"got {self.voice_engine!r}"
            )
        if not (math.isfinite(self.audio_ttl_s) and self.audio_ttl_s > 0):
            raise ConfigError(
                f"local server: audio_ttl_s must be a finite number > 0, got {self.audio_ttl_s}"
            )
        if self.max_msg_size < 1024:
            raise ConfigError(f"local server: max_msg_size too small: {self.max_msg_size}")
        for name in ("max_sessions", "max_connections", "max_context_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"local server: {name} must be a whole number >= 1, got {value}")
        if not (math.isfinite(self.handshake_timeout_s) and self.handshake_timeout_s > 0):
            raise ConfigError(
                "local server: handshake_timeout_s must be a finite number > 0, "
                f"got {self.handshake_timeout_s}"
            )
        if not (math.isfinite(self.max_session_s) and self.max_session_s > 0):
            raise ConfigError(
                f"local server: max_session_s must be a finite number > 0, got {self.max_session_s}"
            )

    @property
    def pacing(self) -> Pacing:
        return Pacing(realtime_factor=self.realtime_factor, chunk_ms=self.chunk_ms)
