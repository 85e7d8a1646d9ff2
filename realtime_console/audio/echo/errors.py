"""The echo package's one error: its optional library is not installed."""

from __future__ import annotations

from realtime_console.errors import AudioDeviceError

EXTRA = "aec"


class EchoCancellerUnavailable(AudioDeviceError):
    """Echo cancellation was asked for but its library is missing (exit 2: a local fix)."""

    @classmethod
    def missing(cls, package: str, exc: ImportError) -> EchoCancellerUnavailable:
        # ImportError's own text can span lines (a broken shared library): keep its first one.
        detail = (str(exc).splitlines() or [type(exc).__name__])[0]
        return cls(
            f"echo cancellation needs the optional package {package} ({detail}): "
            f"pip install 'realtime-console[{EXTRA}]'"
        )
