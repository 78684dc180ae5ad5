"""A fast OpenAI-compatible chat-completions stand-in for the replay benchmark.

    python bench/llm_server.py --delay-ms 20 [--capacity 32]

asyncio with HTTP/1.1 keep-alive (as real providers answer), so the server's own cost per request
stays far below the client's; ``--delay-ms`` stands for the model's latency and ``--capacity``
for how many requests it works on at once (the rest wait), which is where throughput saturates.
Prints the port it listens on (127.0.0.1), then serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import json

ANSWER = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "model": "bench",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": '{"winner": "A"}'}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 120, "completion_tokens": 8, "total_tokens": 128},
}).encode()
RESPONSE = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
            + str(len(ANSWER)).encode() + b"\r\n\r\n" + ANSWER)


async def serve(delay_s: float, capacity: int) -> None:
    working = asyncio.Semaphore(capacity)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                async with working:
                    await asyncio.sleep(delay_s)
                writer.write(RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--capacity", type=int, default=1_000_000)
    args = parser.parse_args()
    asyncio.run(serve(args.delay_ms / 1000, args.capacity))


if __name__ == "__main__":
    main()
