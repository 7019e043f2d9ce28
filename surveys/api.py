"""``GET /api/v1/reports/csat/?from=&to=``: the CSAT report as JSON (managers and admins;
token or session auth), with the reports' filters."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from reports import queries
from reports.api import FILTER_PARAMETERS, PERIOD, ReportView
from surveys import reports

GROUP_ROW = {
    "sent": serializers.IntegerField(),
    "responses": serializers.IntegerField(),
    "response_rate": serializers.FloatField(allow_null=True, help_text="percent"),
    "satisfied": serializers.IntegerField(help_text="ratings of 4 or 5"),
    "score": serializers.FloatField(allow_null=True, help_text="percent of 4–5 ratings"),
}
CSAT = inline_serializer(
    "CsatReport",
    fields={
        "period": PERIOD,
        **GROUP_ROW,
        "distribution": serializers.DictField(child=serializers.IntegerField()),
        "not_sent": serializers.IntegerField(),
        "not_sent_reasons": serializers.DictField(child=serializers.IntegerField()),
        "by_agent": serializers.ListField(child=serializers.DictField()),
        "by_team": serializers.ListField(child=serializers.DictField()),
        "by_platform": serializers.ListField(child=serializers.DictField()),
        "series": serializers.ListField(child=serializers.DictField()),
        "comments": serializers.ListField(child=serializers.DictField()),
    },
)


@extend_schema(parameters=FILTER_PARAMETERS, responses=CSAT)
class CsatView(ReportView):
    """Satisfaction surveys asked in the period: ``responses``, ``score`` (percent of 4–5
    ratings), ``response_rate``, and the same per agent (``by_agent``), team, platform and
    period, with the latest comments. ``from`` and ``to`` alone mean a custom range."""

    def filters(self, request) -> queries.ReportFilters:
        params = request.query_params.copy()
        if "range" not in params and ("from" in params or "to" in params):
            params["range"] = "custom"
        try:
            return queries.parse_filters(params, request.user)
        except queries.BadFilter as exc:
            raise ValidationError({"detail": str(exc)}) from None

    def get(self, request):
        f = self.filters(request)
        with queries.report_session():
            data = reports.csat(f)
        return Response({"period": self.period(f), **data})
