"""Jitter buffer between the event loop (writer) and the audio device thread (reader).

The Realtime API streams assistant audio in bursts, often much faster than real time: a whole
reply can arrive while its first seconds play, so the buffer must hold what a reply needs and its
bound is a memory limit, not a latency control (see ``DEFAULT_MAX_BUFFER_MS``). It keeps:

* the PCM16 chunks, each tagged with ``(response_id, item_id)`` and its offset in the item;
* an adaptive playout delay (in the spirit of WebRTC's NetEQ, see ``AdaptiveTarget``): the
  target is learned per session from how late replies' audio arrives against the fastest
  real-time schedule it keeps (starting at ``prebuffer_ms``, never above ``max_prebuffer_ms``).
  Playback of a response starts (and restarts after an underrun) once its head is the target
  late on that schedule -- or up to one block sooner when enough is queued to stretch that
  block back --, or when no more audio is expected (``end_response``) or a drain flushes it;
  a stream faster than real time gets there with its second chunk;
* while a response still streams and playback is behind the target, each block is lengthened
  by one pitch period (NetEQ's preemptive expand: the period is found by autocorrelation and
  cross-faded into a repeat of itself; near-silence repeats freely, noise-like sound is never
  stretched) until the delay reaches the target: the reply starts a block sooner than it could
  otherwise, and never runs dry for it. (Libraries were weighed: ``audiotsm`` has had no
  release since 2017, ``pytsmod`` works on whole signals, ``pyrubberband`` drives the
  ``rubberband`` program; none fits a 20 ms block on the audio thread.)
* on an underrun, the audio is cut at its quietest sample in the last few ms before it would run
  out, so the inserted silence starts (and the reply later resumes) near a zero crossing rather
  than in the middle of a waveform; the target grows;
* a per-item clock: how far into each item playback has reached, and when (in device frames), so
  the speaker can tell how much the listener actually heard (for the 256 newest items);
* cuts: ``interrupt`` (everything) and ``drop_response`` (one response) keep a short tail that the
  next read fades to zero, discard the rest, and refuse later chunks of the cut responses.

Threading contract: ``read``/``read_into`` run on the audio thread; every other mutating method
runs on one writer thread (the event loop). One ``threading.Lock`` guards the shared queue and
counters and is held only for O(1) work, the copy of one block, or, while behind the target,
the stretch of one block (a period search: a few tenths of a ms at most); the writer-only state
(the set of refused responses) is not locked at all.

Overflow policy: a chunk that would take the buffer past ``max_buffer_ms`` is refused whole (and
counted, in total and per response, so the speaker can say what was lost). Dropping the oldest
audio instead would silently skip part of an item that is already playing; refusing the newest
keeps every queued sample contiguous, and because each chunk carries its offset in the item the
played-position clock stays true even across a refused chunk.

Memory: the bound counts samples, so queued memory is that many PCM16 bytes plus a header per
chunk (about 460 bytes: the chunk, its memoryview, the bytes object, the deque slot). A peer that
sent one-sample deltas would make the headers 200 times the audio; small chunks are therefore
merged into the queued chunk before them (``_MERGE_BELOW_BYTES``), which keeps the headers under
a tenth of the audio whatever the delta size.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from realtime_console.protocol.pcm import SAMPLE_WIDTH, ms_to_samples, samples_to_ms

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_MAX_REMEMBERED_DROPS = 256  # cancelled responses remembered to refuse their late deltas
DEFAULT_MAX_BUFFER_MS = 600_000.0
"""10 minutes: 28.8 MB of 24 kHz PCM16. The service streams a reply faster than it plays, so the
whole reply may be queued at once; this covers any reply a realtime model gives (output is
bounded by tokens, far below this) while still bounding memory against a runaway peer."""
_MERGE_BELOW_BYTES = 4800
"""A chunk under 100 ms is merged with the next contiguous chunk of the same item until it
reaches this size: each merge is one copy of under 10 kB (small beside parsing the JSON event
that brought the delta) and keeps per-chunk overhead (~460 bytes) under 10% of the audio."""
DEFAULT_MAX_PREBUFFER_MS = 500.0
"""Cap of the adaptive playout delay: half a second of added latency is where a reply starts to
feel late; a network worse than that gets underruns (counted) rather than ever longer waits."""
_LOW_ENERGY_WINDOW = 240
"""Samples (10 ms) searched for the quietest point before an underrun: a voice's period is
2.5-10 ms, so the window holds a zero crossing, and the cut moves the gap by at most 10 ms."""
_HISTORY = 32
"""Replies whose peak lateness the target is learned from: a few minutes of conversation, so a
network that got better is trusted again within that, and one that got worse at once."""
_QUANTILE = 0.95
"""Of those peaks: with 20 or more replies the single worst is ignored (one burst of congestion
does not hold the delay up for the rest of a conversation); with fewer, the worst counts."""
_MIN_ARRIVALS = 4  # distinct arrival frames before a reply's peak says anything of the network
_MIN_REPLIES = 3
"""Replies whose peaks must be known before the target may fall below its starting value: the
device clock sees arrivals to a block, so one reply can show 40 ms of jitter as 20 (its first
and last arrivals happened to fall into the same blocks); three rarely all do."""
_MIN_TARGET_MS = 10.0
"""The learned delay never goes below this (nor below ``prebuffer_ms``, if that is smaller): a
session whose replies all came faster than real time learns 0, and then starts a reply on its
first chunk; the rare second chunk that is later than what the first one holds plus a stretch
then runs it dry (measured: 1-2 replies in 2,600 at 1.5x or 4x real-time pace with 40-80 ms of
jitter; none over the same seeds with this floor, for about 1 ms more median delay;
benchmarks/talk_playback_latency.py)."""
_EARLY_START_MS = 20.0
"""Playback starts this much before the target and stretches its first blocks to catch up: one
20 ms device block, the wait for which otherwise adds to the target (a reply's first audio
comes on average half a block before the device asks for more)."""
_STRETCH_MIN_MS = 2.5  # shortest period repeated: a 400 Hz voice
_STRETCH_MAX_MS = 15.0  # longest: a 67 Hz voice (and at most a block less the shortest)
_STRETCH_MIN_CORRELATION = 0.9
"""Normalised correlation a period must reach to be repeated (NetEQ's preemptive expand uses the
same): voiced speech does, noise-like sounds do not and are never stretched."""
_STRETCH_COVER = 3
"""An early start may count on stretching at most this many times the delay it must gain, of
queued audio: the next chunk may be needed once that has played."""
_STRETCH_QUIET_RMS = 100.0  # below this (-50 dBFS) any segment may be repeated: near silence
_MAX_ITEM_CLOCKS = 256
"""Items whose clocks are kept, the newest: the server names the items, one could be new with
every chunk. Only recent items are ever asked about (the one playing, the one just cut);
a queued chunk holds its clock itself, so forgetting one never disturbs playback."""


@dataclass(frozen=True)
class JitterStats:
    """Counters since the buffer was created (a snapshot)."""

    underruns: int  # times playback ran dry while a response was still streaming
    underrun_samples: int  # silence inserted mid-stream because of those underruns
    overflows: int  # chunks refused because they would exceed max_buffer_ms
    overflow_samples: int  # audio lost that way: the reply had it, the listener never heard it
    late_chunks: int  # chunks refused because their response was interrupted or dropped
    buffered_samples: int
    max_buffered_samples: int  # high-water mark, never above the bound
    target_samples: int = 0  # current adaptive playout delay (see ``AdaptiveTarget``)
    arrival_jitter_samples: int = 0  # peak lateness of the last reply's audio (0 before one)
    stretched_samples: int = 0  # samples added by repeating a pitch period to reach the target

    @property
    def target_ms(self) -> float:
        return samples_to_ms(self.target_samples)

    @property
    def arrival_jitter_ms(self) -> float:
        return samples_to_ms(self.arrival_jitter_samples)


class AdaptiveTarget:
    """The playout delay: how late a reply's audio may arrive before playback runs dry.

    Each chunk's *lateness* is measured on the device clock (frames handed to the device, the
    clock playback itself runs on): its arrival frame minus its position in the reply, less the
    smallest such value of the reply so far. A server streaming in real time without jitter
    gives 0, one streaming faster gives 0 too (its running minimum keeps falling), and network
    jitter J shows as up to J. Playback ``value`` after that fastest schedule never runs dry
    while no chunk is later than ``value`` -- the relative-delay estimate of WebRTC's NetEQ
    delay manager.

    Learned per session, as NetEQ does: ``value`` is the ``_QUANTILE`` of the peak lateness of
    the last ``_HISTORY`` replies (a reply's peak, not a chunk's quantile, because one late
    chunk is one audible gap). It starts at ``prebuffer_ms`` and, for the first
    ``_MIN_REPLIES`` replies that showed their arrival pattern, only grows. Within a reply it
    grows at once (a chunk later than the target predicts an underrun, even when the reply
    happened to be ahead) and by a block on each underrun, which that reply then counts as its
    peak. All within ``0..cap``.

    Once a reply has shown the network's timing, playback starts up to ``early`` before
    ``value`` (``start``) when the queued audio can be stretched that much, and the buffer
    stretches the first blocks
    (``JitterBuffer._stretch_locked``) until the delay reaches ``value``: the wait for the
    device's next block would otherwise come on top of the target. Not thread-safe: the
    buffer calls it under its lock.
    """

    __slots__ = (
        "_arrivals",
        "_initial",
        "_peak",
        "_peaks",
        "_underran",
        "cap",
        "early",
        "floor",
        "last_peak",
        "value",
    )

    def __init__(self, initial: int, cap: int, early: int = 0, floor: int = 0) -> None:
        self.value = self._initial = min(initial, cap)  # samples
        self.floor = min(floor, self._initial)  # the learned value's lower bound
        self.cap = cap
        self.early = early
        self.last_peak = 0  # the last finished reply's peak lateness
        self._peak = 0  # the current reply's
        self._arrivals = 0  # the current reply's arrivals at distinct device frames
        self._underran = False
        self._peaks: deque[int] = deque(maxlen=_HISTORY)

    @property
    def start(self) -> int:
        """The delay at which playback may start, stretching to make up the rest of ``value``:
        ``early`` sooner once a reply has shown the network's timing, so the session's first
        reply starts exactly ``prebuffer_ms`` late (and plays exactly what arrived)."""
        return max(0, self.value - self.early) if self._peaks else self.value

    def observe(self, lateness: int, new_frame: bool) -> None:
        """One chunk arrived ``lateness`` samples behind the reply's fastest schedule."""
        self._peak = max(self._peak, lateness)
        self._arrivals += new_frame
        if lateness > self.value:
            self.value = min(self.cap, lateness)

    def underrun(self, step: int) -> None:
        self._underran = True
        self.value = min(self.cap, self.value + step)

    def reply_done(self) -> None:
        self.last_peak = self._peak
        need = max(self._peak, self.value) if self._underran else self._peak
        # A reply that arrived in one or two bursts shows nothing of the network's timing.
        if self._underran or self._arrivals >= _MIN_ARRIVALS:
            self._peaks.append(min(need, self.cap))
        if self._peaks:
            ordered = sorted(self._peaks)
            self.value = max(self.floor, ordered[max(0, math.ceil(_QUANTILE * len(ordered)) - 1)])
            if len(ordered) < _MIN_REPLIES:
                self.value = max(self.value, self._initial)
        self._peak = self._arrivals = 0
        self._underran = False


class _ItemClock:
    """Position of one output item: received, played and when it was last played."""

    __slots__ = ("end_frame", "item_id", "played_to", "received", "response_id")

    def __init__(self, item_id: str, response_id: str) -> None:
        self.item_id = item_id
        self.response_id = response_id
        self.received = 0  # samples offered for this item (accepted or refused by overflow)
        self.played_to = 0  # item-timeline position just after the last sample played
        self.end_frame = 0  # device frame index just after that sample


class _Chunk:
    __slots__ = ("clock", "data", "offset", "pos", "response_id")

    def __init__(self, data: memoryview, clock: _ItemClock, offset: int) -> None:
        self.data = data  # PCM16 bytes, cast to unsigned bytes
        self.clock = clock
        self.response_id = clock.response_id
        self.offset = offset  # item-timeline sample index of data[0]
        self.pos = 0  # bytes of data already played

    @property
    def remaining_samples(self) -> int:
        return (len(self.data) - self.pos) // SAMPLE_WIDTH


class JitterBuffer:
    """Bounded PCM16 queue with an adaptive playout delay, per-item played clock and fade-out
    cuts."""

    def __init__(
        self,
        *,
        prebuffer_ms: float = 120.0,
        max_buffer_ms: float = DEFAULT_MAX_BUFFER_MS,
        max_prebuffer_ms: float = DEFAULT_MAX_PREBUFFER_MS,
        sample_rate: int = 24_000,
    ) -> None:
        """``prebuffer_ms`` is the starting playout delay, ``max_prebuffer_ms`` its cap."""
        if prebuffer_ms < 0 or max_buffer_ms <= 0 or prebuffer_ms > max_buffer_ms:
            raise ValueError("need 0 <= prebuffer_ms <= max_buffer_ms and max_buffer_ms > 0")
        if max_prebuffer_ms < prebuffer_ms:
            raise ValueError("need max_prebuffer_ms >= prebuffer_ms")
        cap = min(ms_to_samples(max_prebuffer_ms, sample_rate), ms_to_samples(max_buffer_ms))
        self._target = AdaptiveTarget(
            ms_to_samples(prebuffer_ms, sample_rate),
            cap,
            early=ms_to_samples(_EARLY_START_MS, sample_rate),
            floor=ms_to_samples(_MIN_TARGET_MS, sample_rate),
        )
        self._max = ms_to_samples(max_buffer_ms, sample_rate)
        self._rate = sample_rate
        self._lock = threading.Lock()
        self._chunks: deque[_Chunk] = deque()
        self._buffered = 0
        self._playing = False  # False: waiting for the prebuffer (or idle)
        self._starved = False  # ran dry mid-response; counting the silence until it resumes
        self._open_response: str | None = None  # the response still expected to send audio
        self._flush = False  # a drain asked to play out whatever is queued, prebuffer or not
        self._fade_left = 0  # samples at the head of the queue still to be faded out
        self._fade_len = 0
        self._stream_frames = 0  # frames handed to the device so far (audio and silence)
        self._current: _ItemClock | None = None  # item at the head of the queue / last played
        self._clocks: dict[str, _ItemClock] = {}
        self._dropped: dict[str, None] = {}  # writer-only: ordered set of refused responses
        # Writer-only: samples refused by overflow per response, until someone takes the count.
        self._overflowed: dict[str, int] = {}
        self._silence = bytes(0)
        self._underruns = 0
        self._underrun_samples = 0
        self._overflows = 0
        self._overflow_samples = 0
        self._late_chunks = 0
        self._high_water = 0
        self._stretched = 0
        # The reply being received, on the device clock (all under the lock): its samples
        # accepted so far, the smallest (arrival frame - position) of its chunks, and the same
        # since playback last had to wait for it (the anchor a start or restart is timed from).
        self._reply: str | None = None
        self._reply_pos = 0
        self._reply_anchor: int | None = None
        self._run_anchor: int | None = None
        self._reply_frame = -1  # device frame of the reply's last arrival

    # ----------------------------------------------------------------- writer side (event loop)

    def push(self, pcm: bytes, response_id: str, item_id: str) -> bool:
        """Queue one chunk; False when refused (response dropped, or buffer bound reached)."""
        if len(pcm) % SAMPLE_WIDTH:
            raise ValueError(f"PCM16 chunk must have an even number of bytes, got {len(pcm)}")
        if response_id in self._dropped:
            self._late_chunks += 1
            return False
        if not isinstance(pcm, bytes):
            pcm = bytes(pcm)  # queued by reference: never let the caller mutate it later
        samples = len(pcm) // SAMPLE_WIDTH
        clock = self._clocks.get(item_id)
        if clock is None:
            clock = self._clocks[item_id] = _ItemClock(item_id, response_id)
            if len(self._clocks) > _MAX_ITEM_CLOCKS:
                del self._clocks[next(iter(self._clocks))]  # the oldest item
        offset = clock.received
        clock.received += samples
        if samples == 0:
            return True
        tail: _Chunk | None = None
        with self._lock:
            self._open_response = response_id
            refused = self._buffered + samples > self._max
            if refused:
                self._overflows += 1
                self._overflow_samples += samples
            elif self._chunks:
                tail = self._chunks[-1]
        if refused:
            self._count_overflow(response_id, samples)
            return False
        merged = self._merged_with(tail, pcm, clock, offset)
        with self._lock:
            if (
                merged is not None
                and tail is not None
                and self._chunks
                and self._chunks[-1] is tail
            ):
                # The reader may have moved ``tail.pos`` meanwhile; the merged data starts with
                # the same bytes, so that position is still right.
                tail.data = merged
            else:  # nothing to merge with, or the reader has finished the tail since
                self._chunks.append(_Chunk(memoryview(pcm).cast("B"), clock, offset))
            self._buffered += samples
            self._high_water = max(self._high_water, self._buffered)
            self._arrived_locked(response_id, samples)
            if self._current is None or not self._playing:
                self._current = self._chunks[0].clock
        return True

    def take_overflow(self, response_id: str) -> int:
        """Samples of this response refused by overflow since last asked (then forgotten)."""
        return self._overflowed.pop(response_id, 0)

    def take_all_overflows(self) -> dict[str, int]:
        """Every response's refused samples not yet taken, oldest first (then forgotten)."""
        taken, self._overflowed = self._overflowed, {}
        return taken

    def end_response(self, response_id: str) -> None:
        """No more audio will come for this response: play out what is queued, no prebuffer."""
        with self._lock:
            if self._open_response == response_id:
                self._open_response = None
            if self._reply == response_id:
                self._reply_done_locked()

    def flush(self) -> None:
        """Start playing what is queued now, even below the prebuffer (used by drains)."""
        with self._lock:
            if self._buffered:
                self._flush = True

    def interrupt(self, fade_ms: float) -> None:
        """Cut all playback: fade the next ``fade_ms`` out, drop the rest, refuse late chunks.

        Every response that had audio queued or was still streaming is refused from now on:
        resuming a cut response mid-sentence is never what the listener wants.
        """
        fade = ms_to_samples(fade_ms, self._rate)
        with self._lock:
            old = self._chunks
            cut_responses = {self._open_response} if self._open_response else set()
            self._chunks = self._fade_tail(old, fade, None)
            self._buffered = sum(c.remaining_samples for c in self._chunks)  # <= fade samples
            self._open_response = None
            self._starved = False
            if self._reply is not None:
                self._reply_done_locked()
        # The reader no longer sees ``old``, and response ids never change: scan it unlocked.
        cut_responses.update(c.response_id for c in old)
        for response_id in cut_responses:
            self._remember_dropped(response_id)

    def drop_response(self, response_id: str, fade_ms: float = 0.0) -> None:
        """Refuse every later chunk of this response and discard its queued audio.

        If that audio is playing right now its next ``fade_ms`` are faded out rather than cut.
        """
        self._remember_dropped(response_id)
        fade = ms_to_samples(fade_ms, self._rate)
        with self._lock:
            # O(queued chunks), but only when a response is dropped while it still has audio
            # queued; plain barge-in goes through interrupt(), which never scans under the lock.
            if any(c.response_id == response_id for c in self._chunks):
                self._chunks = self._fade_tail(self._chunks, fade, response_id)
                self._buffered = sum(c.remaining_samples for c in self._chunks)
            if self._open_response == response_id:
                self._open_response = None
            if self._reply == response_id:
                self._reply_done_locked()

    # ----------------------------------------------------------------- reader side (audio thread)

    def read(self, frames: int) -> bytes:
        """The next ``frames`` samples as PCM16 bytes, silence where there is no audio."""
        out = bytearray(frames * SAMPLE_WIDTH)
        self.read_into(memoryview(out))
        return bytes(out)

    def read_into(self, out: memoryview) -> int:
        """Fill a writable PCM16 byte buffer (e.g. the device's outdata); returns audio samples.

        Copies at most one block under the lock; the fade ramp, if any, is applied afterwards.
        """
        out = out.cast("B") if out.format != "B" else out
        frames = len(out) // SAMPLE_WIDTH
        copied = fade_start = fade_count = fade_len = 0
        with self._lock:
            if (
                not self._playing
                and self._buffered
                and (self._open_response is None or self._flush or self._due_locked(frames))
            ):
                self._playing = True
                self._starved = False
            if self._playing:
                behind = self._behind_locked(frames)
                if behind and self._stretch_locked(out, frames, behind):
                    copied = frames  # lengthened by a period: the delay grows towards the target
                else:
                    want = frames
                    if (
                        self._buffered < frames
                        and self._open_response is not None
                        and not self._flush
                        and not self._fade_left
                    ):
                        want = self._quiet_point_locked()  # about to run dry mid-reply
                    copied = self._copy_locked(out, want)
                if self._fade_left:  # the fade tail is at the head, so it was copied first
                    fade_start, fade_len = self._fade_len - self._fade_left, self._fade_len
                    fade_count = min(self._fade_left, copied)
                    self._fade_left -= fade_count
                if copied < frames:  # ran dry
                    self._playing = False
                    self._flush = False
                    self._starved = self._open_response is not None
                    if self._starved:
                        self._underruns += 1
                        self._target.underrun(frames)
                        self._run_anchor = None  # restart timed from the next arrival
            if self._starved:
                self._underrun_samples += frames - copied
            self._stream_frames += frames
        if copied < frames:
            out[copied * SAMPLE_WIDTH :] = self._silence_bytes((frames - copied) * SAMPLE_WIDTH)
        if fade_count:
            _apply_fade(out, fade_start, fade_count, fade_len)
        return copied

    # ----------------------------------------------------------------- queries (any thread)

    @property
    def is_empty(self) -> bool:
        """Nothing queued and no fade pending: everything has been handed to the device."""
        return self._buffered == 0

    @property
    def is_playing(self) -> bool:
        """Past the prebuffer and handing audio to the device."""
        return self._playing

    @property
    def buffered_samples(self) -> int:
        return self._buffered

    @property
    def stream_frames(self) -> int:
        """Frames handed to the device so far, audio and silence."""
        return self._stream_frames

    @property
    def current_item(self) -> tuple[str, str] | None:
        """(response_id, item_id) at the head of the queue, else the last one played."""
        clock = self._current
        return None if clock is None else (clock.response_id, clock.item_id)

    def played_samples(self, item_id: str) -> int:
        """How far into the item playback has reached, in samples (0 if unknown)."""
        clock = self._clocks.get(item_id)
        return 0 if clock is None else clock.played_to

    def received_samples(self, item_id: str) -> int:
        """Samples received for the item, including any refused by overflow (0 if unknown)."""
        clock = self._clocks.get(item_id)
        return 0 if clock is None else clock.received

    def heard_samples(self, item_id: str, latency_frames: int) -> int:
        """Samples of the item the listener has heard, given the device's output latency.

        Frames handed to the device within the last ``latency_frames`` are not audible yet; of
        the item's played samples, at most the ones handed after that point are unheard. Once
        the device has moved past the item, everything played counts as heard.
        """
        clock = self._clocks.get(item_id)
        if clock is None:
            return 0
        with self._lock:
            audible_frame = self._stream_frames - latency_frames
            unheard = max(0, clock.end_frame - audible_frame)
            played_to = clock.played_to
        return max(0, min(played_to - unheard, clock.received))

    @property
    def stats(self) -> JitterStats:
        with self._lock:
            return JitterStats(
                underruns=self._underruns,
                underrun_samples=self._underrun_samples,
                overflows=self._overflows,
                overflow_samples=self._overflow_samples,
                late_chunks=self._late_chunks,
                buffered_samples=self._buffered,
                max_buffered_samples=self._high_water,
                target_samples=self._target.value,
                arrival_jitter_samples=self._target.last_peak,
                stretched_samples=self._stretched,
            )

    @property
    def target_ms(self) -> float:
        """The current playout delay (adaptive, see ``AdaptiveTarget``)."""
        return samples_to_ms(self._target.value, self._rate)

    # ----------------------------------------------------------------- internals

    def _arrived_locked(self, response_id: str, samples: int) -> None:
        """Account an accepted chunk on the device clock; measure its lateness."""
        if response_id != self._reply:
            if self._reply is not None:
                self._reply_done_locked()
            self._reply = response_id
        # Frames handed to the device so far: the chunk is first playable at the next read.
        relative = self._stream_frames - self._reply_pos
        anchor = relative if self._reply_anchor is None else min(self._reply_anchor, relative)
        self._target.observe(relative - anchor, self._stream_frames != self._reply_frame)
        self._reply_frame = self._stream_frames
        self._reply_anchor = anchor
        if self._run_anchor is None or relative < self._run_anchor:
            self._run_anchor = relative
        self._reply_pos += samples

    def _reply_done_locked(self) -> None:
        self._target.reply_done()
        self._reply = None
        self._reply_pos = 0
        self._reply_anchor = self._run_anchor = None
        self._reply_frame = -1

    def _due_locked(self, frames: int) -> bool:
        """The queue's head is ``target`` late on the reply's fastest schedule: start. Or up to
        ``early`` sooner, if stretching the queued audio (a dry run of it, in the block or few
        before the start) can make the difference up before it has played ``_STRETCH_COVER``
        times that."""
        if self._run_anchor is None:
            return False
        head = self._reply_pos - self._buffered  # position of the head sample in the reply
        late = self._late_locked(head)
        deficit = self._target.value - late
        if deficit <= 0:
            return True
        if late < self._target.start or self._buffered < frames:
            return False
        return self._stretch_gain_locked(frames, deficit) >= deficit

    def _late_locked(self, head: int) -> int:
        """How far behind the reply's fastest schedule the sample at ``head`` plays now."""
        assert self._run_anchor is not None
        return self._stream_frames - (self._run_anchor + head)

    def _behind_locked(self, frames: int) -> int:
        """How much delay playback lacks, while it plays the reply still streaming with less
        delay than the target and a whole block queued to stretch (never a fade, a drain, or
        another reply's tail); else 0."""
        if (
            self._open_response is None
            or self._flush
            or self._fade_left
            or self._run_anchor is None
            or not self._chunks
            or self._buffered < frames
            or self._chunks[0].response_id != self._reply
        ):
            return 0
        head = self._reply_pos - self._buffered
        return max(0, self._target.value - self._late_locked(head))

    def _lag_bounds(self, frames: int) -> tuple[int, int]:
        min_lag = ms_to_samples(_STRETCH_MIN_MS, self._rate)
        return min_lag, min(frames - min_lag, ms_to_samples(_STRETCH_MAX_MS, self._rate))

    def _stretch_gain_locked(self, frames: int, deficit: int) -> int:
        """Delay that stretching the queued audio block by block would gain, up to ``deficit``,
        within ``_STRETCH_COVER * deficit`` of it (a dry run: nothing is consumed)."""
        min_lag, max_lag = self._lag_bounds(frames)
        if max_lag < min_lag:
            return 0
        x = self._peek_locked(min(self._buffered, _STRETCH_COVER * deficit + 2 * max_lag))
        pos = gain = 0
        while gain < deficit and pos + frames <= min(len(x), _STRETCH_COVER * deficit):
            window = x[pos : pos + max(frames, 2 * max_lag)]
            lag = _repeatable_period(
                window, min_lag, min(max_lag, len(window) // 2), deficit - gain
            )
            gain += lag
            pos += frames - lag
        return gain

    def _stretch_locked(self, out: memoryview, frames: int, deficit: int) -> int:
        """Fill ``out`` with the next queued samples lengthened by a pitch period ``P`` (NetEQ's
        preemptive expand): the first ``P`` samples, then a cross-fade from the samples after
        them into a repeat of the first, then on from where the repeat has got to. The queue
        advances by ``frames - P``. Returns ``P``; 0 (nothing written, nothing consumed) when no
        period repeats cleanly. Under the lock, only while behind the target: an
        autocorrelation of one block."""
        import numpy as np

        min_lag, max_lag = self._lag_bounds(frames)
        if max_lag < min_lag:
            return 0
        x = self._peek_locked(min(self._buffered, max(frames, 2 * max_lag)))
        lag = _repeatable_period(x, min_lag, min(max_lag, len(x) // 2), deficit)
        if not lag:
            return 0
        fade = min(lag, frames - lag)
        ramp = np.arange(1, fade + 1, dtype=np.float64) / (fade + 1)
        blend = x[lag : lag + fade] * (1.0 - ramp) + x[:fade] * ramp
        stretched = np.concatenate([x[:lag], blend, x[fade : frames - lag]])
        consumed = self._copy_locked(out, frames - lag)  # advances the queue and the clocks
        out[: frames * SAMPLE_WIDTH] = np.rint(stretched).astype("<i2").tobytes()
        if self._current is not None and consumed:
            # The consumed samples reach the device over the whole block.
            self._current.end_frame = self._stream_frames + frames
        self._stretched += lag
        return lag

    def _peek_locked(self, n: int) -> npt.NDArray[np.float64]:
        """The next ``n`` queued samples (as floats), not consumed."""
        import numpy as np

        raw = bytearray(n * SAMPLE_WIDTH)
        copied = 0
        for chunk in self._chunks:
            take = min(n - copied, chunk.remaining_samples)
            start = copied * SAMPLE_WIDTH
            raw[start : start + take * SAMPLE_WIDTH] = chunk.data[
                chunk.pos : chunk.pos + take * SAMPLE_WIDTH
            ]
            copied += take
            if copied == n:
                break
        return np.frombuffer(raw, dtype="<i2", count=copied).astype(np.float64)

    def _quiet_point_locked(self) -> int:
        """Samples to play before the silence of an underrun: up to and including the quietest
        of the last ``_LOW_ENERGY_WINDOW`` queued (the latest of equals), so the gap starts and
        later ends near a zero crossing. Only on the underrun path: copies 480 bytes at most."""
        import numpy as np

        total = self._buffered
        window = min(total, _LOW_ENERGY_WINDOW)
        if window < 2:
            return total
        tail = bytearray(window * SAMPLE_WIDTH)
        end = len(tail)
        for chunk in reversed(self._chunks):
            take = min(end, len(chunk.data) - chunk.pos)
            tail[end - take : end] = chunk.data[len(chunk.data) - take :]
            end -= take
            if not end:
                break
        levels = np.abs(np.frombuffer(tail, dtype="<i2").astype(np.int32))
        quietest = window - 1 - int(np.argmin(levels[::-1]))
        return total - window + quietest + 1

    def _copy_locked(self, out: memoryview, frames: int) -> int:
        copied = 0
        chunks = self._chunks
        while copied < frames and chunks:
            chunk = chunks[0]
            take = min(frames - copied, chunk.remaining_samples)
            n_bytes = take * SAMPLE_WIDTH
            start = copied * SAMPLE_WIDTH
            out[start : start + n_bytes] = chunk.data[chunk.pos : chunk.pos + n_bytes]
            chunk.pos += n_bytes
            copied += take
            clock = chunk.clock
            clock.played_to = chunk.offset + chunk.pos // SAMPLE_WIDTH
            clock.end_frame = self._stream_frames + copied
            self._current = clock
            if chunk.pos == len(chunk.data):
                chunks.popleft()
        self._buffered -= copied
        if chunks:
            self._current = chunks[0].clock
        return copied

    def _fade_tail(
        self, chunks: deque[_Chunk], fade: int, response_id: str | None
    ) -> deque[_Chunk]:
        """The queue without the cut chunks (``response_id``'s, or all if None), except a fade
        tail of up to ``fade`` samples taken from the playing head. Lock held."""
        kept: deque[_Chunk] = deque()
        rest = iter(chunks)
        if self._fade_left:
            # A fade is already running and its tail chunks are at the head: keep them and the
            # ramp as they are (restarting it would jump the volume back up).
            running_tail = 0
            for chunk in rest:
                kept.append(chunk)
                running_tail += chunk.remaining_samples
                if running_tail >= self._fade_left:
                    break
            fade = 0
        elif not self._playing:
            fade = 0  # nothing audible yet: nothing to fade
        tail = 0
        at_head = not kept
        for chunk in rest:
            if response_id is not None and chunk.response_id != response_id:
                kept.append(chunk)
                at_head = False
            elif at_head and tail < fade:
                take = min(fade - tail, chunk.remaining_samples)
                data = chunk.data[chunk.pos : chunk.pos + take * SAMPLE_WIDTH]
                offset = chunk.offset + chunk.pos // SAMPLE_WIDTH
                kept.append(_Chunk(data, chunk.clock, offset))
                tail += take
            elif response_id is None:
                break  # cutting everything and the tail is complete: no need to scan on
        if tail:
            self._fade_left = self._fade_len = tail
        return kept

    @staticmethod
    def _merged_with(
        tail: _Chunk | None, pcm: bytes, clock: _ItemClock, offset: int
    ) -> memoryview | None:
        """The tail's data with ``pcm`` appended, if both are small and ``pcm`` continues it
        (same item and response, no gap); else None. Unlocked: only the writer replaces a
        chunk's data, and the reader never changes it."""
        if (
            tail is None
            or len(pcm) >= _MERGE_BELOW_BYTES
            or len(tail.data) >= _MERGE_BELOW_BYTES
            or tail.clock is not clock
            or tail.response_id != clock.response_id
            or tail.offset + len(tail.data) // SAMPLE_WIDTH != offset
        ):
            return None
        return memoryview(bytes(tail.data) + pcm).cast("B")

    def _count_overflow(self, response_id: str, samples: int) -> None:
        self._overflowed[response_id] = self._overflowed.get(response_id, 0) + samples
        if len(self._overflowed) > _MAX_REMEMBERED_DROPS:
            # Only a peer that never ends its responses gets here; the totals in ``stats``
            # still count every refused sample.
            del self._overflowed[next(iter(self._overflowed))]

    def _remember_dropped(self, response_id: str) -> None:
        self._dropped[response_id] = None
        if len(self._dropped) > _MAX_REMEMBERED_DROPS:
            del self._dropped[next(iter(self._dropped))]

    def _silence_bytes(self, n_bytes: int) -> memoryview:
        # Grown on the rare larger block, so steady-state reads never allocate silence.
        if len(self._silence) < n_bytes:
            self._silence = bytes(n_bytes)
        return memoryview(self._silence)[:n_bytes]


def _apply_fade(out: memoryview, start: int, count: int, length: int) -> None:
    """Scale the first ``count`` samples by a linear ramp: sample ``start + i`` of a
    ``length``-sample fade gets gain ``1 - (start + i + 1) / length`` (the last one is 0)."""
    import numpy as np

    samples = np.frombuffer(out, dtype="<i2", count=count)
    gains = 1.0 - (np.arange(start + 1, start + count + 1, dtype=np.float32) / length)
    samples[:] = (samples * gains).astype("<i2")


def _repeatable_period(x: npt.NDArray[np.float64], min_lag: int, max_lag: int, wanted: int) -> int:
    """A lag in ``min_lag..max_lag`` at which ``x`` repeats itself: a pitch period or a few of
    them (a local maximum of the normalised autocorrelation within 0.05 of the best, the best
    at least ``_STRETCH_MIN_CORRELATION``), the shortest that gains ``wanted`` if one does,
    else the longest. Near silence: the lag nearest ``wanted``. 0 when nothing repeats
    (noise-like sound, an onset)."""
    import numpy as np

    n = len(x)
    if max_lag < min_lag or n < 2 * min_lag:
        return 0
    energy = np.concatenate([[0.0], np.cumsum(x * x)])  # energy[i] = sum of x[:i] squared
    if energy[-1] < n * _STRETCH_QUIET_RMS**2:
        return min(max(wanted, min_lag), max_lag)
    span = n - max_lag  # x[:span] against x[k : k + span] for every lag k
    lags = np.arange(min_lag, max_lag + 1)
    shifted = np.lib.stride_tricks.sliding_window_view(x[min_lag:], span)[: len(lags)]
    corr = shifted @ x[:span]
    ncc = corr / np.sqrt(np.maximum(energy[span] * (energy[lags + span] - energy[lags]), 1e-9))
    best = float(ncc.max())
    if best < _STRETCH_MIN_CORRELATION:
        return 0
    left = np.concatenate([[-np.inf], ncc[:-1]])
    right = np.concatenate([ncc[1:], [-np.inf]])
    peaks = lags[(ncc >= left) & (ncc >= right) & (ncc >= best - 0.05)]
    enough = peaks[peaks >= wanted]
    return int(enough[0] if len(enough) else peaks[-1])
