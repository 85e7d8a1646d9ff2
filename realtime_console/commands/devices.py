"""``devices``: list audio devices and whether each opens at 24 kHz mono; ``--test`` is the audio
doctor (``audio/check.py``): probe, echo, latencies, levels, hints and a verdict."""

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
        help="audio doctor: open the devices as `talk` does, play a short probe and record it; "
        "report latency, echo (and what echo cancellation leaves of it), noise, clipping, hints "
        "and a verdict",
    )
    parser.add_argument(
        "--json", action="store_true", help="with --test: print the report as one JSON object"
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
    as_json = args.test and args.json
    if not as_json:
        print(render_devices(found))
    if args.test:
        import asyncio
        import json

        from realtime_console.audio.check import check_devices
        from realtime_console.audio.devices import device_name

        input_device = args.input_device or settings.audio.input_device
        output_device = args.output_device or settings.audio.output_device
        check = asyncio.run(
            check_devices(
                input_device=input_device,
                output_device=output_device,
                names=(device_name(input_device, "input"), device_name(output_device, "output")),
                block_ms=settings.audio.block_ms,
                output_latency=settings.audio.output_latency,
                aec_engine=settings.audio.aec_engine,
            )
        )
        if as_json:
            print(json.dumps(check.as_json(), indent=2))
        else:
            print()
            print("\n".join(check.lines()))
    return 0
