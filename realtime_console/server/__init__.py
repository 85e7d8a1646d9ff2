"""The local Realtime-protocol server behind ``serve`` and ``--local``.

Layout (sans-I/O, in the manner of ``websockets``): everything the protocol decides lives in pure
modules that take parsed frames and a clock reading and return plain-dict server events; only
``connection`` and ``app`` touch sockets.

- ``core``           one connection's protocol state machine (``SessionCore``), built from
                     ``core_state`` (its state), ``core_items`` (conversation items),
                     ``core_input`` (input audio, VAD, transcription), ``core_responses``,
                     ``core_mcp``
- ``validation``     client events checked against the SDK types, errors shaped like the service's
- ``session_config`` default session, ``session.update`` merge and semantic rules
- ``conversation``   the ordered conversation items
- ``audio_buffer``   the input audio buffer, on the session's input-audio clock
- ``vad``            energy voice activity detection (server_vad / semantic_vad)
- ``transcription``  the deterministic input-audio "transcript" (a description of the audio)
- ``response``       one response's event plan (paced deltas) and lifecycle events
- ``reply``          the deterministic reply text
- ``tool_calls``     which function tools a response calls (the whole-word rule, ``tool_choice``)
- ``tool_arguments`` a call's arguments from ``name=value`` words and the tool's JSON schema
- ``tool_reply``     the "Calling …" filler, the reply quoting call outputs, the call_id check
- ``call_output``    a ``function_call`` output item's events
- ``mcp_tools``      MCP servers of the session: listings, filters, approval, which call is made
- ``mcp_client``     the MCP I/O (list tools, call one) with the ``mcp`` package, as jobs
- ``core_mcp``       the MCP events and items; ``take_jobs``/``job_done`` for the adapter
- ``voice``          the ``SpeechSynthesizer`` seam and the deterministic synthetic voice
- ``espeak``         real speech from eSpeak NG, and ``synthesizer_for`` (engine choice)
- ``faults``         ``FaultPlan`` / ``FaultInjector``: reproducible injected faults
- ``usage``          token usage estimates for ``response.done``; ``rate_limits.updated``
- ``service_errors`` ``ServiceError`` and the service's error codes and messages
- ``ids``            ``event_…``/``item_…``/``resp_…`` ids
- ``options``        ``ServerOptions``
- ``connection``     the aiohttp WebSocket pump that paces the core's plan
- ``app``            the aiohttp application, routes, auth, ``LocalServer`` and ``serve_forever``
- ``admission``      connection limit, handshake timeout, session cap (``max_sessions``)
- ``completions/``   the audio chat-completions HTTP routes: request rules, audio ids with expiry,
                     the deterministic reply, completions and stream chunks
- ``testing``        checks for tests: every server event against the SDK's types

See docs/local-server.md for the behaviour.
"""

from __future__ import annotations

from realtime_console.server.app import LocalServer, create_app, serve_forever
from realtime_console.server.faults import FaultPlan
from realtime_console.server.options import ServerOptions

__all__ = ["FaultPlan", "LocalServer", "ServerOptions", "create_app", "serve_forever"]
