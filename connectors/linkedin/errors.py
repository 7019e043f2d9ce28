"""LinkedIn's API errors as data for ``connectors.http.classify``."""

from __future__ import annotations

from connectors import http

classify = http.ErrorRules(
    name="LinkedIn",
    auth_reason="LinkedIn refused the access token{suffix}: reconnect the organisation.",
    rate_limit_kind="{status}",
    rate_limit_reason="LinkedIn is busy (HTTP {status}); Parley will retry.",
    cases=(
        http.ErrorCase(
            "403",
            "LinkedIn refused the comment: the token needs w_organization_social and an "
            "administrator of the Page{suffix}.",
            statuses=frozenset({403}),
        ),
        http.ErrorCase(
            "404",
            "LinkedIn no longer has this post or comment{suffix}.",
            statuses=frozenset({404}),
        ),
    ),
    refused=http.ErrorCase("{status}", "LinkedIn refused the comment (HTTP {status}){suffix}."),
)
