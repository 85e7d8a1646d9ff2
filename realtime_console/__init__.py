"""realtime-console: a terminal console for the OpenAI / Azure OpenAI Realtime API."""

# The single source of the version (pyproject reads it), kept static so that ``--help`` does not
# pay for importlib.metadata.
__version__ = "0.1.0"

__all__ = ["__version__"]
