"""A laptop on a test clock, for tests and benchmarks: the real ``Speaker`` and ``Microphone`` on
the package's fake streams, joined by a simulated echo path (``fakestream.EchoCoupling``), with
the speaker's far-end tap, advanced in step: 20 ms speaker blocks, 100 ms microphone blocks (what
``talk`` opens). Time is the fakes' clock, so minutes of conversation run in seconds.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from realtime_console.audio.echo.path import EchoPathSpec
from realtime_console.audio.echo.reference import FarEndTap
from realtime_console.audio.fakestream import (
    CallbackQuirks,
    EchoCoupling,
    FakeInputStream,
    FakeOutputStream,
)
from realtime_console.audio.microphone import MicBlock, Microphone
from realtime_console.audio.speaker import Speaker
from realtime_console.protocol.pcm import float32_to_pcm16

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from realtime_console.audio.echo.stage import EchoStage

SPEAKER_BLOCKS_PER_MIC_BLOCK = 5  # 20 ms and 100 ms
SPEAKER_LEAD_BLOCKS = 3


@dataclass(frozen=True)
class Captured:
    block: MicBlock
    sent: bytes | None  # what the echo stage let out; None: held back by the guard

    @property
    def raw(self) -> bytes:
        return self.block.pcm


def joined(captured: list[Captured], *, raw: bool = False) -> bytes:
    """The microphone audio (``raw``) or what was sent, a held block as silence."""
    return b"".join(c.raw if raw else c.sent or bytes(len(c.raw)) for c in captured)


class SimulatedLaptop:
    """Call ``start()`` on the event loop, ``play``/``talk``, then ``await run(seconds, stage)``.

    ``speaker_quirks``/``mic_quirks``: when the devices call back (``CallbackQuirks``: doubled
    and late callbacks); ``speaker_stream.underflow``/``mic_stream.overflow`` between runs make
    a device lose periods."""

    def __init__(
        self,
        spec: EchoPathSpec | None = None,
        *,
        speaker_quirks: CallbackQuirks | None = None,
        mic_quirks: CallbackQuirks | None = None,
    ) -> None:
        self.speaker_quirks = speaker_quirks
        self.mic_quirks = mic_quirks
        self.coupling = EchoCoupling(spec)
        self.tap = FarEndTap()
        self.outputs: list[FakeOutputStream] = []
        self.inputs: list[FakeInputStream] = []
        # "low" latency: a laptop's sound system reports 10-30 ms each way.
        self.speaker = Speaker(
            prebuffer_ms=0,
            block_ms=20,
            stream_factory=self._output,
            far_end=self.tap,
            latency="low",
        )
        self.mic = Microphone(
            block_ms=100, stream_factory=self._input, queue_blocks=1000, latency="low"
        )

    def _output(self, **kwargs: Any) -> FakeOutputStream:
        stream = FakeOutputStream(
            **kwargs, echo=self.coupling, record=False, quirks=self.speaker_quirks
        )
        self.outputs.append(stream)
        return stream

    def _input(self, **kwargs: Any) -> FakeInputStream:
        stream = FakeInputStream(**kwargs, echo=self.coupling, record=False, quirks=self.mic_quirks)
        self.inputs.append(stream)
        return stream

    @property
    def speaker_stream(self) -> FakeOutputStream:
        return self.outputs[0]

    @property
    def mic_stream(self) -> FakeInputStream:
        return self.inputs[0]

    def start(self) -> None:
        self.speaker.start()
        self.mic.start()

    def close(self) -> None:
        self.mic.close()
        self.speaker.close(discard=True)

    def play(self, pcm: bytes, response_id: str = "resp_1") -> None:
        """The assistant's reply, queued on the speaker in one go (as the service streams it)."""
        self.speaker.enqueue(pcm, response_id, f"item_{response_id}")
        self.speaker.end_response(response_id)

    def talk(self, samples: npt.NDArray[np.float32]) -> None:
        """The user's voice at the microphone from now on (the echo adds to it)."""
        import numpy as np

        self.inputs[0].feed(np.frombuffer(float32_to_pcm16(samples), dtype="<i2"))

    async def run(self, seconds: float, stage: EchoStage | None = None) -> list[Captured]:
        """Advance ``seconds`` in 100 ms steps; each microphone block and, with a ``stage``, what
        it let out right then (the tap keeps only the last 2 s of playback)."""
        got: list[Captured] = []
        if self.outputs[0].frames == 0:
            # A real speaker runs ahead of the microphone by its buffer: so the reference for
            # each microphone block (which the stage reads a little ahead) is always there.
            self.outputs[0].advance(SPEAKER_LEAD_BLOCKS)
        for _ in range(round(seconds * 10)):
            self.outputs[0].advance(SPEAKER_BLOCKS_PER_MIC_BLOCK)
            self.inputs[0].advance(1)
            await asyncio.sleep(0)  # the callback's call_soon_threadsafe delivery
            while self.mic.queued:
                block = await self.mic.read_timed()
                if block is None:
                    break
                sent = stage.process_now(block.pcm, block.start_time) if stage else block.pcm
                got.append(Captured(block, sent))
        return got
