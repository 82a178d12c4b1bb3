"""queues.* scenarios (the same values and replies as the Python scenarios)."""

from __future__ import annotations

from .common import EMPTY, LONG_TEXT, Scenario, error_reply, json_reply, plain


QUEUES: list[Scenario] = [
    plain("ts-queues-list", "queues.list", {}, "queues.list", [],
          json_reply({"queues": [{"name": "jobs", "size": 3}, {"name": "événements", "size": 0}]})),
    plain("ts-queues-open", "queues.open", {"name": "jobs"}, "queues.open", ["jobs"], EMPTY),
    plain("ts-queues-open-error-not-found", "queues.open", {"name": "missing"}, "queues.open", ["missing"],
          error_reply("queue not found", 5001)),
    plain("ts-queues-send", "queues.send", {"name": "jobs", "message": {"task": "resize", "id": 7}},
          "queues.send", ["jobs", {"task": "resize", "id": 7}, {}], EMPTY),
    plain("ts-queues-send-create-false", "queues.send",
          {"name": "jobs", "message": {"task": "resize", "id": 8}, "create": False},
          "queues.send", ["jobs", {"task": "resize", "id": 8}, {"create": False}], EMPTY),
    plain("ts-queues-send-large-unicode", "queues.send",
          {
              "name": "jobs",
              "message": {
                  "greeting": "héllo wörld — 日本語 ✓ 🚀",
                  "long": LONG_TEXT,
                  "nested": {"list": [1, 2.5, None, True, "ß"]},
              },
          },
          "queues.send",
          ["jobs", {
              "greeting": "héllo wörld — 日本語 ✓ 🚀",
              "long": LONG_TEXT,
              "nested": {"list": [1, 2.5, None, True, "ß"]},
          }, {}],
          EMPTY),
    plain("ts-queues-drain", "queues.drain", {"name": "jobs"}, "queues.drain", ["jobs"], EMPTY),
    plain("ts-queues-close", "queues.close", {"name": "jobs"}, "queues.close", ["jobs"], EMPTY),
    plain("ts-queues-receive", "queues.receive", {"name": "jobs"}, "queues.receive", ["jobs", {}],
          json_reply({"task": "resize", "id": 7})),
    plain("ts-queues-receive-empty", "queues.receive", {"name": "jobs", "create": False, "wait": False},
          "queues.receive", ["jobs", {"create": False, "wait": False}], EMPTY),
]
