"""What the local "model" says around tool calls, and the check on answers to them.

- A response that calls tools first says ``(local server) Calling get_weather.`` (two calls:
  ``Calling get_weather and get_time.``, more: ``Calling a, b and c.``): the "filler" a voice
  client plays while the tools run.
- A response whose context ends with ``function_call_output`` items (the answers) quotes each,
  in the order of the calls they answer: ``(local server) get_weather returned {"temp": 21}.
  get_time returned 12:00.`` Each output has its whitespace collapsed and is cut at
  ``MAX_OUTPUT_CHARS`` characters with ``...``; an empty one reads ``(nothing)``; an answer to a
  call the context does not hold is named by its ``call_id``. A sentence ends with ``.`` unless
  the output already ends with ``.``, ``!`` or ``?``.
- ``conversation.item.create`` of a ``function_call_output`` whose ``call_id`` matches no
  ``function_call`` in the conversation is refused, as the service refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from realtime_console.server.service_errors import ServiceError

PREFIX = "(local server)"
MAX_OUTPUT_CHARS = 200
_ELLIPSIS = "..."


def filler_text(calls: Sequence[Any]) -> str:
    """``calls`` are anything with a ``name`` (``tool_calls.PlannedCall``)."""
    names = [str(call.name) for call in calls]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{PREFIX} Calling {listed}."


def trailing_outputs(context: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The ``function_call_output`` items the context ends with (the answers to the last calls)."""
    outputs: list[Mapping[str, Any]] = []
    for item in reversed(context):
        if item.get("type") != "function_call_output":
            break
        outputs.append(item)
    return outputs[::-1]


def outputs_text(context: Sequence[Mapping[str, Any]]) -> str:
    """The reply to a context that ends with call outputs (see the module docstring)."""
    calls = [item for item in context if item.get("type") == "function_call"]
    position = {str(call.get("call_id")): index for index, call in enumerate(calls)}
    names = {str(call.get("call_id")): str(call.get("name")) for call in calls}
    outputs = trailing_outputs(context)
    # In call order; answers to unknown calls keep their own order, after the known ones.
    ordered = sorted(outputs, key=lambda o: position.get(str(o.get("call_id")), len(calls)))
    sentences = [
        sentence(
            f"{names.get(str(o.get('call_id')), str(o.get('call_id')))} returned "
            + cut_output(str(o.get("output") or ""))
        )
        for o in ordered
    ]
    return " ".join([PREFIX, *sentences])


def sentence(text: str) -> str:
    """``text`` ending with a full stop, unless it ends with one already (``.`` ``!`` ``?``)."""
    return text if text.endswith((".", "!", "?")) else text + "."


def cut_output(output: str) -> str:
    text = " ".join(output.split())
    if not text:
        return "(nothing)"
    return text if len(text) <= MAX_OUTPUT_CHARS else text[:MAX_OUTPUT_CHARS] + _ELLIPSIS


def check_call_output(item: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> None:
    """Refuse a ``function_call_output`` that answers no ``function_call`` in ``items``.

    The service's answer (``invalid_tool_call_id``); it names no ``param``, the local server
    names ``item.call_id`` so the client sees which field is wrong."""
    if item.get("type") != "function_call_output":
        return
    call_id = item.get("call_id")
    if any(i.get("type") == "function_call" and i.get("call_id") == call_id for i in items):
        return
    raise ServiceError(
        "invalid_tool_call_id",
        f"Tool call ID '{call_id}' not found in conversation.",
        param="item.call_id",
    )
