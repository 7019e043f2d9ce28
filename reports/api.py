"""``/api/v1/reports/…``: the report as JSON, with the page's filters and access rules
(managers and admins; token or session auth)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from reports import queries
from reports.tables import TABLES

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
    OpenApiParameter(
        "attribute",
        str,
        description="key of a custom contact attribute: only conversations whose contact has it",
    ),
    OpenApiParameter(
        "attribute_value",
        str,
        description=(
            "with attribute: its value (text in any case; number, date YYYY-MM-DD, choice, "
            "true/false exactly); empty or absent: any value"
        ),
    ),
]


PERIOD = inline_serializer(
    "ReportPeriod",
    fields={
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "time_zone": serializers.CharField(),
        "group": serializers.ChoiceField(choices=queries.GROUPS),
    },
)
SUMMARY = inline_serializer(
    "ReportSummary",
    fields={
        "period": PERIOD,
        "current": serializers.DictField(help_text="every figure of the period (docs/reports.md)"),
        "previous": serializers.DictField(help_text="the same figures, previous period"),
        "figures": serializers.ListField(
            child=serializers.DictField(),
            help_text="headline figures: key, label, kind, value, previous, change_percent",
        ),
    },
)
TABLE = inline_serializer(
    "ReportTable",
    fields={
        "period": PERIOD,
        "columns": serializers.ListField(child=serializers.CharField()),
        "results": serializers.ListField(child=serializers.DictField()),
    },
)


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


@extend_schema(parameters=FILTER_PARAMETERS, responses=SUMMARY)
class SummaryView(ReportView):
    """Headline figures, the previous period's, and the change in percent."""

    def get(self, request):
        f = self.filters(request)
        with queries.report_session():
            headline = queries.headline(f)
        return Response({"period": self.period(f), **headline})


@extend_schema(
    parameters=[
        OpenApiParameter("table", str, OpenApiParameter.PATH, enum=list(TABLES)),
        *FILTER_PARAMETERS,
    ],
    responses=TABLE,
)
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
