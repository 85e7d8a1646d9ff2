"""``--summary`` / ``--json`` for the HTTP exchanges of ``audio say|ask|chat``: one turn per
exchange (a request id), with where its time and tokens went.

The ``completion`` meta line written after each exchange is authoritative (the command measured
first audio and elapsed time around the SDK call); for an exchange without one (a log cut short)
the figures come from the log's ``t`` of the request, the first chunk with audio (a stream) or the
response, and the last line of the exchange. docs/event-log.md defines every figure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from realtime_console.eventlog import finite_number, whole_number
from realtime_console.protocol import pcm
from realtime_console.replay import http_shapes as shapes
from realtime_console.replay.stats import finite, ms_between, percentile

Handler = Callable[[Mapping[str, Any], float | None], None]


@dataclass
class CompletionTurn:
    number: int
    request_id: str
    model: str | None = None
    stream: bool | None = None
    status: str | None = None  # completed | failed; None: the log ends inside the exchange
    user_text: str | None = None  # the you> line: last user text and [audio …] parts
    input_audio_s: float | None = None
    first_audio_ms: float | None = None  # request sent → first audio byte
    elapsed_ms: float | None = None  # request sent → last byte
    audio_s: float | None = None  # reply audio
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    prompt_audio_tokens: int | None = None
    completion_audio_tokens: int | None = None
    retries: int = 0
    errors: list[str] = field(default_factory=list)
    transcript: str | None = None


@dataclass
class CompletionTotals:
    turns: int
    completed: int
    failed: int
    audio_s: float | None  # None: too large for a float (corrupt completion lines)
    input_audio_s: float | None
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_audio_tokens: int
    completion_audio_tokens: int
    retries: int
    errors: int
    first_audio_ms_median: float | None
    first_audio_ms_p90: float | None
    first_audio_ms_max: float | None
    elapsed_ms_median: float | None
    elapsed_ms_max: float | None


@dataclass
class CompletionsSummary:
    turns: list[CompletionTurn]
    totals: CompletionTotals

    def as_json(self) -> dict[str, Any]:
        return {"turns": [asdict(t) for t in self.turns], "totals": asdict(self.totals)}


@dataclass
class _Exchange:
    """What the log gives when the meta line is missing."""

    start_t: float | None = None
    last_t: float | None = None
    pcm_bytes: int = 0  # streamed pcm16
    format: str | None = None  # the reply format the request asked for
    measured: bool = False  # the completion meta line was seen: its figures stand


def _reply_seconds(audio: Mapping[str, Any], fmt: str | None) -> float | None:
    """A whole reply's length when known without a decoder: pcm16, or a WAV kept whole."""
    if fmt == "pcm16":
        return round(pcm.bytes_to_ms(shapes.encoded_bytes(audio)) / 1000.0, 3)
    data = audio.get("data")
    decoded = shapes.decode_file(data) if fmt == "wav" and isinstance(data, str) else None
    seconds = shapes.wav_duration_s(decoded) if decoded else None
    return round(seconds, 3) if seconds is not None else None


def _seconds_ms(value: object) -> float | None:
    seconds = finite_number(value)
    return finite(round(seconds * 1000.0, 1)) if seconds is not None else None


def _seconds_sum(values: Iterable[float | None]) -> float | None:
    """The known values' sum; None when it overflows (corrupt figures of several turns)."""
    return finite(round(sum(v for v in values if v is not None), 3))


class CompletionsBuilder:
    def __init__(self) -> None:
        self.turns: list[CompletionTurn] = []
        self._by_id: dict[str, tuple[CompletionTurn, _Exchange]] = {}

    def handlers(self) -> dict[tuple[str, str], Handler]:
        return {
            ("http", shapes.REQUEST): self._request,
            ("http", shapes.CHUNK): self._chunk,
            ("http", shapes.RESPONSE): self._response,
            ("http", shapes.ERROR): self._error,
            ("meta", shapes.COMPLETION): self._completion,
        }

    def _turn(self, event: Mapping[str, Any], t: float | None) -> tuple[CompletionTurn, _Exchange]:
        request_id = shapes.request_id(event)
        found = self._by_id.get(request_id)
        if found is None:
            turn = CompletionTurn(number=len(self.turns) + 1, request_id=request_id)
            found = self._by_id[request_id] = (turn, _Exchange(start_t=t))
            self.turns.append(turn)
        if t is not None:
            found[1].last_t = t
        return found

    def _request(self, event: Mapping[str, Any], t: float | None) -> None:
        turn, exchange = self._turn(event, t)
        if turn.model is not None:
            return  # a retry: the turn starts at the first attempt
        exchange.format = shapes.request_format(event)
        model = event.get("model")
        turn.model = model if isinstance(model, str) else None
        turn.stream = bool(event.get("stream"))
        turn.user_text = shapes.user_line(event)
        message = shapes.last_user_message(event)
        parts = shapes.user_parts(message)[1] if message is not None else []
        lengths = [shapes.input_audio_seconds(part) for part in parts]
        if lengths and all(x is not None for x in lengths):
            turn.input_audio_s = round(sum(x or 0.0 for x in lengths), 3)

    def _tokens(self, turn: CompletionTurn, usage: Mapping[str, Any]) -> None:
        for key, value in shapes.token_counts(usage).items():
            setattr(turn, key, value)

    def _chunk(self, event: Mapping[str, Any], t: float | None) -> None:
        turn, exchange = self._turn(event, t)
        n = shapes.encoded_bytes(shapes.mapping(shapes.chunk_delta(event).get("audio")))
        if exchange.measured:
            return
        if n and turn.first_audio_ms is None:
            turn.first_audio_ms = ms_between(t, exchange.start_t)
        exchange.pcm_bytes += n
        turn.audio_s = round(pcm.bytes_to_ms(exchange.pcm_bytes) / 1000.0, 3)
        turn.elapsed_ms = ms_between(t, exchange.start_t)
        if shapes.finish_reason(event) is not None:
            turn.status = "completed"  # the stream ended as it should (stop, length, …)
        self._tokens(turn, shapes.usage_of(event))

    def _response(self, event: Mapping[str, Any], t: float | None) -> None:
        turn, exchange = self._turn(event, t)
        message = shapes.reply_message(event)
        turn.transcript = shapes.spoken_text(message) or turn.transcript
        if exchange.measured:
            return
        audio = shapes.mapping(message.get("audio"))
        if shapes.encoded_bytes(audio):
            turn.first_audio_ms = ms_between(t, exchange.start_t)  # the whole reply at once
            turn.audio_s = _reply_seconds(audio, exchange.format)
        turn.elapsed_ms = ms_between(t, exchange.start_t)
        turn.status = "completed" if event.get("status", 200) == 200 else turn.status
        self._tokens(turn, shapes.usage_of(event))

    def _error(self, event: Mapping[str, Any], t: float | None) -> None:
        turn, exchange = self._turn(event, t)
        turn.errors.append(shapes.error_text(event))
        if exchange.measured:
            return
        if shapes.retried(event):
            turn.retries += 1
        else:
            turn.status = "failed"
            turn.elapsed_ms = ms_between(t, exchange.start_t)

    def _completion(self, event: Mapping[str, Any], t: float | None) -> None:
        turn, exchange = self._turn(event, None)  # written after the exchange: not its end
        exchange.measured = True
        status, retries, transcript = (
            event.get("status"),
            whole_number(event.get("retries")),
            event.get("transcript"),
        )
        turn.status = status if isinstance(status, str) else turn.status
        turn.first_audio_ms = _seconds_ms(event.get("first_audio_s"))
        turn.elapsed_ms = _seconds_ms(event.get("elapsed_s"))
        for key in ("audio_s", "input_audio_s"):
            value = finite_number(event.get(key))
            if value is not None:
                setattr(turn, key, round(value, 3))
        turn.retries = retries if retries is not None else turn.retries
        turn.transcript = transcript if isinstance(transcript, str) else turn.transcript
        if isinstance(event.get("model"), str):
            turn.model = event["model"]
        if isinstance(event.get("stream"), bool):
            turn.stream = event["stream"]
        self._tokens(turn, shapes.mapping(event.get("usage")))

    def summary(self) -> CompletionsSummary:
        turns = self.turns
        first = [t.first_audio_ms for t in turns if t.first_audio_ms is not None]
        elapsed = [t.elapsed_ms for t in turns if t.elapsed_ms is not None]

        def total(key: str) -> int:
            return sum(getattr(t, key) or 0 for t in turns)

        totals = CompletionTotals(
            turns=len(turns),
            completed=sum(1 for t in turns if t.status == "completed"),
            failed=sum(1 for t in turns if t.status == "failed"),
            audio_s=_seconds_sum(t.audio_s for t in turns),
            input_audio_s=_seconds_sum(t.input_audio_s for t in turns),
            prompt_tokens=total("prompt_tokens"),
            completion_tokens=total("completion_tokens"),
            total_tokens=total("total_tokens"),
            prompt_audio_tokens=total("prompt_audio_tokens"),
            completion_audio_tokens=total("completion_audio_tokens"),
            retries=total("retries"),
            errors=sum(len(t.errors) for t in turns),
            first_audio_ms_median=percentile(first, 0.5),
            first_audio_ms_p90=percentile(first, 0.9),
            first_audio_ms_max=max(first) if first else None,
            elapsed_ms_median=percentile(elapsed, 0.5),
            elapsed_ms_max=max(elapsed) if elapsed else None,
        )
        return CompletionsSummary(list(turns), totals)
