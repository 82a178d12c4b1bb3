"""secrets.* scenarios (protocol-toolkits.md §5; the secrets.request_* pushes are in events.py)."""

from __future__ import annotations

from .common import SECRET, EMPTY, Scenario, b64, error_reply, json_reply, plain


OAUTH_CONFIG_TS = {
    "client_id": "client-1",
    "authorization_endpoint": "https://auth.example.test/authorize",
    "token_endpoint": "https://auth.example.test/token",
    "scopes": ["read", "write"],
}
OAUTH_CONFIG_WIRE = {
    "client_id": "client-1",
    "client_secret": None,
    "authorization_endpoint": "https://auth.example.test/authorize",
    "token_endpoint": "https://auth.example.test/token",
    "no_pkce": None,
    "scopes": ["read", "write"],
}

SECRETS: list[Scenario] = [
    plain("ts-secrets-provide-oauth-authorization", "secrets.provide_oauth_authorization",
          {"request_id": "req-1", "code": "auth-code-xyz"},
          "secrets.provideOAuthAuthorization", [{"requestId": "req-1", "code": "auth-code-xyz"}], EMPTY),
    plain("ts-secrets-reject-oauth-authorization", "secrets.provide_oauth_authorization",
          {"request_id": "req-1", "error": "user denied access"},
          "secrets.rejectOAuthAuthorization", [{"requestId": "req-1", "error": "user denied access"}], EMPTY),
    plain("ts-secrets-provide-secret", "secrets.provide_secret", {"request_id": "req-2", "data": b64(SECRET)},
          "secrets.provideSecret", [{"requestId": "req-2", "data": {"$bytes": b64(SECRET)}}], EMPTY),
    plain("ts-secrets-reject-secret", "secrets.provide_secret", {"request_id": "req-2", "error": "no such secret"},
          "secrets.rejectSecret", [{"requestId": "req-2", "error": "no such secret"}], EMPTY),
    plain("ts-secrets-get-offline-oauth-token", "secrets.get_offline_oauth_token",
          {"oauth": OAUTH_CONFIG_WIRE, "delegated_to": "p-remote"},
          "secrets.getOfflineOAuthToken", [{"oauth": OAUTH_CONFIG_TS, "delegatedTo": "p-remote"}],
          json_reply({"access_token": "tok-abc"})),
    plain("ts-secrets-get-offline-oauth-token-none", "secrets.get_offline_oauth_token",
          {"connector": {"openai_connector_id": None, "server_url": "https://mcp.example.test", "client_secret_id": None}},
          "secrets.getOfflineOAuthToken", [{"connector": {"serverUrl": "https://mcp.example.test"}}],
          json_reply({"access_token": None})),
    plain("ts-secrets-request-oauth-token", "secrets.request_oauth_token",
          {"oauth": OAUTH_CONFIG_WIRE, "redirect_uri": "https://app.example.test/callback", "timeout": 120,
           "participant_id": "p-remote"},
          "secrets.requestOAuthToken",
          [{"oauth": OAUTH_CONFIG_TS, "fromParticipantId": "p-remote",
            "redirectUri": "https://app.example.test/callback", "timeout": 120}],
          json_reply({"access_token": "tok-def"})),
    plain("ts-secrets-list-secrets", "secrets.list_secrets", {}, "secrets.listSecrets", [],
          json_reply({"secrets": [
              {"id": "sec-1", "name": "github", "type": "oauth", "delegated_to": None},
              {"id": "sec-2", "name": "api key", "type": "text/plain", "delegated_to": "p-remote"},
          ]}),
          result_keys="wire"),
    plain("ts-secrets-delete-secret", "secrets.delete_secret", {"id": "sec-1"},
          "secrets.deleteSecret", [{"secretId": "sec-1"}], EMPTY),
    plain("ts-secrets-delete-requested-secret", "secrets.delete_requested_secret",
          {"url": "https://api.example.test", "type": "text/plain"},
          "secrets.deleteRequestedSecret", [{"url": "https://api.example.test", "type": "text/plain"}], EMPTY),
    plain("ts-secrets-request-secret", "secrets.request_secret",
          {"url": "https://api.example.test", "type": "text/plain", "participant_id": "p-remote"},
          "secrets.requestSecret",
          [{"fromParticipantId": "p-remote", "url": "https://api.example.test", "type": "text/plain"}],
          ({"type": "file", "name": "secret", "mime_type": "text/plain"}, SECRET)),
    plain("ts-secrets-set-secret", "secrets.set_secret",
          {"secret_id": "sec-2", "type": "text/plain", "name": "api key", "data": b64(SECRET)},
          "secrets.setSecret",
          [{"secretId": "sec-2", "mimeType": "text/plain", "name": "api key", "data": {"$bytes": b64(SECRET)}}],
          EMPTY),
    plain("ts-secrets-get-secret", "secrets.get_secret", {"secret_id": "sec-2"},
          "secrets.getSecret", [{"secretId": "sec-2"}],
          ({"type": "file", "name": "api key", "mime_type": "text/plain"}, SECRET)),
    plain("ts-secrets-get-secret-missing", "secrets.get_secret", {"name": "missing"},
          "secrets.getSecret", [{"name": "missing"}], EMPTY),
    plain("ts-secrets-get-secret-error-permission-denied", "secrets.get_secret", {"secret_id": "sec-9"},
          "secrets.getSecret", [{"secretId": "sec-9"}], error_reply("permission denied", 1001)),
]
