"""``devices``: list audio devices and whether each opens at 24 kHz mono."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from realtime_console.redact import Redactor

if TYPE_CHECKING:
    from realtime_console.config import Settings


ORDER = 60


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "devices",
        help="list audio devices and whether each can do 24 kHz mono",
        description="List PortAudio devices; use the index or a name substring with "
        "audio.output_device / audio.input_device.",
    )
    parser.add_argument(
        "--test",
        action="store_true",
        help="open the input and output devices as `talk` does: play a tone, listen for a second",
    )
    parser.add_argument("--input-device", metavar="D", help="with --test: microphone to test")
    parser.add_argument("--output-device", metavar="D", help="with --test: speaker to test")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    from realtime_console.audio.devices import list_devices
    from realtime_console.errors import AudioDeviceError
    from realtime_console.ui.devices_table import render_devices

    found = list_devices()
    if not found:
        raise AudioDeviceError("PortAudio reports no audio devices (try `chat --no-playback`)")
    print(render_devices(found))
    if args.test:
        import asyncio

        from realtime_console.audio.check import check_devices

        check = asyncio.run(
            check_devices(
                input_device=args.input_device or settings.audio.input_device,
                output_device=args.output_device or settings.audio.output_device,
            )
        )
        print()
        print("\n".join(check.lines()))
    return 0
