"""Where browsers report Content-Security-Policy violations (``report-uri`` of the policy in
settings): each report is logged, so a page that breaks the policy — or an injection that the
policy stopped — shows up in the logs."""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

log = logging.getLogger(__name__)

# A report is a few hundred bytes; anyone can post here, so nothing larger is read.
MAX_REPORT_BYTES = 16 * 1024
REPORTED_FIELDS = (
    "document-uri",
    "violated-directive",
    "effective-directive",
    "blocked-uri",
    "source-file",
    "line-number",
    "script-sample",
)


@csrf_exempt  # browsers send reports without our CSRF token
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    length = request.headers.get("Content-Length", "")
    if not length.isdigit() or int(length) > MAX_REPORT_BYTES:
        log.warning("CSP report refused: %s bytes", length or "unknown")
        return HttpResponse(status=413)
    try:
        report = json.loads(request.body).get("csp-report")
    except (ValueError, AttributeError, RecursionError):
        report = None
    if not isinstance(report, dict):
        log.warning("CSP report ignored: not a csp-report JSON object")
        return HttpResponse(status=400)
    log.warning(
        "CSP violation: %s",
        {field: str(report.get(field, ""))[:300] for field in REPORTED_FIELDS},
    )
    return HttpResponse(status=204)
