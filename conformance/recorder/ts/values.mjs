// Argument and result values of the TypeScript conformance driver (driver.mjs): revives the
// scenario's special argument values into SDK objects, and turns SDK return values into the outcome
// JSON. The SDK is loaded by driver.mjs (createRequire from the scenario's sdk_dir), so its module
// and apache-arrow (0.39.9; null for 0.35.8) come in as parameters of makeValues().
//
// Special argument values (the rest is plain JSON):
//   {"$bytes": "<base64>"}        -> Uint8Array
//   {"$participant": "<id>"}      -> room.messaging.getParticipant(id) (a RemoteParticipant)
//   {"$file": {"name", "mime_type", "data_base64"}} -> FileContent
//   {"$datatype": <DataType JSON>} -> DataType.fromJson(...)
//   {"$async": [...]}             -> an async iterable of the (revived) items
//   {"$json": <JSON>}             -> JsonContent
//   {"$arrow_table": "<base64>"}  -> an apache-arrow Table (0.39.9), from an Arrow IPC stream
//   {"$arrow_schema": "<base64>"} -> that Table's Schema (0.39.9)

export function camelToSnake(name) {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export function bytesToBase64(bytes) {
  return Buffer.from(bytes).toString("base64");
}

export function errorOutcome(ex) {
  return { error: { code: ex.code === undefined ? null : ex.code, text: ex.message } };
}

export function makeValues({ meshagent, arrow }) {
  const {
    JsonContent,
    TextContent,
    EmptyContent,
    BinaryContent,
    FileContent,
    LinkContent,
    ErrorContent,
    ControlContent,
    splitMessageHeader,
    splitMessagePayload,
    DataType,
  } = meshagent;

  function reviveArg(value, room) {
    if (Array.isArray(value)) return value.map((v) => reviveArg(v, room));
    if (value !== null && typeof value === "object") {
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === "$bytes") {
        return new Uint8Array(Buffer.from(value.$bytes, "base64"));
      }
      if (keys.length === 1 && keys[0] === "$file") {
        const f = value.$file;
        return new FileContent({
          data: new Uint8Array(Buffer.from(f.data_base64, "base64")),
          name: f.name,
          mimeType: f.mime_type,
        });
      }
      if (keys.length === 1 && keys[0] === "$arrow_table") {
        return arrow.tableFromIPC(new Uint8Array(Buffer.from(value.$arrow_table, "base64")));
      }
      if (keys.length === 1 && keys[0] === "$arrow_schema") {
        return arrow.tableFromIPC(new Uint8Array(Buffer.from(value.$arrow_schema, "base64"))).schema;
      }
      if (keys.length === 1 && keys[0] === "$json") {
        return new JsonContent({ json: value.$json });
      }
      if (keys.length === 1 && keys[0] === "$datatype") {
        return DataType.fromJson(value.$datatype);
      }
      if (keys.length === 1 && keys[0] === "$async") {
        const items = value.$async.map((v) => reviveArg(v, room));
        return (async function* () {
          for (const item of items) yield item;
        })();
      }
      if (keys.length === 1 && keys[0] === "$participant") {
        const p = room.messaging.getParticipant(value.$participant);
        if (p === null) throw new Error(`no participant ${value.$participant}`);
        return p;
      }
      const out = {};
      for (const k of keys) out[k] = reviveArg(value[k], room);
      return out;
    }
    return value;
  }

  function contentToJson(content) {
    // A Content -> its wire header (as the SDK would pack it), plus `data`: the payload as base64 if
    // any (same convention as record_python.py).
    const packed = content.pack();
    const header = JSON.parse(splitMessageHeader(packed));
    const payload = splitMessagePayload(packed);
    if (payload.length > 0) header["data"] = bytesToBase64(payload);
    return header;
  }

  const CONTENT_CLASSES = [
    JsonContent,
    TextContent,
    EmptyContent,
    BinaryContent,
    FileContent,
    LinkContent,
    ErrorContent,
    ControlContent,
  ];

  // Class instances -> plain objects with wire (snake_case) field names; plain objects (JSON the
  // server sent and the SDK passed through) keep their keys as they are, unless opts.wireKeys is set
  // (results the SDK builds as camelCase plain objects, e.g. memory/containers/services records).
  // Content -> wire header (+ `data`), Date -> ISO string, Uint8Array -> base64, undefined -> null.
  function toJsonable(value, opts = {}) {
    const rec = (v) => toJsonable(v, opts);
    if (value === undefined || value === null) return null;
    if (typeof value === "boolean" || typeof value === "string") return value;
    if (typeof value === "number") {
      if (!Number.isFinite(value)) throw new Error(`non-finite number ${value}`);
      return value;
    }
    if (typeof value === "bigint") return Number(value);
    if (value instanceof Date) return value.toISOString();
    // apache-arrow: a Table as its rows, a Schema as [{name, type, nullable}] (type: the arrow-js
    // type's toString()).
    if (arrow?.isArrowTable(value)) return value.toArray().map((row) => rec(row.toJSON()));
    if (arrow?.isArrowSchema(value)) {
      return value.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable }));
    }
    if (value instanceof Uint8Array) return bytesToBase64(value); // bytes -> base64 text
    if (Array.isArray(value)) return value.map(rec);
    if (value instanceof Map) {
      const out = {};
      for (const [k, v] of value.entries()) out[String(k)] = rec(v);
      return out;
    }
    if (typeof value === "object") {
      if (CONTENT_CLASSES.some((cls) => value instanceof cls)) return contentToJson(value);
      const proto = Object.getPrototypeOf(value);
      const isPlain = proto === Object.prototype || proto === null;
      if (!isPlain && typeof value.toJson === "function") return rec(value.toJson());
      const out = {};
      for (const [k, v] of Object.entries(value)) {
        if (isPlain) {
          out[opts.wireKeys ? camelToSnake(k) : k] = rec(v);
        } else {
          if (k.startsWith("_") || typeof v === "function") continue;
          if (k === "client" || k === "room") continue; // back references to the RoomClient
          out[camelToSnake(k)] = rec(v);
        }
      }
      return out;
    }
    throw new Error(`cannot convert ${typeof value} to JSON`);
  }

  return { reviveArg, toJsonable };
}
