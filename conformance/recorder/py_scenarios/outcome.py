"""The SDK's return values and callback arguments as JSON (README.md, `outcome.result`)."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import uuid
from typing import Any

from pydantic import BaseModel
from meshagent.api.messaging import Content
from meshagent.api.room_server_client import (
    LivekitConnectionInfo,
    Queue,
    RemoteParticipant,
    ToolkitDescription,
)


def participant_json(p: RemoteParticipant) -> dict[str, Any]:
    return {"id": p.id, "role": p.role, "attributes": to_jsonable(p._attributes), "online": p.online}


def content_json(content: Content) -> dict[str, Any]:
    """A Content as its wire header, plus `data` (base64) for the file/binary tail."""
    out = dict(content.to_json())
    data = content.get_data()
    if data is not None:
        out["data"] = base64.b64encode(data).decode("ascii")
    return out


def to_jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)  # IntEnum -> int
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        out = {}
        for name, info in type(value).model_fields.items():
            out[info.alias or name] = to_jsonable(getattr(value, name))
        for name, extra in (value.model_extra or {}).items():
            out[name] = to_jsonable(extra)
        return out
    if isinstance(value, Queue):
        return {"name": value.name, "size": value.size}
    if isinstance(value, Content):
        return content_json(value)
    if isinstance(value, ToolkitDescription):
        return value.to_json()
    if isinstance(value, LivekitConnectionInfo):
        return {"url": value.url, "token": value.token}
    if isinstance(value, RemoteParticipant):
        return participant_json(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    # Only reached by 0.56 values (record_python.py --sdk 0.56.0): uuid.UUID -> str; the dataset value
    # wrappers (DatasetStruct, DatasetJson, ...) -> their own to_json().
    if isinstance(value, uuid.UUID):
        return str(value)
    if callable(getattr(value, "to_json", None)):
        return to_jsonable(value.to_json())
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")
