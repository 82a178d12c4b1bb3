// Token interop, TypeScript side (@meshagent/meshagent 0.39.9, protocol 0.56): see run.sh.
//
//   node interop.cjs make > ts.json      # tokens and API keys made by the SDK
//   node interop.cjs check rust.json     # the SDK checks those made in Rust
//
// `check`: each API key must parse (`parseApiKey`) to the ids and secret Rust reports and
// encode back (`encodeApiKey`) to the same text; each JWT must verify with
// `ParticipantToken.fromJwt` and read as the claims Rust signed, both read through the SDK's
// own classes (TS 0.39.9's ApiScope has no `sqlite` and drops it on both sides), and must be
// refused with another secret. Exits 1 on any mismatch.
"use strict";

const fs = require("fs");
const util = require("util");
const {
  ApiScope,
  ParticipantGrant,
  ParticipantToken,
  StorageGrant,
  StoragePathGrant,
  encodeApiKey,
  parseApiKey,
} = require("@meshagent/meshagent");

const KEY_ID = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d";
const PROJECT = "11223344-5566-4778-899a-abbccddeeff0";
const SECRET = "ts-made-secret-with-dashes-0123456789";

async function make() {
  const key = encodeApiKey({ id: KEY_ID, projectId: PROJECT, secret: SECRET });
  const agent = new ParticipantToken({ name: "ts-agent", extra: { custom: { nested: [1, "two", null] } } });
  agent.addRoomGrant("test-room");
  agent.addRoleGrant("agent");
  agent.addApiGrant(ApiScope.agentDefault({ tunnels: true }));
  const user = new ParticipantToken({ name: "ts-user" });
  user.addRoomGrant("test-room");
  user.addApiGrant(ApiScope.userDefault());
  const full = new ParticipantToken({ name: "ts-admin" });
  full.addRoomGrant("test-room");
  full.addTunnelGrant([8080, 9000]);
  full.grants.push(new ParticipantGrant({ name: "future_grant", scope: { x: 1 } }));
  full.addApiGrant(ApiScope.full());
  const narrow = new ParticipantToken({ name: "reviewer" });
  narrow.addRoomGrant("test-room");
  narrow.addRoleGrant("user");
  narrow.addApiGrant(
    new ApiScope({ storage: new StorageGrant({ paths: [new StoragePathGrant({ path: "/reports", readOnly: true })] }) }),
  );
  const expiry = new Date(Date.UTC(2100, 0, 1));
  const cases = [];
  for (const [name, token, expiration] of [
    ["agent", agent, expiry],
    ["user", user, undefined],
    ["full", full, undefined],
    ["narrow", narrow, expiry],
  ]) {
    const jwt = await token.toJwt({ apiKey: key, expiration });
    const read = await ParticipantToken.fromJwt(jwt, { token: SECRET });
    cases.push({ case: name, key, key_id: KEY_ID, project_id: PROJECT, secret: SECRET, jwt, claims: read.toJson() });
  }
  return cases;
}

async function checkCase(c) {
  if (c.key !== null) {
    const key = parseApiKey(c.key);
    const parts = [key.id, key.projectId, key.secret];
    const expected = [c.key_id, c.project_id, c.secret];
    if (!util.isDeepStrictEqual(parts, expected)) {
      return `the key reads as ${parts}, Rust says ${expected}`;
    }
    if (encodeApiKey(key) !== c.key) {
      return "the key does not encode back to the same text";
    }
  }
  const read = (await ParticipantToken.fromJwt(c.jwt, { token: c.secret })).toJson();
  const expected = ParticipantToken.fromJson(c.claims).toJson();
  // Through JSON: the SDK's objects become plain data, keys compared as sets.
  const plain = (v) => JSON.parse(JSON.stringify(v));
  if (!util.isDeepStrictEqual(plain(read), plain(expected))) {
    return `the token reads as\n    ${JSON.stringify(read)}\n  Rust signed\n    ${JSON.stringify(expected)}`;
  }
  try {
    await ParticipantToken.fromJwt(c.jwt, { token: "another-secret" });
  } catch {
    return null;
  }
  return "it verifies with another secret";
}

async function check(path) {
  const cases = JSON.parse(fs.readFileSync(path, "utf8"));
  if (cases.length === 0) {
    console.error(`token interop FAILED: ${path} has no cases`);
    return 1;
  }
  const failures = [];
  for (const c of cases) {
    let problem;
    try {
      problem = await checkCase(c);
    } catch (e) {
      problem = `the SDK refused it: ${e}`;
    }
    if (problem === null) {
      console.log(`  ok: ${c.case}`);
    } else {
      failures.push(`${c.case}: ${problem}`);
    }
  }
  if (failures.length > 0) {
    console.error("token interop FAILED (TypeScript 0.39.9):\n  " + failures.join("\n  "));
    return 1;
  }
  console.log(`${cases.length} Rust cases verified by @meshagent/meshagent 0.39.9`);
  return 0;
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length === 1 && args[0] === "make") {
    process.stdout.write(JSON.stringify(await make()));
    return 0;
  }
  if (args.length === 2 && args[0] === "check") {
    return check(args[1]);
  }
  console.error("usage: node interop.cjs make | node interop.cjs check FILE");
  return 2;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`token interop FAILED: ${e}`);
    process.exit(1);
  },
);
