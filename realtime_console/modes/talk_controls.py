"""What a renderer (keys, buttons) can ask of a running ``talk``: the ``TalkControls`` of ui/view.

Calls come from the UI on the event-loop thread (Textual runs in the loop; the plain key reader
hands its keys over with ``call_soon_threadsafe``) and only queue a command: the talk loop does
the sending. The queue is bounded; a key pressed while it is full (the loop is stuck) is dropped
and counted, except quit, which is a flag and always gets through.
"""

from __future__ import annotations

import asyncio
import enum


class Command(enum.Enum):
    TOGGLE_MUTE = "toggle_mute"
    PTT_DOWN = "ptt_down"
    PTT_UP = "ptt_up"


class TalkCommands:
    """Implements ``TalkControls``; the talk loop consumes ``next()`` and waits on ``quitting``."""

    def __init__(self, maxsize: int = 32) -> None:
        self._queue: asyncio.Queue[Command] = asyncio.Queue(maxsize)
        self._quit: asyncio.Event | None = None
        self._quit_requested = False
        self.dropped = 0

    # ------------------------------------------------------------------ TalkControls

    def toggle_mute(self) -> None:
        self._put(Command.TOGGLE_MUTE)

    def push_to_talk(self, pressed: bool) -> None:
        self._put(Command.PTT_DOWN if pressed else Command.PTT_UP)

    def quit(self) -> None:
        self._quit_requested = True
        if self._quit is not None:
            self._quit.set()

    # ------------------------------------------------------------------ the talk loop's side

    @property
    def quit_requested(self) -> bool:
        return self._quit_requested

    async def wait_quit(self) -> None:
        if self._quit is None:
            self._quit = asyncio.Event()
            if self._quit_requested:
                self._quit.set()
        await self._quit.wait()

    async def next(self) -> Command:
        return await self._queue.get()

    def _put(self, command: Command) -> None:
        try:
            self._queue.put_nowait(command)
        except asyncio.QueueFull:
            self.dropped += 1
