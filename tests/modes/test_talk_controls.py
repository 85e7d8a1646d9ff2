from __future__ import annotations

import asyncio

from realtime_console.modes.talk_controls import Command, TalkCommands
from realtime_console.ui.view import TalkControls


async def test_keys_become_commands_in_order() -> None:
    controls: TalkControls = TalkCommands()
    controls.toggle_mute()
    controls.push_to_talk(True)
    controls.push_to_talk(False)
    assert isinstance(controls, TalkCommands)
    got = [await controls.next() for _ in range(3)]
    assert got == [Command.TOGGLE_MUTE, Command.PTT_DOWN, Command.PTT_UP]


async def test_the_queue_is_bounded_and_overflow_is_counted_not_blocking() -> None:
    controls = TalkCommands(maxsize=4)
    for _ in range(10):
        controls.toggle_mute()
    assert controls.dropped == 6
    assert [await controls.next() for _ in range(4)] == [Command.TOGGLE_MUTE] * 4


async def test_quit_gets_through_even_when_the_queue_is_full_and_before_anyone_waits() -> None:
    controls = TalkCommands(maxsize=1)
    controls.toggle_mute()
    controls.toggle_mute()
    controls.quit()
    assert controls.quit_requested
    await asyncio.wait_for(controls.wait_quit(), 1)


async def test_quit_wakes_a_waiting_loop() -> None:
    controls = TalkCommands()
    waiter = asyncio.ensure_future(controls.wait_quit())
    await asyncio.sleep(0)
    assert not waiter.done()
    controls.quit()
    await asyncio.wait_for(waiter, 1)
