// The arrow-js (apache-arrow, as bundled with @meshagent/meshagent 0.39.9) IPC stream encoding of
// Arrow values given as pyarrow-written IPC streams, so that the TS dataset scenarios can state the
// `data` the SDK sends (it re-encodes Tables and Schemas with arrow-js; the bytes differ from
// pyarrow's). Usage: node arrow_ipc.mjs '[["table"|"schema", "<pyarrow IPC base64>"], ...]'
// -> JSON list of base64 strings on stdout. "schema" encodes as the SDK's schemaToIPC does (an
// empty Table of the schema).
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const arrow = require("apache-arrow");
const items = JSON.parse(process.argv[2]);
const out = items.map(([kind, b64]) => {
  const table = arrow.tableFromIPC(new Uint8Array(Buffer.from(b64, "base64")));
  const value = kind === "schema" ? new arrow.Table(table.schema, []) : table;
  return Buffer.from(arrow.tableToIPC(value, "stream")).toString("base64");
});
process.stdout.write(JSON.stringify(out));
