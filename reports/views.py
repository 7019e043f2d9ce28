"""The manager's reports page (``/reports/``) and its CSV exports. Managers and admins only."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from reports import queries
from reports.csv import csv_response
from reports.tables import TABLES
from surveys import reports as csat


def manager_required(view):
    """Signed-in managers and admins; everyone else signed in gets 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_manager:
            raise PermissionDenied(gettext("Reports are for managers and admins."))
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@manager_required
def reports_page(request: HttpRequest) -> HttpResponse:
    try:
        filters = queries.parse_filters(request.GET, request.user)
    except queries.BadFilter as exc:
        filters = queries.parse_filters({}, request.user)
        error = str(exc)
    else:
        error = ""
    data = queries.report(filters)
    satisfaction = csat.csat(filters)
    params = filters.as_params()
    query = urlencode(params)
    choices = queries.filter_choices(request.user)
    context = {
        "filters": filters,
        "error": error,
        "query": query,
        "presets": queries.PRESETS,
        "choices": choices,
        # The contact-attribute filter: its value, and the menu of a choice or yes/no attribute.
        "attribute_value": params.get("attribute_value", ""),
        "attribute_options": next(
            (a["options"] for a in choices["attributes"] if a["key"] == filters.attribute), []
        ),
        "data": data,
        "chart_data": {"series": data["series"], "group_by": filters.group_by},
        "charts": {
            "response": queries.drawable(data["series"], queries.RESPONSE_CHART),
            "volume": queries.drawable(data["series"], queries.VOLUME_CHART),
        },
        "min_chart_points": queries.MIN_CHART_POINTS,
        "previous": filters.previous(),
        "hours": range(24),
        "csat": satisfaction,
        "csat_chart": {
            "series": satisfaction["series"],
            "distribution": satisfaction["distribution"],
        },
        "csat_drawable": queries.drawable(satisfaction["series"], ("sent",)),
        "heat_rows": list(zip(data["heatmap"]["weekdays"], data["heatmap"]["grid"], strict=True)),
    }
    return render(request, "reports/index.html", context, status=400 if error else 200)


@require_GET
@manager_required
def export_csv(request: HttpRequest, table: str) -> HttpResponse:
    spec = TABLES.get(table)
    if spec is None:
        raise Http404("No such table")
    try:
        filters = queries.parse_filters(request.GET, request.user)
    except queries.BadFilter as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    name = f"parley-{table}-{filters.first_day}-{filters.last_day}.csv"
    # The rows are aggregates (a few hundred at most); the response streams as it is written.
    with queries.report_session():
        rows = spec.rows(filters)
    return csv_response(name, spec.columns, rows)
