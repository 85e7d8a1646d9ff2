"""realtime-console: a terminal console for the OpenAI / Azure OpenAI Realtime API."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("realtime-console")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
