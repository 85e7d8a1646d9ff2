"""``--summary`` / ``--json``: the session as turns, with where the time went.

A turn is one user input and the response to it. The input is speech (the server's
``speech_started`` … ``speech_stopped``), an audio buffer committed by the client (push-to-talk),
or a user message item created by the client (typed text); a response that no new input preceded
makes a turn of its own (input ``none``). Every latency is measured from the turn's *input end*:
``speech_stopped`` for speech, the commit for push-to-talk, the ``conversation.item.create`` for
text, the ``response.create`` for input ``none``. Times are the log's ``t`` (the console's clock
when the event was sent or received). The HTTP exchanges of audio chat completions are summed up
apart (``completions_summary``). docs/event-log.md defines every figure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from realtime_console.eventlog import LogRecord, audio_byte_count, finite_number, whole_number
from realtime_console.protocol import pcm, rate_limits
from realtime_console.replay.completions_summary import CompletionsBuilder, CompletionsSummary
from realtime_console.replay.stats import finite, ms_between, percentile, seconds_total
from realtime_console.replay.tool_calls import ToolCall, ToolCallTracker, mcp_call_fields


@dataclass
class Turn:
    number: int
    input: str  # speech | audio | text | none
    input_end_t: float | None = None
    user_speech_ms: float | None = None
    user_text: str | None = None
    response_id: str | None = None
    response_created_ms: float | None = None
    first_audio_ms: float | None = None
    response_done_ms: float | None = None
    status: str | None = None
    audio_bytes: int = 0
    truncated_at_ms: int | None = None  # audio_end_ms of the truncate (the listener's cut)
    # A voice barge-in's timing from the barge_in note (talk, docs/event-log.md): the user's
    # speech onset to the cut reaching the listener, and to the console hearing of it. None when
    # the note has none (a manual interrupt, a host API without times, a log of an earlier
    # version): then they are left out of the JSON, which stays as it was.
    barge_in_onset_to_silence_ms: float | None = None
    barge_in_detection_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    errors: list[str] = field(default_factory=list)
    speech_start_t: float | None = None  # for the timeline
    # Responses that answered this turn: more than one when the model called tools and spoke
    # again once their outputs were in (the first response's figures are the turn's latency).
    responses: int = 0
    tool_calls: list[ToolCall] = field(default_factory=list)

    @property
    def audio_generated_s(self) -> float:
        return pcm.bytes_to_ms(self.audio_bytes) / 1000.0

    @property
    def audio_heard_s(self) -> float:
        if self.truncated_at_ms is None:
            return self.audio_generated_s
        return min(self.audio_generated_s, self.truncated_at_ms / 1000.0)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        del out["speech_start_t"]
        out["audio_generated_s"] = round(self.audio_generated_s, 3)
        out["audio_heard_s"] = round(self.audio_heard_s, 3)
        del out["audio_bytes"]
        out["tool_calls"] = [call.as_json() for call in self.tool_calls]
        for key in _OPTIONAL_TURN_FIELDS:
            if out[key] is None:
                del out[key]
        return out


_OPTIONAL_TURN_FIELDS = ("barge_in_onset_to_silence_ms", "barge_in_detection_ms")


def barge_in_line(turn: Turn) -> str | None:
    """The table's line for a voice barge-in's timing, or None without one."""
    total, detection = turn.barge_in_onset_to_silence_ms, turn.barge_in_detection_ms
    if total is None:
        return None
    told = f" ({detection:.0f} ms to speech_started)" if detection is not None else ""
    return (
        f"  turn {turn.number} barge-in: silence {total:.0f} ms after the user began speaking{told}"
    )


@dataclass
class RateLimitTotal:
    """One rate limit over the session: what was left at the end, and at the tightest."""

    limit: int
    last_remaining: int
    lowest_remaining: int


@dataclass
class Totals:
    turns: int
    user_speech_s: float | None  # None: too large for a float (corrupt audio_*_ms)
    audio_generated_s: float
    audio_heard_s: float
    truncated_turns: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    errors: int
    first_audio_ms_median: float | None
    first_audio_ms_p90: float | None
    first_audio_ms_max: float | None
    duration_s: float | None  # None: the log's first and last t too far apart for a float
    events: int
    reconnects: int
    underruns: int
    tool_calls: int = 0
    tool_errors: int = 0  # calls whose status is not "ok" (error, timeout, declined, unanswered…)
    tool_latency_ms_median: float | None = None
    tool_latency_ms_max: float | None = None
    # Per limit name (``rate_limits.updated``), in the order first seen; empty without any.
    rate_limits: dict[str, RateLimitTotal] = field(default_factory=dict)
    # The adaptive playback buffer (``audio_stats``): its playout delay at the end and at most,
    # and the latest any reply's audio arrived. None when the log has no such field (a log of
    # an earlier version, or no ``talk``): unknown, never a zero.
    playback_target_ms_end: float | None = None
    playback_target_ms_max: float | None = None
    playback_jitter_ms_max: float | None = None


@dataclass
class Summary:
    turns: list[Turn]
    totals: Totals
    session_errors: list[str]  # errors before the first turn
    completions: CompletionsSummary | None = None  # HTTP exchanges (audio say|ask|chat), if any

    def as_json(self) -> dict[str, Any]:
        out = {
            "turns": [turn.as_json() for turn in self.turns],
            "totals": asdict(self.totals),
            "session_errors": self.session_errors,
        }
        if self.completions is not None:  # a realtime log's document stays as it was
            out["completions"] = self.completions.as_json()
        return out


def content_parts(item: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The parts of an item's ``content`` that are objects; none when the content is not a list
    (a corrupt line): an item without readable content, not a failure."""
    content = item.get("content")
    if not isinstance(content, list):
        return []
    return [part for part in content if isinstance(part, Mapping)]


def user_text_of(item: Mapping[str, Any]) -> str | None:
    parts = [
        str(part.get("text"))
        for part in content_parts(item)
        if part.get("type") == "input_text" and part.get("text")
    ]
    return " ".join(parts) if parts else None


_RATE_LIMIT_NUMBERS = ("limit", "remaining", "reset_seconds")


def _finite_rate_limits(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event without the entries holding a number no float holds (NaN, Infinity, past float
    range), which ``rate_limits.parse`` would convert with OverflowError/ValueError; the others
    are kept, as ``parse`` keeps the good entries beside a malformed one."""
    entries = event.get("rate_limits")
    if not isinstance(entries, list):
        return event

    def corrupt(entry: object) -> bool:
        if not isinstance(entry, Mapping):
            return False  # parse skips it already
        return any(
            isinstance(entry.get(key), int | float)
            and not isinstance(entry.get(key), bool)
            and finite_number(entry.get(key)) is None
            for key in _RATE_LIMIT_NUMBERS
        )

    return {**event, "rate_limits": [entry for entry in entries if not corrupt(entry)]}


_TOKEN_KEYS = ("input_tokens", "output_tokens", "total_tokens")


def _larger(known: float | None, value: float) -> float:
    return value if known is None else max(known, value)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


class SummaryBuilder:
    """Fed every record in order (``feed``), then ``summary()``. Keeps per-turn figures only."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []
        self._by_response: dict[str, Turn] = {}
        self._by_item: dict[str, Turn] = {}  # assistant item → its turn (for truncations)
        self._first_audio_t: dict[str, float] = {}
        self._speech: Turn | None = None  # a speech turn whose speech has not stopped yet
        self._open: Turn | None = None  # the newest turn still waiting for its response
        self._appended = 0  # audio bytes appended since the last commit/clear
        self._response_create_t: float | None = None
        self._barge_ins: dict[str, int] = {}  # item_id → audio_end_ms from meta notes
        self._session_errors: list[str] = []
        self._first_t: float | None = None
        self._last_t: float | None = None
        self._events = 0
        self._reconnects = 0
        self._underruns = 0
        self._target_end: float | None = None
        self._target_max: float | None = None
        self._jitter_max: float | None = None
        self._rate_limits: dict[str, RateLimitTotal] = {}
        self._tools = ToolCallTracker()
        self._follow_up: Turn | None = None  # the turn whose tool outputs were just sent
        # response id → usage, kept per response so a turn of several sums them once each
        self._usage: dict[str, dict[str, int]] = {}
        self._responses_of: dict[int, list[str]] = {}  # turn number → its response ids
        self._handlers: Mapping[tuple[str, str], Callable[[Mapping[str, Any], float | None], None]]
        self._handlers = {
            ("server", "input_audio_buffer.speech_started"): self._speech_started,
            ("server", "input_audio_buffer.speech_stopped"): self._speech_stopped,
            ("server", "input_audio_buffer.committed"): self._committed,
            ("server", "input_audio_buffer.cleared"): self._cleared,
            ("client", "input_audio_buffer.append"): self._append,
            ("client", "input_audio_buffer.clear"): self._cleared,
            ("client", "conversation.item.create"): self._item_create,
            ("client", "response.create"): self._response_create,
            ("server", "response.created"): self._response_created,
            ("server", "response.output_item.added"): self._output_item,
            ("server", "response.output_audio.delta"): self._audio_delta,
            ("server", "response.done"): self._response_done,
            ("server", "response.function_call_arguments.done"): self._call_arguments_done,
            ("server", "response.output_item.done"): self._output_item_done,
            ("meta", "tool_call"): self._tool_ran,
            ("server", "error"): self._error,
            ("server", "rate_limits.updated"): self._rate_limits_updated,
            ("client", "conversation.item.truncate"): self._truncate,
            ("meta", "barge_in"): self._barge_in,
            ("meta", "reconnect"): self._reconnect,
            ("meta", "audio_stats"): self._audio_stats,
        }
        self._completions = CompletionsBuilder()
        self._handlers = {**self._handlers, **self._completions.handlers()}

    def feed(self, record: LogRecord) -> None:
        self._events += 1
        if record.t is not None:
            self._first_t = record.t if self._first_t is None else self._first_t
            self._last_t = record.t
        handler = self._handlers.get((record.dir, str(record.event.get("type", ""))))
        if handler is not None:
            handler(record.event, record.t)

    def feed_all(self, records: Iterable[LogRecord]) -> SummaryBuilder:
        for record in records:
            self.feed(record)
        return self

    # -------------------------------------------------------------------- user input

    def _new_turn(self, kind: str) -> Turn:
        turn = Turn(number=len(self.turns) + 1, input=kind)
        self.turns.append(turn)
        self._open = turn
        return turn

    def _speech_started(self, event: Mapping[str, Any], t: float | None) -> None:
        turn = self._new_turn("speech")
        turn.speech_start_t = t
        turn.user_speech_ms = finite_number(event.get("audio_start_ms"))
        self._speech = turn

    def _speech_stopped(self, event: Mapping[str, Any], t: float | None) -> None:
        turn = self._speech
        if turn is None:
            return
        end = finite_number(event.get("audio_end_ms"))
        start = turn.user_speech_ms
        turn.user_speech_ms = finite(end - start) if end is not None and start is not None else None
        turn.input_end_t = t
        self._speech = None

    def _committed(self, event: Mapping[str, Any], t: float | None) -> None:
        open_turn = self._open
        if self._speech is not None:
            # Committed before the server heard the speech stop (a client commit mid-speech).
            self._speech_stopped({}, t)
        elif not (
            open_turn is not None and open_turn.input == "speech" and open_turn.response_id is None
        ):
            # Not the commit that follows server VAD's speech_stopped: push-to-talk.
            turn = self._new_turn("audio")
            turn.user_speech_ms = round(pcm.bytes_to_ms(self._appended), 1)
            turn.input_end_t = t
        self._appended = 0

    def _cleared(self, event: Mapping[str, Any], t: float | None) -> None:
        self._appended = 0

    def _append(self, event: Mapping[str, Any], t: float | None) -> None:
        self._appended += audio_byte_count(event)

    def _item_create(self, event: Mapping[str, Any], t: float | None) -> None:
        item = event.get("item")
        if not isinstance(item, Mapping):
            return
        if item.get("type") == "function_call_output":
            call = self._tools.answered(item, t)
            if call is not None:
                self._follow_up = self._by_response.get(call.response_id or "")
            return
        if item.get("type") == "mcp_approval_response":
            # The answer to an MCP approval request (yes or no): the reply after it belongs to
            # the turn whose response asked, as the reply after function outputs does.
            request = self._tools.by_call.get(str(item.get("approval_request_id") or ""))
            if request is not None:
                self._follow_up = self._by_response.get(request.response_id or "")
            return
        if item.get("role") != "user":
            return
        turn = self._new_turn("text")
        turn.user_text = user_text_of(item)
        turn.input_end_t = t

    # -------------------------------------------------------------------- responses

    def _response_create(self, event: Mapping[str, Any], t: float | None) -> None:
        self._response_create_t = t

    def _response_created(self, event: Mapping[str, Any], t: float | None) -> None:
        response = event.get("response")
        response_id = str(response.get("id", "")) if isinstance(response, Mapping) else ""
        turn = self._open
        follow_up, self._follow_up = self._follow_up, None
        if turn is not None and turn.response_id is None:
            pass  # the answer to the newest input (new speech wins over a pending follow-up)
        elif follow_up is not None:
            # The model speaking again after its tools' outputs: the same turn, not a new one.
            self._attach(follow_up, response_id)
            return
        else:
            turn = self._new_turn("none")
            turn.input_end_t = self._response_create_t if self._response_create_t else t
        turn.response_id = response_id
        turn.response_created_ms = ms_between(t, turn.input_end_t)
        self._attach(turn, response_id)
        self._open = turn

    def _attach(self, turn: Turn, response_id: str) -> None:
        if response_id not in self._by_response:
            turn.responses += 1
            self._responses_of.setdefault(turn.number, []).append(response_id)
        self._by_response[response_id] = turn

    def _turn_of(self, event: Mapping[str, Any]) -> Turn | None:
        return self._by_response.get(str(event.get("response_id", "")))

    def _output_item(self, event: Mapping[str, Any], t: float | None) -> None:
        turn = self._turn_of(event)
        item = event.get("item")
        if turn is not None and isinstance(item, Mapping) and isinstance(item.get("id"), str):
            self._by_item[item["id"]] = turn

    def _audio_delta(self, event: Mapping[str, Any], t: float | None) -> None:
        turn = self._turn_of(event)
        if turn is None:
            return
        if turn.first_audio_ms is None:
            turn.first_audio_ms = ms_between(t, turn.input_end_t)
        turn.audio_bytes += audio_byte_count(event)
        item_id = event.get("item_id")
        if isinstance(item_id, str):
            self._by_item.setdefault(item_id, turn)

    def _response_done(self, event: Mapping[str, Any], t: float | None) -> None:
        response = event.get("response")
        if not isinstance(response, Mapping):
            return
        response_id = str(response.get("id", ""))
        turn = self._by_response.get(response_id)
        if turn is None:
            return
        turn.response_done_ms = ms_between(t, turn.input_end_t)
        turn.status = str(response.get("status", "")) or None
        output = response.get("output")
        for item in output if isinstance(output, list) else ():
            if isinstance(item, Mapping) and item.get("type") == "function_call":
                self._call_requested(item, response_id, t)
        usage = response.get("usage")
        if isinstance(usage, Mapping):
            counts = {
                key: value
                for key in _TOKEN_KEYS
                if (value := whole_number(usage.get(key))) is not None
            }
            self._usage[response_id] = counts  # a repeated response.done replaces, not adds
            self._sum_usage(turn)

    def _sum_usage(self, turn: Turn) -> None:
        ids = self._responses_of.get(turn.number, ())
        known = [self._usage[r] for r in ids if r in self._usage]
        for key in _TOKEN_KEYS:
            values = [counts[key] for counts in known if key in counts]
            setattr(turn, key, sum(values) if values else None)

    # -------------------------------------------------------------------- function calls

    def _call_requested(
        self, fields: Mapping[str, Any], response_id: str | None, t: float | None
    ) -> None:
        known = str(fields.get("call_id", "")) in self._tools.by_call
        call = self._tools.requested(fields, response_id, t)
        turn = self._by_response.get(response_id or "")
        if call is not None and not known and turn is not None:
            turn.tool_calls.append(call)

    def _call_arguments_done(self, event: Mapping[str, Any], t: float | None) -> None:
        self._call_requested(event, _str_or_none(event.get("response_id")), t)

    def _output_item_done(self, event: Mapping[str, Any], t: float | None) -> None:
        item = event.get("item")
        if isinstance(item, Mapping) and item.get("type") == "function_call":
            self._call_requested(item, _str_or_none(event.get("response_id")), t)
        elif isinstance(item, Mapping) and (mcp := mcp_call_fields(item)) is not None:
            self._call_requested(mcp, _str_or_none(event.get("response_id")), t)

    def _tool_ran(self, event: Mapping[str, Any], t: float | None) -> None:
        self._tools.ran(event)

    def _error(self, event: Mapping[str, Any], t: float | None) -> None:
        error = event.get("error")
        error = error if isinstance(error, Mapping) else {}
        text = f"{error.get('code') or error.get('type') or 'unknown'}: {error.get('message', '')}"
        target = self.turns[-1].errors if self.turns else self._session_errors
        target.append(text)

    def _rate_limits_updated(self, event: Mapping[str, Any], t: float | None) -> None:
        for limit in rate_limits.parse(_finite_rate_limits(event)):
            seen = self._rate_limits.get(limit.name)
            lowest = (
                limit.remaining if seen is None else min(seen.lowest_remaining, limit.remaining)
            )
            self._rate_limits[limit.name] = RateLimitTotal(limit.limit, limit.remaining, lowest)

    # -------------------------------------------------------------------- console marks

    def _truncate(self, event: Mapping[str, Any], t: float | None) -> None:
        turn = self._by_item.get(str(event.get("item_id", "")))
        end = whole_number(event.get("audio_end_ms"))
        if turn is not None and end is not None:
            turn.truncated_at_ms = end  # the client's own truncate is authoritative

    def _barge_in(self, event: Mapping[str, Any], t: float | None) -> None:
        end = whole_number(event.get("audio_end_ms"))
        turn = self._by_item.get(str(event.get("item_id", ""))) or self._by_response.get(
            str(event.get("response_id", ""))
        )
        if turn is not None and end is not None and turn.truncated_at_ms is None:
            turn.truncated_at_ms = end
        total = finite_number(event.get("onset_to_silence_ms"))  # absent or null: unknown
        if turn is not None and total is not None and turn.barge_in_onset_to_silence_ms is None:
            turn.barge_in_onset_to_silence_ms = total
            turn.barge_in_detection_ms = finite_number(event.get("detection_ms"))

    def _reconnect(self, event: Mapping[str, Any], t: float | None) -> None:
        self._reconnects += 1

    def _audio_stats(self, event: Mapping[str, Any], t: float | None) -> None:
        # talk writes running totals (periodically and at the end): the latest is the total.
        count = whole_number(event.get("playback_underruns"))
        if count is not None and count > self._underruns:
            self._underruns = count
        target = finite_number(event.get("playback_target_ms"))
        if target is not None:
            self._target_end = target  # the latest note's delay is the one at the end
            self._target_max = _larger(self._target_max, target)
        jitter = finite_number(event.get("playback_jitter_ms"))
        if jitter is not None:  # each note has the last finished reply's: the worst of them
            self._jitter_max = _larger(self._jitter_max, jitter)

    # -------------------------------------------------------------------- result

    def summary(self) -> Summary:
        latencies = [t.first_audio_ms for t in self.turns if t.first_audio_ms is not None]
        calls = [call for turn in self.turns for call in turn.tool_calls]
        tool_latencies = [c.latency_ms for c in calls if c.latency_ms is not None]
        totals = Totals(
            turns=len(self.turns),
            user_speech_s=seconds_total(t.user_speech_ms for t in self.turns),
            audio_generated_s=round(sum(t.audio_generated_s for t in self.turns), 3),
            audio_heard_s=round(sum(t.audio_heard_s for t in self.turns), 3),
            truncated_turns=sum(1 for t in self.turns if t.truncated_at_ms is not None),
            input_tokens=sum(t.input_tokens or 0 for t in self.turns),
            output_tokens=sum(t.output_tokens or 0 for t in self.turns),
            total_tokens=sum(t.total_tokens or 0 for t in self.turns),
            errors=len(self._session_errors) + sum(len(t.errors) for t in self.turns),
            first_audio_ms_median=percentile(latencies, 0.5),
            first_audio_ms_p90=percentile(latencies, 0.9),
            first_audio_ms_max=max(latencies) if latencies else None,
            duration_s=finite(round((self._last_t or 0.0) - (self._first_t or 0.0), 3)),
            events=self._events,
            reconnects=self._reconnects,
            underruns=self._underruns,
            tool_calls=len(calls),
            tool_errors=sum(1 for call in calls if call.status != "ok"),
            tool_latency_ms_median=percentile(tool_latencies, 0.5),
            tool_latency_ms_max=max(tool_latencies) if tool_latencies else None,
            rate_limits=dict(self._rate_limits),
            playback_target_ms_end=self._target_end,
            playback_target_ms_max=self._target_max,
            playback_jitter_ms_max=self._jitter_max,
        )
        completions = self._completions.summary() if self._completions.turns else None
        return Summary(list(self.turns), totals, list(self._session_errors), completions)
