"""The official Python SDK (meshagent-api 0.56.0) against a running devroom.

Two RoomClients join the room at ``--url`` (protocol 0.56: token in an ``Authorization:
Bearer`` header, ``v=0.56.0``) and use what devroom serves: storage upload, list and
download; a queue send and receive; ``list_toolkits``; a message from one to the other; a
developer log entry seen through ``developer.logs()``. Every step has a time limit. Exits 0
when all checks pass, 1 with the first failure otherwise.

    python connect.py --url ws://127.0.0.1:PORT/rooms/py-check
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys

from meshagent.api.room_server_client import RoomClient
from meshagent.api.websocket_protocol import WebSocketClientProtocol

STEP = 15.0  # seconds any one step may take


def token(name: str) -> str:
    """An unsigned JWT naming ``name``: devroom's default check reads the name unverified."""

    def b64(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{b64({'alg': 'none'})}.{b64({'name': name})}.sig"


def client(url: str, name: str) -> RoomClient:
    # 0.56 needs a protocol factory (it reconnects by calling it again); none: no reconnects.
    return RoomClient(
        protocol_factory=lambda: WebSocketClientProtocol(url=url, token=token(name)),
        reconnect_timeout=0,
    )


def check(ok: bool, what: str) -> None:
    if not ok:
        raise AssertionError(what)
    print(f"ok: {what}", flush=True)


async def step(what: str, awaitable):
    try:
        return await asyncio.wait_for(awaitable, STEP)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out after {STEP}s: {what}") from None


async def run(url: str) -> None:
    async with client(url, "py-alice") as alice, client(url, "py-bob") as bob:
        check(alice.local_participant.get_attribute("name") == "py-alice", "joined with the token's name")

        # Storage: 300 000 bytes take several pulls of 64 KiB.
        data = bytes(i % 251 for i in range(300_000))
        await step("upload", alice.storage.upload(path="py/data.bin", data=data))
        entries = await step("list", bob.storage.list(path="py"))
        check([(e.name, e.size) for e in entries] == [("data.bin", len(data))], "the upload is listed with its size")
        file = await step("download", bob.storage.download(path="py/data.bin"))
        check(file.data == data and file.name == "data.bin", "the download returns the uploaded bytes")
        check(await step("exists", bob.storage.exists(path="py/data.bin")), "exists says so")

        # Queues.
        await step("queue send", alice.queues.send(name="jobs", message={"task": "index"}))
        queues = await step("queue list", alice.queues.list())
        check([(q.name, q.size) for q in queues] == [("jobs", 1)], "the queue holds one message")
        got = await step("queue receive", bob.queues.receive(name="jobs", wait=False))
        check(got == {"task": "index"}, "the queued message is received")

        # Toolkits.
        toolkits = await step("list_toolkits", alice.agents.list_toolkits())
        names = {t.name for t in toolkits}
        check({"storage", "queues", "messaging", "developer"} <= names, f"list_toolkits names the built-in toolkits ({sorted(names)})")

        # Messaging: bob enables first, then alice sends to him.
        received: asyncio.Future = asyncio.get_running_loop().create_future()
        bob_enabled: asyncio.Future = asyncio.get_running_loop().create_future()

        def on_message(message, **_):
            if not received.done():
                received.set_result(message)

        bob.messaging.on("message", on_message)
        bob.messaging.on("messaging_enabled", lambda **_: bob_enabled.done() or bob_enabled.set_result(True))
        await step("bob enables messaging", bob.messaging.enable())
        await step("bob's messaging.enabled", bob_enabled)
        alice_enabled: asyncio.Future = asyncio.get_running_loop().create_future()
        alice.messaging.on("messaging_enabled", lambda **_: alice_enabled.done() or alice_enabled.set_result(True))
        await step("alice enables messaging", alice.messaging.enable())
        await step("alice's messaging.enabled", alice_enabled)
        to_bob = alice.messaging.get_participant_by_name("py-bob")
        check(to_bob is not None, "alice sees bob among the participants")
        await step("send", alice.messaging.send_message(to=to_bob, type="chat", message={"text": "hi"}, attachment=b"\x00\x01"))
        message = await step("the message", received)
        check(
            (message.type, message.message, message.attachment, message.from_participant_id)
            == ("chat", {"text": "hi"}, b"\x00\x01", alice.local_participant.id),
            "bob receives alice's message with its attachment",
        )

        # Developer log, seen through a logs() stream.
        logs = bob.developer.logs()
        first = asyncio.ensure_future(anext(logs))
        await asyncio.sleep(0.2)  # the stream is open before the entry is written
        await step("log", alice.developer.log(type="custom", data={"hello": "world"}))
        entry = await step("a log entry", first)
        check((entry.type, entry.data) == ("custom", {"hello": "world"}), "the log entry reaches logs()")
        await logs.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the room URL, ws://HOST:PORT/rooms/NAME")
    opts = parser.parse_args()
    try:
        asyncio.run(run(opts.url))
    except Exception as e:  # noqa: BLE001 - every failure is reported the same way
        print(f"FAILED: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        return 1
    print("python-sdk check PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
