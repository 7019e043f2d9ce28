"""A local OAuth provider on the fake platform server: Facebook Login (dialog, code exchange,
the user's Pages with their linked Instagram accounts), X OAuth 2.0 with PKCE, LinkedIn OAuth.

The authorisation endpoints answer at once with the 302 back to ``redirect_uri`` that the real
provider sends after the user consents; codes are single-use and bound to the client and the
redirect URI; X checks the PKCE verifier against the challenge. ``install`` also points Parley's
OAuth settings at this server and sets the apps' ids, and the Meta app secret and verify token
when none is set (the live server needs them at start). LinkedIn's client secret also signs its
webhooks, so tests that connect LinkedIn set ``LINKEDIN_CLIENT_SECRET`` themselves.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import threading
from urllib.parse import parse_qs, urlencode

from django.conf import settings

from tests.fakes.linkedin import ORGANIZATION_ID as LINKEDIN_ORGANIZATION_ID
from tests.fakes.meta import IG_ID, IG_USERNAME, PAGE_ID, PAGE_NAME
from tests.fakes.server import FakePlatformServer, Recorded, Reply

META_APP_ID = "fake-meta-app"
META_APP_SECRET = "fake-meta-app-secret"
META_VERIFY_TOKEN = "fake-verify-token"
X_CLIENT_ID = "fake-x-client"
X_CLIENT_SECRET = "fake-x-client-secret"
LINKEDIN_CLIENT_ID = "fake-linkedin-client"
LINKEDIN_CLIENT_SECRET = "fake-linkedin-secret"
LINKEDIN_ORGANIZATION = f"urn:li:organization:{LINKEDIN_ORGANIZATION_ID}"

_ids = itertools.count(1)
_lock = threading.Lock()
# code → what it was issued for; popped when exchanged (single use).
_codes: dict[str, dict[str, str]] = {}
# tokens this provider issued → the kind of token
_tokens: dict[str, str] = {}


def _issue_code(provider: str, query: dict[str, list[str]]) -> Reply:
    def one(name: str) -> str:
        return (query.get(name) or [""])[0]

    redirect_uri = one("redirect_uri")
    if not redirect_uri:
        return Reply(400, {"error": "invalid_request", "error_description": "no redirect_uri"})
    code = f"{provider}-code-{next(_ids)}"
    with _lock:
        _codes[code] = {
            "provider": provider,
            "client_id": one("client_id"),
            "redirect_uri": redirect_uri,
            "challenge": one("code_challenge"),
        }
    back = {"code": code, "state": one("state")}
    return Reply(302, None, headers={"Location": f"{redirect_uri}?{urlencode(back)}"})


def _redeem(provider: str, form: dict[str, str], client_id: str) -> dict[str, str] | None:
    with _lock:
        issued = _codes.pop(form.get("code", ""), None)
    if (
        issued is None
        or issued["provider"] != provider
        or issued["client_id"] != client_id
        or issued["redirect_uri"] != form.get("redirect_uri")
    ):
        return None
    return issued


def _form(request: Recorded) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.body.decode()).items()}


def _token(kind: str) -> str:
    value = f"{kind}-{next(_ids)}-token"
    with _lock:
        _tokens[value] = kind
    return value


def _bearer(request: Recorded) -> str:
    return request.headers.get("authorization", "").removeprefix("Bearer ")


# --- Facebook ---------------------------------------------------------------------------------


def _facebook_dialog(request: Recorded, match) -> Reply:
    return _issue_code("facebook", request.query)


def _facebook_token(request: Recorded, match) -> Reply:
    form = _form(request)
    if form.get("grant_type") == "fb_exchange_token":
        # Short-lived user token → long-lived one (the app secret proves the app).
        if (
            form.get("client_secret") != META_APP_SECRET
            or _tokens.get(form.get("fb_exchange_token", "")) != "fb-user"
        ):
            return Reply(
                400,
                {
                    "error": {
                        "message": "Invalid OAuth access token.",
                        "type": "OAuthException",
                        "code": 190,
                    }
                },
            )
        return Reply(
            200, {"access_token": _token("fb-user"), "token_type": "bearer", "expires_in": 5183944}
        )
    if form.get("client_secret") != META_APP_SECRET or not _redeem(
        "facebook", form, form.get("client_id", "")
    ):
        return Reply(
            400,
            {
                "error": {
                    "message": "Invalid verification code format.",
                    "type": "OAuthException",
                    "code": 100,
                }
            },
        )
    # A short-lived user token (about an hour), as the code exchange gives.
    return Reply(
        200, {"access_token": _token("fb-user"), "token_type": "bearer", "expires_in": 3600}
    )


def _facebook_pages(request: Recorded, match) -> Reply:
    if _tokens.get(_bearer(request)) != "fb-user":
        return Reply(
            400,
            {
                "error": {
                    "message": "Invalid OAuth access token.",
                    "type": "OAuthException",
                    "code": 190,
                }
            },
        )
    return Reply(
        200,
        {
            "data": [
                {
                    "id": PAGE_ID,
                    "name": PAGE_NAME,
                    "access_token": _token("fb-page"),
                    "instagram_business_account": {"id": IG_ID, "username": IG_USERNAME},
                }
            ],
            "paging": {"cursors": {"before": "a", "after": "b"}},
        },
    )


def _subscribed_apps(request: Recorded, match) -> Reply:
    if _tokens.get(_bearer(request)) != "fb-page":
        return Reply(
            400,
            {
                "error": {
                    "message": "Invalid OAuth access token.",
                    "type": "OAuthException",
                    "code": 190,
                }
            },
        )
    return Reply(200, {"success": True})


# --- X ----------------------------------------------------------------------------------------


def _x_authorize(request: Recorded, match) -> Reply:
    if (request.query.get("code_challenge_method") or [""])[0] != "S256":
        return Reply(400, {"error": "invalid_request", "error_description": "PKCE S256 required"})
    return _issue_code("x", request.query)


def _x_token(request: Recorded, match) -> Reply:
    form = _form(request)
    issued = _redeem("x", form, form.get("client_id", ""))
    verifier = form.get("code_verifier", "")
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    if issued is None or not verifier or issued["challenge"] != challenge:
        return Reply(
            400,
            {
                "error": "invalid_request",
                "error_description": "Value passed for the code was invalid.",
            },
        )
    return Reply(
        200,
        {
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": _token("x-user"),
            "scope": "dm.read dm.write tweet.read users.read offline.access",
            "refresh_token": _token("x-refresh"),
        },
    )


# --- LinkedIn ---------------------------------------------------------------------------------


def _linkedin_authorize(request: Recorded, match) -> Reply:
    return _issue_code("linkedin", request.query)


def _linkedin_token(request: Recorded, match) -> Reply:
    form = _form(request)
    if form.get("client_secret") != LINKEDIN_CLIENT_SECRET or not _redeem(
        "linkedin", form, form.get("client_id", "")
    ):
        return Reply(400, {"error": "invalid_request", "error_description": "invalid code"})
    return Reply(200, {"access_token": _token("li-member"), "expires_in": 5183999})


def _linkedin_acls(request: Recorded, match) -> Reply:
    if _tokens.get(_bearer(request)) != "li-member":
        return Reply(401, {"status": 401, "message": "Invalid access token"})
    return Reply(
        200,
        {
            "elements": [
                {
                    "organization": LINKEDIN_ORGANIZATION,
                    "role": "ADMINISTRATOR",
                    "state": "APPROVED",
                }
            ]
        },
    )


def install(server: FakePlatformServer) -> None:
    settings.META_APP_ID = META_APP_ID
    settings.META_APP_SECRET = settings.META_APP_SECRET or META_APP_SECRET
    settings.META_VERIFY_TOKEN = settings.META_VERIFY_TOKEN or META_VERIFY_TOKEN
    settings.META_OAUTH_DIALOG_URL = f"{server.url}/facebook/v21.0/dialog/oauth"
    settings.META_OAUTH_TOKEN_URL = f"{server.url}/meta/v21.0/oauth/access_token"
    settings.X_CLIENT_ID = X_CLIENT_ID
    settings.X_CLIENT_SECRET = X_CLIENT_SECRET
    settings.X_OAUTH_AUTHORIZE_URL = f"{server.url}/x-login/i/oauth2/authorize"
    settings.X_OAUTH_TOKEN_URL = f"{server.url}/x/2/oauth2/token"
    settings.LINKEDIN_CLIENT_ID = LINKEDIN_CLIENT_ID
    settings.LINKEDIN_OAUTH_AUTHORIZE_URL = f"{server.url}/linkedin-login/oauth/v2/authorization"
    settings.LINKEDIN_OAUTH_TOKEN_URL = f"{server.url}/linkedin-login/oauth/v2/accessToken"

    server.route("GET", r"^/facebook/v[0-9.]+/dialog/oauth$", _facebook_dialog)
    server.route("POST", r"^/meta/v[0-9.]+/oauth/access_token$", _facebook_token)
    server.route("GET", r"^/meta/v[0-9.]+/me/accounts$", _facebook_pages)
    server.route("POST", r"^/meta/v[0-9.]+/[0-9]+/subscribed_apps$", _subscribed_apps)
    server.route("GET", r"^/x-login/i/oauth2/authorize$", _x_authorize)
    server.route("POST", r"^/x/2/oauth2/token$", _x_token)
    server.route("GET", r"^/linkedin-login/oauth/v2/authorization$", _linkedin_authorize)
    server.route("POST", r"^/linkedin-login/oauth/v2/accessToken$", _linkedin_token)
    server.route("GET", r"^/linkedin/rest/organizationAcls$", _linkedin_acls)
