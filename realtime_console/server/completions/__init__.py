"""The local server's audio chat-completions routes (``/v1/chat/completions`` and Azure's).

- ``rules``       request validation (pure): body → ``ChatRequest`` or the service's error
- ``input_audio`` input audio parts: base64, size limit, really WAV/MP3 (decoded with ``codec``)
- ``audio_store`` reply audio ids → transcript, until they expire (injectable clock, bounded)
- ``reply``       the deterministic reply text
- ``usage``       token usage estimates
- ``build``       the ``ChatCompletion`` and the paced ``ChatCompletionChunk`` plan (pure)
- ``errors``      ``HttpError`` and the service's error body
- ``routes``      the aiohttp handlers; ``add_routes`` registers them on the app

See docs/local-server.md, "Audio chat completions".
"""

from __future__ import annotations

from realtime_console.server.completions.routes import CHAT_ROUTES, MAX_BODY_BYTES, add_routes

__all__ = ["CHAT_ROUTES", "MAX_BODY_BYTES", "add_routes"]
