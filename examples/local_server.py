"""The built-in local Realtime server from Python: start it, talk to it with the ``openai`` SDK.

Run it (after ``pip install -e .``)::

    python examples/local_server.py                   # "Hello there", one reply
    python examples/local_server.py "Is a cat a good family pet?"

It starts ``LocalServer`` on a free loopback port with a fault that drops the first connection
at the first audio delta (``drop_connections=1``: only the first one), shows the drop, connects
again, and prints the reply's transcript. The server is a test double: it answers by echoing.
"""

from __future__ import annotations

import asyncio
import sys

from openai import AsyncOpenAI
from websockets.exceptions import ConnectionClosedError

from realtime_console.server import FaultPlan, LocalServer, ServerOptions

KEY = "example-key"


async def ask(client: AsyncOpenAI, question: str) -> str:
    """One text turn on a fresh Realtime session; the reply's audio transcript."""
    async with client.realtime.connect(model="gpt-realtime") as connection:
        await connection.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": question}],
            }
        )
        await connection.response.create()
        transcript = ""
        async for event in connection:
            if event.type == "response.output_audio_transcript.delta":
                transcript += event.delta
            elif event.type == "response.done":
                return transcript
    raise RuntimeError("the connection ended before the reply did")


async def main(question: str) -> None:
    faults = FaultPlan.parse("drop_at=response.output_audio.delta,drop_connections=1")
    options = ServerOptions(api_key=KEY, voice_engine="synthetic", faults=faults)
    async with LocalServer(options, announce=print) as server:
        client = AsyncOpenAI(
            websocket_base_url=f"ws://127.0.0.1:{server.port}/openai/v1", api_key=KEY
        )
        try:
            await ask(client, question)
        except ConnectionClosedError:  # the injected fault: the first connection only
            print("first connection dropped, as injected; asking again")
        print("reply:", await ask(client, question))


if __name__ == "__main__":
    asyncio.run(main(" ".join(sys.argv[1:]) or "Hello there"))
