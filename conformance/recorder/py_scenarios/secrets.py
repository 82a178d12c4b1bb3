"""secrets.* scenarios and the secrets.request_* pushes."""

from __future__ import annotations

import json
from typing import Any

from meshagent.api import RoomClient
from meshagent.api.oauth import ConnectorRef, OAuthClientConfig

from push_cases import OAUTH_PUSH, SECRET_PUSH

from .common import EMPTY, EventLog, Scenario, b64, case, error_reply, json_reply
from .outcome import to_jsonable


OAUTH = OAuthClientConfig(
    client_id="client-123",
    client_secret=None,
    authorization_endpoint="https://auth.example.test/authorize",
    token_endpoint="https://auth.example.test/token",
    no_pkce=False,
    scopes=["read", "write ✓"],
)
CONNECTOR = ConnectorRef(openai_connector_id="conn-gdrive", server_url=None, client_secret_id=None)

SECRET_BYTES = ("-----BEGIN PRIVATE KEY-----\n" + "QUJD" * 300 + "\n-----END PRIVATE KEY-----\n").encode()
assert len(SECRET_BYTES) > 1100


def secret_handler_setup(room: RoomClient, log: EventLog) -> None:
    """RoomClient passes no secret_request_handler to SecretsClient; set the private attribute."""

    async def handler(request: Any) -> None:
        log.add("secrets.request_secret", to_jsonable(request))

    room.secrets._secret_request_handler = handler


def oauth_handler_kwargs(log: EventLog) -> dict[str, Any]:
    async def handler(request: Any) -> None:
        log.add("secrets.request_oauth_token", to_jsonable(request))

    return {"oauth_token_request_handler": handler}


# The pushes carry the same OAuth config, as the SDK's model dumps it.
assert json.dumps(OAUTH_PUSH.header["request"]["oauth"]) == json.dumps(OAUTH.model_dump(mode="json"))

SECRETS_SCENARIOS: list[Scenario] = [
    case(
        "py-secrets-provide-oauth-authorization",
        "secrets.provide_oauth_authorization",
        {"request_id": "req-oauth-1", "code": "auth-code-✓"},
    ),
    # reject_oauth_authorization uses the same tool with code null and an error.
    case(
        "py-secrets-reject-oauth-authorization",
        "secrets.provide_oauth_authorization",
        {"request_id": "req-oauth-1", "error": "access_denied"},
        run=lambda r: r.secrets.reject_oauth_authorization(request_id="req-oauth-1", error="access_denied"),
    ),
    # The secret travels as the binary tail; `data` is its base64.
    case(
        "py-secrets-provide-secret",
        "secrets.provide_secret",
        {"request_id": "req-secret-1", "data": b64(b"s3cr3t-\xe2\x9c\x93")},
        run=lambda r: r.secrets.provide_secret(request_id="req-secret-1", data=b"s3cr3t-\xe2\x9c\x93"),
    ),
    case(
        "py-secrets-reject-secret",
        "secrets.provide_secret",
        {"request_id": "req-secret-1", "error": "user declined ✗"},
        run=lambda r: r.secrets.reject_secret(request_id="req-secret-1", error="user declined ✗"),
    ),
    case(
        "py-secrets-provide-secret-error-not-found",
        "secrets.provide_secret",
        {"request_id": "req-expired", "data": b64(b"x")},
        error_reply(1003, "secret request not found or expired"),
        run=lambda r: r.secrets.provide_secret(request_id="req-expired", data=b"x"),
    ),
    case(
        "py-secrets-get-offline-oauth-token",
        "secrets.get_offline_oauth_token",
        {},
        json_reply({"access_token": "ya29.token-✓"}),
        run=lambda r: r.secrets.get_offline_oauth_token(),
    ),
    case(
        "py-secrets-get-offline-oauth-token-options",
        "secrets.get_offline_oauth_token",
        {
            "connector": CONNECTOR.model_dump(mode="json"),
            "oauth": OAUTH.model_dump(mode="json"),
            "delegated_to": "p-agent",
            "delegated_by": "p-user",
        },
        json_reply({"access_token": None}),
        run=lambda r: r.secrets.get_offline_oauth_token(
            connector=CONNECTOR, oauth=OAUTH, delegated_to="p-agent", delegated_by="p-user"
        ),
    ),
    case(
        "py-secrets-request-oauth-token",
        "secrets.request_oauth_token",
        {"oauth": OAUTH.model_dump(mode="json"), "redirect_uri": "https://app.example.test/oauth/callback", "participant_id": "p-user"},
        json_reply({"access_token": "gho_abc123"}),
        run=lambda r: r.secrets.request_oauth_token(
            oauth=OAUTH, from_participant_id="p-user", redirect_uri="https://app.example.test/oauth/callback"
        ),
    ),
    case(
        "py-secrets-request-oauth-token-options",
        "secrets.request_oauth_token",
        {
            "connector": CONNECTOR.model_dump(mode="json"),
            "redirect_uri": "https://app.example.test/cb",
            "participant_id": "p-user",
            "timeout": 30,
            "delegate_to": "p-agent",
        },
        json_reply({}),
        run=lambda r: r.secrets.request_oauth_token(
            connector=CONNECTOR,
            timeout=30,
            from_participant_id="p-user",
            redirect_uri="https://app.example.test/cb",
            delegate_to="p-agent",
        ),
    ),
    case(
        "py-secrets-request-oauth-token-error-timeout",
        "secrets.request_oauth_token",
        {"redirect_uri": "https://app.example.test/cb", "participant_id": "p-user", "timeout": 1},
        error_reply(1009, "the user did not authorize in time"),
        run=lambda r: r.secrets.request_oauth_token(
            timeout=1, from_participant_id="p-user", redirect_uri="https://app.example.test/cb"
        ),
    ),
    case(
        "py-secrets-list-secrets",
        "secrets.list_secrets",
        {},
        json_reply(
            {
                "secrets": [
                    {"id": "s-1", "type": "text/plain", "name": "OpenAI key ✓", "delegated_to": None},
                    {"id": "s-2", "type": "application/json", "name": "", "delegated_to": "p-agent"},
                    {"id": "s-3", "type": "oauth", "name": "github"},
                ]
            }
        ),
    ),
    case("py-secrets-delete-secret", "secrets.delete_secret", {"id": "s-1"}),
    case(
        "py-secrets-delete-secret-delegated",
        "secrets.delete_secret",
        {"id": "s-2", "delegated_to": "p-agent"},
        json_reply({}),
    ),
    case(
        "py-secrets-delete-secret-error-not-found",
        "secrets.delete_secret",
        {"id": "s-missing"},
        error_reply(1003, "secret not found"),
    ),
    case(
        "py-secrets-delete-requested-secret",
        "secrets.delete_requested_secret",
        {"url": "https://api.example.test", "type": "application/x-api-key"},
    ),
    case(
        "py-secrets-delete-requested-secret-delegated",
        "secrets.delete_requested_secret",
        {"url": "https://api.example.test/ünï", "type": "text/plain", "delegated_to": "p-agent"},
        json_reply({}),
    ),
    # The reply is a file Content; the SDK returns its bytes.
    case(
        "py-secrets-request-secret",
        "secrets.request_secret",
        {"url": "https://api.example.test", "type": "application/x-api-key", "participant_id": "p-user"},
        {"type": "file", "name": "api-key", "mime_type": "application/x-api-key"},
        tail=b"sk-live-\x00\xff-\xe2\x9c\x93",
        run=lambda r: r.secrets.request_secret(
            url="https://api.example.test", type="application/x-api-key", from_participant_id="p-user"
        ),
    ),
    case(
        "py-secrets-request-secret-options",
        "secrets.request_secret",
        {"url": "https://api.example.test", "type": "text/plain", "participant_id": "p-user", "timeout": 10, "delegate_to": "p-agent"},
        {"type": "file", "name": "", "mime_type": "text/plain"},
        run=lambda r: r.secrets.request_secret(
            url="https://api.example.test",
            type="text/plain",
            timeout=10,
            from_participant_id="p-user",
            delegate_to="p-agent",
        ),
    ),
    case(
        "py-secrets-request-secret-error-timeout",
        "secrets.request_secret",
        {"url": "https://api.example.test", "type": "text/plain", "participant_id": "p-user"},
        error_reply(1009, "secret request timed out"),
        run=lambda r: r.secrets.request_secret(
            url="https://api.example.test", type="text/plain", from_participant_id="p-user"
        ),
    ),
    # binary Content: metadata in headers (with has_data: true), the secret bytes (> 1024) as the tail.
    case(
        "py-secrets-set-secret",
        "secrets.set_secret",
        {
            "secret_id": "s-1",
            "type": "application/x-pem-file",
            "name": "deploy key ✓",
            "delegated_to": "p-agent",
            "for_identity": "alice",
            "data": b64(SECRET_BYTES),
        },
        run=lambda r: r.secrets.set_secret(
            secret_id="s-1",
            type="application/x-pem-file",
            name="deploy key ✓",
            delegated_to="p-agent",
            for_identity="alice",
            data=SECRET_BYTES,
        ),
    ),
    case(
        "py-secrets-set-secret-data-only",
        "secrets.set_secret",
        {"data": b64(b"")},
        json_reply({}),
        run=lambda r: r.secrets.set_secret(data=b""),
    ),
    case(
        "py-secrets-get-secret",
        "secrets.get_secret",
        {"secret_id": "s-1"},
        {"type": "file", "name": "deploy key ✓", "mime_type": "application/x-pem-file"},
        tail=b"-----BEGIN KEY-----\n\xe2\x9c\x93\n",
    ),
    case(
        "py-secrets-get-secret-by-name",
        "secrets.get_secret",
        {"type": "text/plain", "name": "OpenAI key ✓", "delegated_to": "p-agent"},
        {"type": "file", "name": "OpenAI key ✓", "mime_type": "text/plain"},
        tail=b"sk-123",
    ),
    # empty reply: not found, the SDK returns None.
    case("py-secrets-get-secret-missing", "secrets.get_secret", {"secret_id": "s-missing"}, EMPTY),
    # Server -> client requests.
    Scenario(
        id="py-secrets-request-oauth-token-events",
        method="events",
        arguments={},
        pushes=[OAUTH_PUSH],
        room_kwargs=oauth_handler_kwargs,
        expect_events=1,
    ),
    Scenario(
        id="py-secrets-request-secret-events",
        method="events",
        arguments={},
        pushes=[SECRET_PUSH],
        setup=secret_handler_setup,
        expect_events=1,
    ),
    # No oauth_token_request_handler given: the SDK logs "No oauth token handler registered",
    # delivers nothing and sends nothing back.
    Scenario(
        id="py-secrets-request-oauth-token-events-no-handler",
        method="events",
        arguments={},
        pushes=[OAUTH_PUSH],
        expect_events=0,
    ),
    # A stock RoomClient has no secret handler: the SDK logs "No secret handler registered",
    # delivers nothing and sends nothing back.
    Scenario(
        id="py-secrets-request-secret-events-no-handler",
        method="events",
        arguments={},
        pushes=[SECRET_PUSH],
        expect_events=0,
    ),
]
