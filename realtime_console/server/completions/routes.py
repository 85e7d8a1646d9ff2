"""The aiohttp handlers of the chat-completions routes; everything they decide is elsewhere.

A request goes: auth (the app's check, shared with the Realtime routes) → ``api-version`` on
the Azure deployments path → injected HTTP fault, if any → body (413 above ``MAX_BODY_BYTES``)
→ ``rules`` (in a worker thread: input audio is decoded) → audio references resolved against
the ``AudioStore`` → ``reply`` text → speech (the app's synthesizer) and, for a whole reply,
``codec.encode`` (worker thread too) → ``build``'s completion or paced chunk stream.

A whole (non-streamed) reply is answered when its stream would have ended, so a client sees
the same generation time either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from realtime_console.audio import codec
from realtime_console.protocol.pcm import SAMPLE_RATE, encode_b64
from realtime_console.server.completions import build, rules
from realtime_console.server.completions.audio_store import AudioStore
from realtime_console.server.completions.errors import (
    HttpError,
    error_body,
    headers_of,
    status_of,
)
from realtime_console.server.completions.reply import reply_text
from realtime_console.server.completions.usage import usage
from realtime_console.server.faults import http_fault
from realtime_console.server.options import ServerOptions
from realtime_console.server.service_errors import ServiceError
from realtime_console.server.voice import Speech, SpeechSynthesizer

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 32 * 1024 * 1024  # the app's client_max_size: larger bodies get 413
_STALL_POLL_S = 0.05  # how often a stalled stream looks whether its client has gone

Authorize = Callable[[web.Request], web.Response | None]


@dataclass(frozen=True)
class Route:
    needs_api_version: bool  # Azure's deployments path
    deployment_in_path: bool  # the model is the URL's deployment, not the body's


CHAT_ROUTES: Mapping[str, Route] = {
    "/v1/chat/completions": Route(needs_api_version=False, deployment_in_path=False),
    "/openai/v1/chat/completions": Route(needs_api_version=False, deployment_in_path=False),
    "/openai/deployments/{deployment}/chat/completions": Route(
        needs_api_version=True, deployment_in_path=True
    ),
}


def add_routes(
    app: web.Application,
    *,
    options: ServerOptions,
    synthesizer: SpeechSynthesizer,
    authorize: Authorize,
    clock: Callable[[], float] = time.time,
) -> ChatCompletions:
    """Register the routes on ``app``; ``clock`` (unix seconds) drives ``created`` and expiry."""
    service = ChatCompletions(options, synthesizer, authorize, clock)
    for path, route in CHAT_ROUTES.items():
        app.router.add_post(path, service.handler(route))
    app.on_shutdown.append(service.shutdown)
    return service


class ChatCompletions:
    """The routes' shared state: the audio store, the request count (for faults)."""

    def __init__(
        self,
        options: ServerOptions,
        synthesizer: SpeechSynthesizer,
        authorize: Authorize,
        clock: Callable[[], float],
    ) -> None:
        self.options = options
        self.store = AudioStore(options.audio_ttl_s, clock=clock)
        self.requests = 0  # that passed auth, for http_status= / http_errors=
        self._synthesizer = synthesizer
        self._authorize = authorize
        self._clock = clock
        self._closing = asyncio.Event()

    def handler(self, route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            refusal = self._authorize(request)
            if refusal is not None:
                return refusal
            request_id = "req_" + secrets.token_hex(16)
            try:
                return await self._serve(request, route, request_id)
            except ServiceError as error:
                headers = {**headers_of(error), "x-request-id": request_id}
                return web.json_response(
                    error_body(error), status=status_of(error), headers=headers
                )

        return handle

    async def shutdown(self, app: web.Application) -> None:
        self._closing.set()  # stalled streams end, instead of holding shutdown up

    async def _serve(
        self, request: web.Request, route: Route, request_id: str
    ) -> web.StreamResponse:
        if route.needs_api_version and not request.query.get("api-version"):
            raise rules.missing_api_version()
        self.requests += 1
        fault = http_fault(self.options.faults, self.requests)
        if fault is not None:
            raise HttpError(
                fault.status,
                fault.body["error"]["code"],
                fault.body["error"]["message"],
                error_type=fault.body["error"]["type"],
                headers=fault.headers,
            )
        raw = await _read_body(request)
        deployment = request.match_info["deployment"] if route.deployment_in_path else None
        chat = await asyncio.to_thread(rules.parse_request, raw, deployment=deployment)
        turns = rules.resolve_references(chat.turns, self.store.get)
        text = reply_text(turns)
        speech: Speech | None = None
        if chat.audio_out:
            assert chat.voice is not None
            speech = await asyncio.to_thread(self._synthesizer.synthesize, text, voice=chat.voice)
        output_s = speech.sample_count / SAMPLE_RATE if speech is not None else None
        stored = self.store.add(text, output_s) if output_s is not None else None
        header = build.Header(build.completion_id(), int(self._clock()), chat.model)
        spent = usage(turns, text, output_s)
        plan = build.plan_stream(
            header,
            text,
            self.options.pacing,
            speech=speech,
            audio=stored,
            usage=spent if chat.include_usage else None,
        )
        log.info("chat completion %s for %s on %s", header.id, chat.model, request.path)
        if chat.stream:
            return await self._stream(request, plan, request_id)
        data = None
        if speech is not None:
            assert chat.audio_format is not None
            encoded = await asyncio.to_thread(codec.encode, speech.pcm, chat.audio_format)
            data = encode_b64(encoded)
        await asyncio.sleep(plan[-1].due_s)  # the generation time a stream would have taken
        body = build.completion(header, text, stored, data, spent)
        return web.json_response(body, headers={"x-request-id": request_id})

    async def _stream(
        self, request: web.Request, plan: list[build.TimedChunk], request_id: str
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "x-request-id": request_id,
            }
        )
        await response.prepare(request)
        loop = asyncio.get_running_loop()
        start = loop.time()
        stall_after = self.options.faults.http_stall_after_chunks
        frames = [_event(timed.chunk) for timed in plan] + [b"data: [DONE]\n\n"]
        dues = [timed.due_s for timed in plan] + [plan[-1].due_s]
        try:
            for number, (due, frame) in enumerate(zip(dues, frames, strict=True)):
                if stall_after is not None and number >= stall_after:
                    log.info("fault injection: stream stalled after %d chunks", number)
                    await self._stall(request)
                    return response
                delay = start + due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                await response.write(frame)
            await response.write_eof()
        except ConnectionResetError:
            log.debug("client went away during a chat-completions stream")
        return response

    async def _stall(self, request: web.Request) -> None:
        """Send nothing more; return once the client hangs up or the server shuts down."""
        while not self._closing.is_set():
            transport = request.transport
            if transport is None or transport.is_closing():
                log.debug("stalled chat-completions stream: the client hung up")
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._closing.wait(), _STALL_POLL_S)


def _event(chunk: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


async def _read_body(request: web.Request) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise HttpError(
            413,
            "request_too_large",
            f"The request body is larger than the {MAX_BODY_BYTES // (1024 * 1024)} MiB limit.",
        ) from None
