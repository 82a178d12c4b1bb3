// The official TypeScript SDK (@meshagent/meshagent 0.39.9) against a running devroom.
//
// Two RoomClients join the room at --url. This SDK keeps the 0.35.8 transport (token in the
// query, no `v`, every request chunk awaited), so devroom answers it in its 0.35.8 dialect.
// Checks: storage upload, list and download; a queue send and receive; a toolkit hosted by
// one client (startHostedToolkit), listed by listToolkits and called by the other; a message
// from one to the other; a developer log entry seen through developer.logs(). Every step has
// a time limit. Exits 0 when all checks pass, 1 with the first failure otherwise.
//
//     node connect.cjs --url ws://127.0.0.1:PORT/rooms/ts-check
"use strict";

const {
  RoomClient, WebSocketClientProtocol, JsonContent, Tool, Toolkit, startHostedToolkit,
} = require("@meshagent/meshagent");

const STEP_MS = 15000;

function token(name) {
  const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString("base64url");
  return `${b64({ alg: "none" })}.${b64({ name })}.sig`;
}

function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
  console.log(`ok: ${what}`);
}

async function step(what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${STEP_MS} ms: ${what}`)), STEP_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function join(url, name) {
  const room = new RoomClient({
    protocolFactory: () => new WebSocketClientProtocol({ url, token: token(name) }),
    reconnectTimeout: 0,
  });
  await step(`${name} joins`, room.start());
  return room;
}

class Hello extends Tool {
  constructor() {
    super({ name: "hello", title: "Hello", description: "Greets `name`." });
  }
  async execute(args) {
    return new JsonContent({ json: { greeting: `hello ${args.name}` } });
  }
}

function nextEvent(emitter, name, accept) {
  return new Promise((resolve) => {
    const handler = (event) => {
      if (accept(event)) {
        emitter.off(name, handler);
        resolve(event);
      }
    };
    emitter.on(name, handler);
  });
}

async function run(url) {
  const alice = await join(url, "ts-alice");
  const bob = await join(url, "ts-bob");
  try {
    check(alice.localParticipant.getAttribute("name") === "ts-alice", "joined with the token's name");

    // Storage: 300 000 bytes take several pulls of 64 KiB.
    const data = Uint8Array.from({ length: 300000 }, (_, i) => i % 251);
    await step("upload", alice.storage.upload("ts/data.bin", data));
    const entries = await step("list", bob.storage.list("ts"));
    check(entries.length === 1 && entries[0].name === "data.bin" && entries[0].size === data.length,
      "the upload is listed with its size");
    const file = await step("download", bob.storage.download("ts/data.bin"));
    check(Buffer.from(file.data).equals(Buffer.from(data)), "the download returns the uploaded bytes");

    // Queues.
    await step("queue send", alice.queues.send("jobs", { task: "index" }, { create: true }));
    const got = await step("queue receive", bob.queues.receive("jobs", { create: true, wait: false }));
    check(JSON.stringify(got) === JSON.stringify({ task: "index" }), "the queued message is received");

    // A hosted toolkit, listed and called by the other client.
    const hosted = await step("host a toolkit", startHostedToolkit({
      room: alice, toolkit: new Toolkit({ name: "ts-greeter", title: "Greeter", tools: [new Hello()] }), public_: true,
    }));
    const toolkits = await step("listToolkits", bob.agents.listToolkits());
    const greeter = toolkits.find((t) => t.name === "ts-greeter");
    check(greeter !== undefined && greeter.tools.some((t) => t.name === "hello"), "listToolkits lists the hosted toolkit");
    check(["storage", "queues", "messaging", "developer"].every((n) => toolkits.some((t) => t.name === n)),
      "listToolkits lists the built-in toolkits");
    const reply = await step("invokeTool", bob.agents.invokeTool({ toolkit: "ts-greeter", tool: "hello", arguments: { name: "bob" } }));
    check(reply instanceof JsonContent && reply.json.greeting === "hello bob", "the hosted tool answers the other client");
    await step("stop hosting", hosted.stop());

    // Messaging: bob enables first, then alice sends to him.
    const bobEnabled = nextEvent(bob.messaging, "messaging_enabled", () => true);
    bob.messaging.enable();
    await step("bob's messaging.enabled", bobEnabled);
    const aliceEnabled = nextEvent(alice.messaging, "messaging_enabled", () => true);
    alice.messaging.enable();
    await step("alice's messaging.enabled", aliceEnabled);
    const toBob = alice.messaging.getParticipantByName("ts-bob");
    check(toBob !== null, "alice sees bob among the participants");
    const received = nextEvent(bob.messaging, "message", (e) => e.message.type === "chat");
    await step("send", alice.messaging.sendMessage({ to: toBob, type: "chat", message: { text: "hi" }, attachment: Uint8Array.from([0, 1]) }));
    const message = (await step("the message", received)).message;
    check(message.message.text === "hi" && message.fromParticipantId === alice.localParticipant.id
      && Buffer.from(message.attachment).equals(Buffer.from([0, 1])), "bob receives alice's message with its attachment");

    // Developer log, seen through a logs() stream.
    const logs = bob.developer.logs()[Symbol.asyncIterator]();
    const first = logs.next();
    await new Promise((r) => setTimeout(r, 200)); // the stream is open before the entry is written
    await step("log", alice.developer.log("custom", { hello: "world" }));
    const entry = (await step("a log entry", first)).value;
    check(entry.type === "custom" && entry.data.hello === "world", "the log entry reaches logs()");
    await step("close logs", logs.return());
  } finally {
    alice.dispose();
    bob.dispose();
  }
}

const at = process.argv.indexOf("--url");
if (at < 0 || !process.argv[at + 1]) {
  console.error("usage: node connect.cjs --url ws://HOST:PORT/rooms/NAME");
  process.exit(2);
}
run(process.argv[at + 1]).then(
  () => { console.log("typescript-sdk check PASSED"); process.exit(0); },
  (e) => { console.error(`FAILED: ${e && e.stack ? e.stack : e}`); process.exit(1); },
);
