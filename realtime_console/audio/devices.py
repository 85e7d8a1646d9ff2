"""Audio device discovery and selection, and the one lazy import of ``sounddevice``.

``import sounddevice`` raises ``OSError`` when the PortAudio library is missing, so nothing here
imports it at module level: ``--help``, ``chat --no-playback`` and replay work without PortAudio.
Every function goes through ``import_sounddevice()`` (tests replace it to simulate a machine
without PortAudio, or with a made-up device list).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from realtime_console.errors import AudioDeviceError
from realtime_console.protocol.pcm import CHANNELS, SAMPLE_RATE

DeviceKind = Literal["input", "output"]
STREAM_DTYPE = "int16"  # the Realtime API's PCM16, end to end


@dataclass(frozen=True)
class AudioDevice:
    """One PortAudio device, and whether it opens for the API's 24 kHz mono PCM16."""

    index: int
    name: str
    host_api: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    input_ok: bool  # 24 kHz mono int16 input is supported (False if not checked)
    output_ok: bool  # 24 kHz mono int16 output is supported (False if not checked)
    is_default_input: bool = False
    is_default_output: bool = False

    @property
    def label(self) -> str:
        return f"{self.index}: {self.name} ({self.host_api})"

    def channels(self, kind: DeviceKind) -> int:
        return self.max_input_channels if kind == "input" else self.max_output_channels


class StreamLike(Protocol):
    """The control surface every sounddevice stream (and the fakes) offers; speaker and
    microphone each add what they read from it."""

    @property
    def active(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def abort(self) -> None: ...

    def close(self) -> None: ...


def import_sounddevice() -> Any:
    """The ``sounddevice`` module, imported on first use; AudioDeviceError if it cannot load."""
    try:
        import sounddevice
    except OSError:  # sounddevice's own signal that libportaudio could not be loaded
        raise AudioDeviceError(
            "PortAudio library not found: install it (e.g. apt-get install libportaudio2) "
            "to use audio devices"
        ) from None
    except ImportError:
        raise AudioDeviceError("the sounddevice package is not installed") from None
    return sounddevice


def is_portaudio_error(exc: BaseException) -> bool:
    """True for ``sounddevice.PortAudioError`` (matched by name: sounddevice may not load)."""
    return any(cls.__name__ == "PortAudioError" for cls in type(exc).__mro__)


def one_line(exc: BaseException) -> str:
    """An exception's message folded onto one line, for AudioDeviceError texts."""
    return " ".join(str(exc).split()) or type(exc).__name__


class NoDefaultDevice(AudioDeviceError):
    """PortAudio has no default device of these kinds (nothing plugged in, no sound server)."""

    def __init__(self, kinds: tuple[DeviceKind, ...], detail: str) -> None:
        self.kinds, self.detail = kinds, detail
        super().__init__(
            f"no default {' or '.join(kinds)} device (none is plugged in or the sound server "
            f"is not running; PortAudio: {detail})"
        )

    def merged(self, other: NoDefaultDevice) -> NoDefaultDevice:
        """One line for both sides: a machine without sound has neither."""
        return NoDefaultDevice((*self.kinds, *other.kinds), self.detail)


def open_failure(kind: DeviceKind, device: int | str | None, exc: Exception) -> AudioDeviceError:
    """The one line for a stream that would not open, in words rather than PortAudio's codes.

    PortAudio's own text stays at the end, for searching; its most common case, device -1 (no
    default device: nothing plugged in, or no sound server running), is said plainly.
    """
    detail = one_line(exc)
    if device is None and "device -1" in detail:
        return NoDefaultDevice((kind,), detail)
    which = "default" if device is None else repr(device)
    return AudioDeviceError(f"cannot open {which} {kind} device: {detail}")


def list_devices(*, check_formats: bool = True) -> list[AudioDevice]:
    """Every device PortAudio knows; with ``check_formats``, probe 24 kHz mono int16 support."""
    sd = import_sounddevice()
    try:
        raw_devices = list(sd.query_devices())
        host_apis = [str(api["name"]) for api in sd.query_hostapis()]
    except Exception as exc:
        if not is_portaudio_error(exc):
            raise
        raise AudioDeviceError(f"cannot list audio devices: {one_line(exc)}") from None
    default_in, default_out = _default_devices(sd)
    devices = []
    for position, raw in enumerate(raw_devices):
        index = int(raw.get("index", position))
        n_in, n_out = int(raw["max_input_channels"]), int(raw["max_output_channels"])
        host = int(raw["hostapi"])
        devices.append(
            AudioDevice(
                index=index,
                name=str(raw["name"]),
                host_api=host_apis[host] if 0 <= host < len(host_apis) else f"host API {host}",
                max_input_channels=n_in,
                max_output_channels=n_out,
                default_samplerate=float(raw["default_samplerate"]),
                input_ok=check_formats and n_in > 0 and _opens(sd.check_input_settings, index),
                output_ok=check_formats and n_out > 0 and _opens(sd.check_output_settings, index),
                is_default_input=index == default_in,
                is_default_output=index == default_out,
            )
        )
    return devices


def resolve_device(spec: str | int | None, kind: DeviceKind) -> int | None:
    """A device index from an index or a case-insensitive name substring; None = the default.

    An exact (case-insensitive) name wins over substrings. No match, an ambiguous name, or an
    index that is not a device of that kind raise AudioDeviceError naming the candidates.
    """
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return None
    candidates = [d for d in list_devices(check_formats=False) if d.channels(kind) > 0]
    if isinstance(spec, int) or spec.strip().isdigit():
        index = int(spec)
        if any(d.index == index for d in candidates):
            return index
        raise AudioDeviceError(
            f"no {kind} device with index {index}; {kind} devices: {_labels(candidates)}"
        )
    wanted = spec.strip().casefold()
    matches = [d for d in candidates if d.name.casefold() == wanted]
    if not matches:
        matches = [d for d in candidates if wanted in d.name.casefold()]
    if len(matches) == 1:
        return matches[0].index
    if not matches:
        raise AudioDeviceError(
            f"no {kind} device matches {spec!r}; {kind} devices: {_labels(candidates)}"
        )
    raise AudioDeviceError(
        f"{kind} device {spec!r} is ambiguous, it matches {_labels(matches)}; "
        "give its index or more of its name"
    )


def has_output_device() -> bool:
    """Whether any output device exists; False (never an exception) without PortAudio."""
    return output_device_problem() is None


def output_device_problem() -> str | None:
    """Why there is no speaker to play to (phrased to follow "no audio output device: "), or
    None when an output device exists. Never raises: each cause is only named."""
    try:
        sd = import_sounddevice()
    except AudioDeviceError as exc:
        return str(exc)
    try:
        if any(int(raw["max_output_channels"]) > 0 for raw in sd.query_devices()):
            return None
    except Exception as exc:  # a broken host API: PortAudio loads but cannot list
        return f"PortAudio cannot list devices ({one_line(exc)})"
    return "PortAudio is installed but sees no output device"


def device_name(spec: str | int | None, kind: DeviceKind) -> str | None:
    """The name of the device ``spec`` picks (None: the default), or None when it cannot be
    told (no PortAudio, no such device). Never raises: only hints depend on it."""
    try:
        sd = import_sounddevice()
        index = resolve_device(spec, kind)
        return str(sd.query_devices(index, kind)["name"])
    except Exception:  # AudioDeviceError, PortAudioError, a broken host API: no name, no hint
        return None


def output_device_name(spec: str | int | None) -> str | None:
    return device_name(spec, "output")


def _opens(check: Any, index: int) -> bool:
    try:
        check(device=index, channels=CHANNELS, dtype=STREAM_DTYPE, samplerate=SAMPLE_RATE)
    except Exception:  # PortAudioError or ValueError: either way this format does not open
        return False
    return True


def _default_devices(sd: Any) -> tuple[int | None, int | None]:
    try:
        default_in, default_out = sd.default.device
    except Exception:
        return None, None
    as_index = [d if isinstance(d, int) and d >= 0 else None for d in (default_in, default_out)]
    return as_index[0], as_index[1]


def _labels(devices: list[AudioDevice]) -> str:
    return ", ".join(d.label for d in devices) if devices else "none"
