"""``CompletionsClient``: one audio chat completion per ``complete()``, with retries and a log.

Each call is one *exchange* (``request_id``): attempts until one succeeds, fails for good, or
runs out of ``completions.max_retries``. Retried: HTTP 429 / 500 / 502 / 503 / 504 and failures
to connect, after the service's ``retry-after-ms`` / ``retry-after`` (at most
``retry.MAX_WAIT_S``) or our back-off, each with one notice line. Never retried: a stream that
has already delivered a chunk (its audio may be playing: a second reply would play over it),
and a timeout (it used the whole ``completions.timeout_s`` already).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, cast

from realtime_console._compat import wait_for
from realtime_console.completions import retry
from realtime_console.completions.errors import (
    CompletionsError,
    Failure,
    error_for,
    failure_of,
)
from realtime_console.completions.record import ExchangeLog
from realtime_console.completions.stream import AudioSink, BadAudio, StreamedReply, decode_audio
from realtime_console.completions.types import AudioReply, AudioRequest
from realtime_console.errors import ConsoleError
from realtime_console.redact import Redactor

if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletion

    from realtime_console.completions.target import CompletionsTarget
    from realtime_console.config import CompletionsSettings
    from realtime_console.eventlog import EventLogWriter


def new_request_id() -> str:
    return "req_" + secrets.token_hex(8)


def request_params(request: AudioRequest, model: str) -> dict[str, Any]:
    """The ``chat.completions.create`` arguments for ``request``, exactly as sent (and logged)."""
    params: dict[str, Any] = {"model": model, "modalities": request.modalities}
    if request.audio_out:
        params["audio"] = {"voice": request.voice, "format": request.format}
    params["messages"] = list(request.messages)
    if request.stream:
        params["stream"] = True
        params["stream_options"] = {"include_usage": True}
    return params


def reply_from_completion(
    completion: ChatCompletion, request: AudioRequest, *, request_id: str, elapsed_s: float
) -> AudioReply:
    message = completion.choices[0].message if completion.choices else None
    audio = message.audio if message is not None else None
    data = decode_audio(audio.data) if audio is not None and audio.data else b""
    text = (audio.transcript if audio is not None else "") or (message and message.content) or ""
    return AudioReply(
        request_id=request_id,
        completion_id=completion.id,
        text=text,
        audio=data,
        format=request.format,
        audio_id=audio.id if audio is not None else None,
        expires_at=audio.expires_at if audio is not None else None,
        usage=completion.usage.model_dump(exclude_unset=True) if completion.usage else {},
        elapsed_s=elapsed_s,
        first_audio_s=elapsed_s if data else None,  # all of it arrives at once
    )


class _Attempt:
    """What one attempt got before it ended (a stream's partial reply)."""

    def __init__(self) -> None:
        self.stream: StreamedReply | None = None

    @property
    def received(self) -> bool:
        return self.stream is not None and self.stream.chunks > 0


class CompletionsClient:
    """Made by ``open_completions``; owns neither the SDK client nor the event log."""

    def __init__(
        self,
        sdk: AsyncOpenAI,
        target: CompletionsTarget,
        settings: CompletionsSettings,
        *,
        event_log: EventLogWriter | None,
        notice: Callable[[str], None],
        redactor: Redactor,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sdk = sdk
        self.target = target
        self.settings = settings
        self.event_log = event_log
        self._notice = notice
        self._redactor = redactor
        self._clock = clock

    async def complete(
        self, request: AudioRequest, *, on_audio: AudioSink | None = None
    ) -> AudioReply:
        """One exchange. A stream hands each pcm16 piece to ``on_audio`` as it arrives.

        Raises ``CompletionsError`` (``AudioNotFound`` for an expired ``audio.id``), or
        ``ValueError`` for a stream asking for audio in any format but pcm16."""
        if request.stream and request.audio_out and request.format != "pcm16":
            raise ValueError(f"a streamed reply is pcm16 audio, not {request.format}")
        params = request_params(request, self.target.model)
        log = ExchangeLog(self.event_log, new_request_id(), self.target.api, self.target.model)
        started = self._clock()
        retries = 0
        while True:
            log.request(retries + 1, params, request.stream)
            attempt = _Attempt()
            try:
                reply = await wait_for(
                    self._attempt(request, params, log, attempt, on_audio, retries),
                    self.settings.timeout_s,
                )
            except ConsoleError as exc:  # e.g. an Entra sign-in that failed in the SDK's token call
                log.error(retries + 1, Failure("other", None, None, None, str(exc)), None)
                await log.completion(request, None, retries=retries, elapsed_s=self._since(started))
                raise
            except (asyncio.TimeoutError, BadAudio) as exc:
                failure = failure_of(exc, self._redactor)
                await self._give_up(log, request, failure, retries, started)
            except Exception as exc:
                if not _is_sdk_error(exc):
                    raise
                failure = failure_of(exc, self._redactor)
                wait = self._retry_wait(failure, attempt, retries)
                if wait is None or wait > retry.MAX_WAIT_S:
                    await self._give_up(log, request, failure, retries, started, asked_wait=wait)
                log.error(retries + 1, failure, wait)
                retries += 1
                self._notice(
                    f"{retry.describe(failure)}; retrying in {retry.seconds(wait)} s "
                    f"(retry {retries} of {self.settings.max_retries})"
                )
                await asyncio.sleep(wait)
            else:
                await log.completion(request, reply, retries=retries, elapsed_s=reply.elapsed_s)
                return reply

    def _since(self, started: float) -> float:
        return self._clock() - started

    def _retry_wait(self, failure: Failure, attempt: _Attempt, retries: int) -> float | None:
        """Seconds to wait before trying again; None: do not try again."""
        if attempt.received or not retry.is_retryable(failure):
            return None
        if retries >= self.settings.max_retries:
            return None
        return retry.wait_before(failure, retries + 1)

    async def _give_up(
        self,
        log: ExchangeLog,
        request: AudioRequest,
        failure: Failure,
        retries: int,
        started: float,
        *,
        asked_wait: float | None = None,
    ) -> NoReturn:
        """Log the last attempt's failure and the exchange's end; raise its one line."""
        log.error(retries + 1, failure, None)
        await log.completion(request, None, retries=retries, elapsed_s=self._since(started))
        if asked_wait is not None:  # the service asked for a longer pause than we wait
            raise CompletionsError(
                f"{retry.describe(failure)} from {self.target.describe()}: the service asks to "
                f"wait {retry.seconds(asked_wait)} s before trying again (more than the "
                f"{retry.MAX_WAIT_S:g} s the console waits); try again later",
                status=failure.status,
                code=failure.code,
            )
        raise error_for(failure, self.target, timeout_s=self.settings.timeout_s, retries=retries)

    async def _attempt(
        self,
        request: AudioRequest,
        params: dict[str, Any],
        log: ExchangeLog,
        attempt: _Attempt,
        on_audio: AudioSink | None,
        retries: int,
    ) -> AudioReply:
        completions = self._sdk.chat.completions
        audio = params.get("audio", _omit())
        messages = cast(Any, params["messages"])  # JSON-ready dicts, as the service takes them
        sent = self._clock()
        if not request.stream:
            completion = await completions.create(
                model=params["model"],
                modalities=params["modalities"],
                audio=audio,
                messages=messages,
            )
            log.response(completion.model_dump(exclude_unset=True))
            reply = reply_from_completion(
                completion, request, request_id=log.request_id, elapsed_s=self._since(sent)
            )
            return _with_retries(reply, retries)
        stream = await completions.create(
            model=params["model"],
            modalities=params["modalities"],
            audio=audio,
            messages=messages,
            stream=True,
            stream_options={"include_usage": True},
        )
        attempt.stream = gathered = StreamedReply(on_audio, self._clock, sent)
        async with stream:
            async for chunk in stream:
                log.chunk(chunk.model_dump(exclude_unset=True))
                gathered.add(chunk)
        return gathered.reply(request_id=log.request_id, retries=retries)


def _with_retries(reply: AudioReply, retries: int) -> AudioReply:
    import dataclasses

    return dataclasses.replace(reply, retries=retries)


def _omit() -> Any:
    from openai import omit

    return omit


def _is_sdk_error(exc: BaseException) -> bool:
    import openai

    return isinstance(exc, openai.OpenAIError)
