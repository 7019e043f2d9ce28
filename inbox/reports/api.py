"""``/api/v1/reports/…``: the report as JSON, with the page's filters and access rules
(managers and admins; token or session auth)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.reports import queries
from inbox.reports.tables import TABLES

FILTER_PARAMETERS = [
    OpenApiParameter("range", str, enum=list(queries.PRESETS)),
    OpenApiParameter("from", str, description="first local date of a custom range, YYYY-MM-DD"),
    OpenApiParameter("to", str, description="last local date of a custom range, YYYY-MM-DD"),
    OpenApiParameter("group", str, enum=list(queries.GROUPS)),
    OpenApiParameter("tz", str, description="IANA time zone; default the organisation's"),
    OpenApiParameter("platform", str),
    OpenApiParameter("account", int),
    OpenApiParameter("team", int),
    OpenApiParameter("agent", int),
    OpenApiParameter("label", int),
]


class IsManager(BasePermission):
    message = "Reports are for managers and admins."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_manager)


class ReportView(APIView):
    permission_classes = [IsAuthenticated, IsManager]

    def filters(self, request) -> queries.ReportFilters:
        try:
            return queries.parse_filters(request.query_params, request.user)
        except queries.BadFilter as exc:
            raise ValidationError({"detail": str(exc)}) from None

    @staticmethod
    def period(f: queries.ReportFilters) -> dict:
        return {
            "from": f.first_day.isoformat(),
            "to": f.last_day.isoformat(),
            "time_zone": f.tz.key,
            "group": f.group_by,
        }


@extend_schema(parameters=FILTER_PARAMETERS)
class SummaryView(ReportView):
    """Headline figures, the previous period's, and the change in percent."""

    def get(self, request):
        f = self.filters(request)
        with queries.report_session():
            headline = queries.headline(f)
        return Response({"period": self.period(f), **headline})


@extend_schema(parameters=FILTER_PARAMETERS)
class TableView(ReportView):
    """One report table: ``series`` (per day or week), ``heatmap`` (weekday × hour),
    ``agents``, ``platforms``."""

    def get(self, request, table: str):
        spec = TABLES.get(table)
        if spec is None:
            raise NotFound(f"no report table {table!r}; tables: {', '.join(TABLES)}")
        f = self.filters(request)
        with queries.report_session():
            rows = spec.rows(f)
        return Response({"period": self.period(f), "columns": list(spec.columns), "results": rows})
