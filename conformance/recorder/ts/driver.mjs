// Drives the official TypeScript SDK (@meshagent/meshagent 0.35.8 or 0.39.9) for ONE conformance
// scenario. Both SDK versions use this driver; the SDK is loaded from the folder named by the
// scenario's "sdk_dir" (ts/ holds 0.35.8, ts-0.39/ holds 0.39.9, each with its own node_modules).
// What 0.39.9 does differently (switched on V039 below): RoomClient takes a protocolFactory (it
// reconnects; reconnectTimeout 0 turns that off), start() waits for `connected` and no initial
// attributes are echoed, the secrets handlers are RoomClient options, the room-level status event
// is RoomClient's `room.status`, uuid v4 ids come from the global crypto.randomUUID, and
// fire-and-forget requests (invokeNowait) are waited for.
//
// Usage: node driver.mjs '<scenario JSON>'
//
// This file is the entry point and the scenario flow (connect, call, wait, write the outcome). Two
// modules beside it: values.mjs revives the special argument values and turns SDK values into JSON;
// outcomes.mjs holds the timeouts, reads streaming calls' return values (collect) and registers the
// push events callbacks (setupEvents). They get the SDK module as a parameter: only this file loads it.
//
// The scenario JSON is built by ../record_typescript.py:
//   {
//     "sdk_dir": "/…/conformance/recorder/ts-0.39",  // where the SDK's node_modules are
//     "url": "ws://127.0.0.1:PORT/rooms/test-room", "token": "...",
//     "result_path": "/tmp/.../result.json",        // where the outcome JSON is written
//     "call": ["storage.delete", ["docs/a.txt", {}]] // SDK method path under RoomClient + positional args
//           | null,                                  // no call (push-only scenario)
//     "listen": [["storage", "file.updated"], ...],  // events to register before connecting
//     "wait_participant": "p-remote" | null,         // wait until messaging knows this participant
//     "result_keys": "wire" | null,                  // also snake_case the keys of plain objects
//     "collect": null | "file" | "iterate" | "log_events" | "log_stream" | "exec",
//                                                    // streaming tools: how the outcome is read
//                                                    // from the call's return value (see outcomes.mjs, collect())
//     "ops": [...],                                  // "exec": the operations, in order
//     "uuids": ["..."],                              // the SDK's next uuid v4 draws (request ids)
//     "events_setup": ["messaging", "developer", "status", "secrets"],
//                                                    // application callbacks to register before
//                                                    // connecting (see outcomes.mjs, setupEvents())
//     "expect_events": N | null,                     // set: the outcome is the N events the callbacks
//                                                    // received (after the call, if any)
//     "expect_unhandled": ["..."],                   // messages of unhandled promise rejections the
//                                                    // SDK is expected to cause (any other one fails)
//     "pre_calls": [[path, args], ...] | null,       // 0.39.9: SDK calls made before the recorded one
//     "take": N | null                               // collect "iterate_n": how many items to read
//   }
//
// Special argument values: see values.mjs (reviveArg).
//
// "livekit.*" calls go to `new LivekitClient({room})` from dist/node/lk-client.js: RoomClient has no
// livekit member in 0.35.8 and the class is not exported from the package index.
//
// The SDK prints "GOT RESPONSE ..." to stdout for every response, so nothing here is written to
// stdout: the outcome goes to result_path as JSON, diagnostics go to stderr.
//   {"outcome": {"result": ...}} | {"outcome": {"error": {"code": ..., "text": ...}}}
//   | {"outcome": {"events": [...]}} | {"failure": "..."} (the recorder then fails the scenario)

import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { errorOutcome, makeValues } from "./values.mjs";
import { EVENT_SETTLE_MS, makeOutcomes, waitUntil, withTimeout } from "./outcomes.mjs";

const SDK_DIR = JSON.parse(process.argv[2]).sdk_dir;
const require = createRequire(join(SDK_DIR, "package.json"));
const SDK_VERSION = JSON.parse(
  readFileSync(join(SDK_DIR, "node_modules", "@meshagent", "meshagent", "package.json"), "utf-8"),
).version;
if (SDK_VERSION !== "0.35.8" && SDK_VERSION !== "0.39.9") throw new Error(`unsupported SDK ${SDK_VERSION}`);
const V039 = SDK_VERSION === "0.39.9";

// "seed_random": a deterministic crypto.getRandomValues, installed before the SDK loads (its bundled
// Yjs binds it at load time and draws document client ids from it).
if (JSON.parse(process.argv[2]).seed_random) {
  let seed = 7;
  const realCrypto = globalThis.crypto;
  Object.defineProperty(globalThis, "crypto", {
    configurable: true,
    value: {
      subtle: realCrypto.subtle,
      randomUUID: () => realCrypto.randomUUID(),
      getRandomValues: (arr) => {
        for (let i = 0; i < arr.length; i++) {
          seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
          arr[i] = seed;
        }
        return arr;
      },
    },
  });
}

const meshagent = require("@meshagent/meshagent");
const { LivekitClient } = require(join(dirname(require.resolve("@meshagent/meshagent")), "lk-client.js"));
const { RoomClient, WebSocketClientProtocol, RoomServerException } = meshagent;

// Arrow values (dataset, 0.39.9): the SDK's own apache-arrow module.
const arrow = V039 ? require("apache-arrow") : null;

const { reviveArg, toJsonable } = makeValues({ meshagent, arrow });
const { collect, setupEvents, recordSecrets: recordSecretsIn } = makeOutcomes({ meshagent, v039: V039, toJsonable });

// The SDK draws request ids with uuid v4 (node's crypto.randomUUID through the `uuid` package):
// the next draws return these fixed values, later ones are random again.
function fixUuids(values) {
  if (!values || values.length === 0) return;
  if (!V039) {
    // uuid (0.35.8's dependency) keeps its own reference to crypto.randomUUID in native.js.
    const native = require(join(dirname(require.resolve("uuid")), "native.js")).default;
    const realNative = native.randomUUID;
    const pending = [...values];
    native.randomUUID = (...args) => (pending.length > 0 ? pending.shift() : realNative(...args));
    return;
  }
  // uuid 14 (0.39.9's dependency) draws v4 ids from the global crypto.randomUUID at call time.
  const current = globalThis.crypto;
  const real = current.randomUUID.bind(current);
  const queue = [...values];
  Object.defineProperty(globalThis, "crypto", {
    configurable: true,
    value: new Proxy(current, {
      get(target, prop) {
        if (prop === "randomUUID") return () => (queue.length > 0 ? queue.shift() : real());
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    }),
  });
}

// "pre_calls": SDK calls made before the recorded one (e.g. messaging.enable before a send), in
// order; their values are not recorded.
async function preCalls(room, calls) {
  for (const [path, rawArgs] of calls ?? []) {
    const parts = path.split(".");
    let target = room;
    for (const p of parts.slice(0, -1)) target = target[p];
    await withTimeout(Promise.resolve(target[parts[parts.length - 1]](...reviveArg(rawArgs, room))), `room.${path}()`);
  }
}

// ---------------------------------------------------------------------------- main

const events = [];
function recordSecrets(packetType, request) {
  recordSecretsIn(events, packetType, request);
}

// 0.39.9: RoomClient takes a protocolFactory and would reconnect (reconnectTimeout 0: one
// connection); the secrets handlers are its options.
function roomClient039(scenario, protocol) {
  let factoryCalls = 0;
  const secretsOptions = {};
  if ((scenario.events_setup ?? []).includes("secrets")) {
    secretsOptions.oauthTokenRequestHandler = (request) => {
      recordSecrets("secrets.request_oauth_token", request);
    };
    secretsOptions.secretRequestHandler = (request) => {
      recordSecrets("secrets.request_secret", request);
    };
  }
  return new RoomClient({
    protocolFactory: () => {
      factoryCalls += 1;
      if (factoryCalls > 1) throw new Error("a second connection was attempted");
      return protocol;
    },
    reconnectTimeout: 0,
    ...secretsOptions,
  });
}

async function run(scenario) {
  const protocol = new WebSocketClientProtocol({ url: scenario.url, token: scenario.token });
  const room = V039 ? roomClient039(scenario, protocol) : new RoomClient({ protocol });

  // Every protocol.send (requests and set_attributes) is tracked so that nothing still queued is
  // lost when the socket is closed at the end. This does not change what goes on the wire.
  const pendingSends = new Set();
  const originalSend = protocol.send.bind(protocol);
  protocol.send = (...args) => {
    const p = originalSend(...args);
    pendingSends.add(p);
    p.finally(() => pendingSends.delete(p)).catch(() => undefined);
    return p;
  };

  // Streaming tools: note when the client's request-side control/close was answered.
  let closeAnswered = false;
  const originalSendRequest = room.sendRequest.bind(room);
  room.sendRequest = async (type, request, data) => {
    const response = await originalSendRequest(type, request, data);
    if (type === "room.tool_call_request_chunk" && request?.chunk?.type === "control" && request.chunk.method === "close") {
      closeAnswered = true;
    }
    return response;
  };

  const listen = scenario.listen ?? [];
  for (const [clientName, eventName] of listen) {
    room[clientName].on(eventName, (ev) => {
      events.push({ type: `${clientName}.${eventName}`, fields: toJsonable(ev) });
    });
  }

  setupEvents(room, scenario.events_setup ?? [], events);

  let outcome;
  try {
    await withTimeout(room.start(), "room.start()");
    // 0.35.8: start() resolves on room_ready; the LocalParticipant (and the set_attributes echo of
    // the initial attributes) only exists once "connected" has been handled. Wait for it so that
    // the echo always comes first and always takes message id 0. 0.39.9: start() also waits for
    // "connected"; nothing is echoed.
    await waitUntil(() => room.localParticipant !== null, "connected/init");
    await preCalls(room, scenario.pre_calls);
    if (scenario.wait_participant) {
      await waitUntil(
        () => room.messaging.getParticipant(scenario.wait_participant) !== null,
        `participant ${scenario.wait_participant}`,
      );
    }

    if (scenario.expect_events !== null && scenario.expect_events !== undefined) {
      // Events outcome: make the call first, if any (its value is not recorded), then wait for the
      // expected events and a little longer, to catch extra ones.
      if (scenario.call) {
        const [path, rawArgs] = scenario.call;
        const parts = path.split(".");
        let target = room;
        for (const p of parts.slice(0, -1)) target = target[p];
        await withTimeout(target[parts[parts.length - 1]](...reviveArg(rawArgs, room)), `room.${path}()`);
      }
      await waitUntil(() => events.length >= scenario.expect_events, `${scenario.expect_events} events`).catch((ex) => {
        throw new Error(`${ex.message}, got ${events.length}: ${JSON.stringify(events)}`);
      });
      await new Promise((resolve) => setTimeout(resolve, EVENT_SETTLE_MS));
      if (events.length !== scenario.expect_events) {
        throw new Error(`expected ${scenario.expect_events} events, got ${events.length}: ${JSON.stringify(events)}`);
      }
      outcome = { events };
    } else if (scenario.call) {
      const [path, rawArgs] = scenario.call;
      if (path.startsWith("livekit.")) room.livekit = new LivekitClient({ room });
      const parts = path.split(".");
      let target = room;
      for (const p of parts.slice(0, -1)) target = target[p];
      const fn = target[parts[parts.length - 1]];
      if (typeof fn !== "function") throw new Error(`no SDK method room.${path}`);
      const args = reviveArg(rawArgs, room);
      const opts = { wireKeys: scenario.result_keys === "wire" };
      scenario.room = room;
      fixUuids(scenario.uuids);
      try {
        if (scenario.collect === "sync") {
          args[1] = { ...args[1], schema: meshagent.MeshSchema.fromJson(args[1].schema) };
        }
        if (scenario.collect) {
          const value = await withTimeout(Promise.resolve(fn.apply(target, args)), `room.${path}()`);
          const result = await withTimeout(collect(scenario.collect, value, scenario, opts), `collect ${path}`);
          outcome = { result };
        } else {
          const result = await withTimeout(fn.apply(target, args), `room.${path}()`);
          outcome = { result: toJsonable(result, opts) };
        }
      } catch (ex) {
        if (ex instanceof RoomServerException) {
          outcome = errorOutcome(ex);
        } else if (scenario.collect && !String(ex?.message).startsWith("timeout:")) {
          // A streaming call that fails with a plain Error (developer.logs throws `new Error(text)`
          // for an error chunk): recorded as an error outcome with code null.
          outcome = errorOutcome(ex);
        } else {
          throw ex;
        }
      }
    } else {
      await waitUntil(() => events.length >= listen.length, "events");
      outcome = { events };
    }
    await withTimeout(Promise.allSettled([...pendingSends]), "pending sends");
    if (V039) {
      // Fire-and-forget requests (invokeNowait): wait until their (ignored) replies arrived.
      await waitUntil(() => room._ignoredResponseLabels.size === 0, "replies to fire-and-forget requests");
    }
    if (scenario.wait_requests) {
      // Streaming tools: the closing request chunk may be sent after the call returned; wait until
      // every request was answered.
      // "close": until the request-side control/close was answered; "pending": the SDK sends no
      // close in this case, until every request sent so far was answered.
      const needClose = scenario.wait_requests === "close";
      await waitUntil(() => (closeAnswered || !needClose) && room._pendingRequests.size === 0, "the closing request chunk");
      await withTimeout(Promise.allSettled([...pendingSends]), "pending sends");
    }
  } finally {
    const ws = protocol.channel.webSocket;
    room.dispose();
    if (ws) {
      await withTimeout(
        new Promise((resolve) => {
          if (ws.readyState === ws.CLOSED) resolve();
          else ws.addEventListener("close", () => resolve());
        }),
        "websocket close",
      ).catch(() => undefined);
    }
  }
  return outcome;
}

const scenario = JSON.parse(process.argv[2]);

// The SDK calls its protocol handlers without awaiting them: a handler that throws (the secrets
// handlers when no callback was given) becomes an unhandled promise rejection, which would end
// this process. Record them instead; the scenario lists the ones it expects.
const unhandled = [];
process.on("unhandledRejection", (reason) => {
  unhandled.push(reason?.message ?? String(reason));
});

let report;
try {
  report = { outcome: await run(scenario) };
  const expected = scenario.expect_unhandled ?? [];
  if (JSON.stringify(unhandled) !== JSON.stringify(expected)) {
    report = { failure: `unhandled rejections ${JSON.stringify(unhandled)}, expected ${JSON.stringify(expected)}` };
  }
} catch (ex) {
  report = { failure: `${ex?.name ?? "Error"}: ${ex?.message ?? String(ex)}` };
}
writeFileSync(scenario.result_path, JSON.stringify(report));
// Exit explicitly: the SDK may keep timers or sockets alive after dispose().
process.exit(0);
