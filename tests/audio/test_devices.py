from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from realtime_console.audio import devices
from realtime_console.audio.devices import AudioDevice, has_output_device, list_devices
from realtime_console.audio.devices import resolve_device as resolve
from realtime_console.errors import AudioDeviceError


class PortAudioError(Exception):
    """Stands in for sounddevice.PortAudioError (matched by name)."""


def _device(index: int, name: str, n_in: int, n_out: int, hostapi: int = 0) -> dict[str, Any]:
    return {
        "name": name,
        "index": index,
        "hostapi": hostapi,
        "max_input_channels": n_in,
        "max_output_channels": n_out,
        "default_samplerate": 48000.0,
    }


MACHINE = [
    _device(0, "HDA Intel PCH: ALC257 Analog (hw:0,0)", 2, 2),
    _device(1, "HDA Intel PCH: HDMI 0 (hw:0,3)", 0, 8),
    _device(2, "pulse", 32, 32, hostapi=1),
    _device(3, "PulseAudio Monitor", 0, 2, hostapi=1),
    _device(4, "USB Headset Mic", 1, 0),
    _device(5, "USB Headset", 0, 2),
]


def fake_sounddevice(
    raw_devices: Sequence[dict[str, Any]] = MACHINE,
    *,
    no_24k: Sequence[int] = (),
    query_error: bool = False,
) -> SimpleNamespace:
    """A stand-in module with the slice of the sounddevice API that devices.py uses."""

    def query_devices() -> list[dict[str, Any]]:
        if query_error:
            raise PortAudioError("Error querying host API -9999")
        return list(raw_devices)

    def check(device: int, channels: int, dtype: str, samplerate: float) -> None:
        assert (channels, dtype, samplerate) == (1, "int16", 24_000)
        if device in no_24k:
            raise PortAudioError("Invalid sample rate [PaErrorCode -9997]")

    return SimpleNamespace(
        query_devices=query_devices,
        query_hostapis=lambda: ({"name": "ALSA"}, {"name": "PulseAudio"}),
        check_input_settings=check,
        check_output_settings=check,
        default=SimpleNamespace(device=[2, 2]),
        PortAudioError=PortAudioError,
    )


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "import_sounddevice", lambda: fake_sounddevice(no_24k=[1]))


@pytest.mark.usefixtures("machine")
def test_list_devices_describes_each_device_and_its_24k_mono_support() -> None:
    listed = list_devices()
    assert [d.index for d in listed] == [0, 1, 2, 3, 4, 5]
    assert listed[1] == AudioDevice(
        index=1,
        name="HDA Intel PCH: HDMI 0 (hw:0,3)",
        host_api="ALSA",
        max_input_channels=0,
        max_output_channels=8,
        default_samplerate=48000.0,
        input_ok=False,
        output_ok=False,  # the check said no
    )
    pulse = listed[2]
    assert (pulse.host_api, pulse.input_ok, pulse.output_ok) == ("PulseAudio", True, True)
    assert pulse.is_default_input and pulse.is_default_output
    assert (listed[4].input_ok, listed[4].output_ok) == (True, False)  # input-only device
    assert not any(d.input_ok or d.output_ok for d in list_devices(check_formats=False))


@pytest.mark.usefixtures("machine")
def test_resolve_by_index() -> None:
    assert resolve("3", "output") == 3
    assert resolve(4, "input") == 4
    assert resolve(" 0 ", "input") == 0


@pytest.mark.usefixtures("machine")
def test_resolve_by_case_insensitive_name_substring() -> None:
    assert resolve("hdmi", "output") == 1
    assert resolve("usb headset", "input") == 4  # the only input device with that name
    assert resolve("USB HEADSET", "output") == 5
    assert resolve("monitor", "output") == 3


@pytest.mark.usefixtures("machine")
def test_an_exact_name_beats_a_substring_match() -> None:
    assert resolve("PULSE", "output") == 2  # also a substring of "PulseAudio Monitor"


@pytest.mark.usefixtures("machine")
def test_none_or_blank_means_the_default_device() -> None:
    assert resolve(None, "output") is None
    assert resolve("  ", "input") is None


@pytest.mark.usefixtures("machine")
def test_ambiguous_name_names_the_candidates() -> None:
    with pytest.raises(AudioDeviceError) as caught:
        resolve("hda intel", "output")
    message = str(caught.value)
    assert "ambiguous" in message
    assert "0: HDA Intel PCH: ALC257 Analog (hw:0,0) (ALSA)" in message
    assert "1: HDA Intel PCH: HDMI 0 (hw:0,3) (ALSA)" in message


@pytest.mark.usefixtures("machine")
def test_no_match_lists_the_devices_of_that_kind() -> None:
    with pytest.raises(AudioDeviceError, match="no input device matches 'hdmi'") as caught:
        resolve("hdmi", "input")
    assert "4: USB Headset Mic" in str(caught.value)
    assert "HDMI" not in str(caught.value).split(";", 1)[1]  # output-only devices not offered


@pytest.mark.usefixtures("machine")
def test_index_of_the_wrong_kind_or_missing_is_an_error() -> None:
    with pytest.raises(AudioDeviceError, match="no input device with index 1"):
        resolve("1", "input")
    with pytest.raises(AudioDeviceError, match="no output device with index 42"):
        resolve(42, "output")


def test_has_output_device_is_false_when_portaudio_cannot_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_portaudio() -> Any:
        raise AudioDeviceError("PortAudio library not found")

    monkeypatch.setattr(devices, "import_sounddevice", no_portaudio)
    assert has_output_device() is False


def test_has_output_device_is_false_when_the_query_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "import_sounddevice", lambda: fake_sounddevice(query_error=True))
    assert has_output_device() is False
    problem = devices.output_device_problem()
    assert problem is not None and problem.startswith("PortAudio cannot list devices (")


def test_has_output_device_is_false_with_only_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    inputs_only = [_device(0, "mic", 1, 0)]
    monkeypatch.setattr(devices, "import_sounddevice", lambda: fake_sounddevice(inputs_only))
    assert has_output_device() is False
    assert devices.output_device_problem() == "PortAudio is installed but sees no output device"


@pytest.mark.usefixtures("machine")
def test_has_output_device_is_true_with_an_output() -> None:
    assert has_output_device() is True


def test_a_failing_query_is_an_audio_device_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "import_sounddevice", lambda: fake_sounddevice(query_error=True))
    with pytest.raises(AudioDeviceError, match="cannot list audio devices: Error querying"):
        list_devices()


class _RefuseSoundDevice(importlib.abc.MetaPathFinder):
    """Makes ``import sounddevice`` fail the way it does on a machine without PortAudio."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "sounddevice":
            raise self.error
        return None


@pytest.mark.parametrize(
    "error, expected",
    [
        (OSError("PortAudio library not found"), "PortAudio library not found: install it"),
        (ImportError("No module named 'sounddevice'"), "sounddevice package is not installed"),
    ],
)
def test_import_failures_become_one_line_audio_device_errors(
    monkeypatch: pytest.MonkeyPatch, error: Exception, expected: str
) -> None:
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_RefuseSoundDevice(error), *sys.meta_path])
    with pytest.raises(AudioDeviceError, match=expected) as caught:
        devices.import_sounddevice()
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code == 2


def test_no_default_device_on_both_sides_is_said_once() -> None:
    output = devices.open_failure("output", None, RuntimeError("Error querying device -1"))
    mic = devices.open_failure("input", None, RuntimeError("Error querying device -1"))
    assert isinstance(output, devices.NoDefaultDevice) and isinstance(mic, devices.NoDefaultDevice)
    assert str(output.merged(mic)).startswith("no default output or input device (none is")
    named = devices.open_failure("output", 3, RuntimeError("Invalid sample rate"))
    assert str(named) == "cannot open 3 output device: Invalid sample rate"
