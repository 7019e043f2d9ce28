"""API throttling per token, counted in the shared cache (every web process sees one count)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    """``API_THROTTLE_RATE`` requests per API token; a browser session counts per user, and an
    anonymous caller per address. Over the rate DRF answers 429 with ``Retry-After``."""

    scope = "token"

    def __init__(self) -> None:
        # Resolved per request, not at import (DRF reads its rates once): settings decide.
        self.cache = caches["shared"]
        super().__init__()

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str:
        key = getattr(getattr(request, "auth", None), "key", None)
        if key:
            # A digest of the token (its key is its primary key): no credential in the cache.
            ident = "token-" + hashlib.sha256(key.encode()).hexdigest()[:32]
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"addr-{self.get_ident(request)}"
        return f"parley:throttle:{self.scope}:{ident}"
