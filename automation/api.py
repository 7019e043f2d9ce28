"""REST API for automation rules (admins and managers) and macros (everyone: their own and the
shared ones). Conventions of ``inbox.api``: token auth, keyset pages, 404 outside access,
422 ``{code, detail}`` when a rule cannot run as written."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from automation import engine, services, spec
from automation.models import Macro, Rule
from inbox.access import get_visible_conversation, visible_account_ids
from inbox.api.views import Pagination

RULE_FIELDS = {"name", "trigger", "conditions", "actions", "enabled", "stop_processing", "position"}


# --- The schema's description of the bodies (validation is automation.spec's) ----------------


class RuleBody(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    trigger = serializers.JSONField(
        help_text='"message_received", "conversation_opened", "status_changed", '
        '"labels_changed", "assigned", {"no_reply_minutes": N, "business_hours": bool} '
        'or {"pending_days": N}'
    )
    conditions = serializers.JSONField(
        required=False,
        help_text='[{"field", "operator", "value"}] (all), or {"any": [...]}',
    )
    actions = serializers.JSONField(help_text='[{"type", "value"}], run in order')
    enabled = serializers.BooleanField(required=False, default=True)
    stop_processing = serializers.BooleanField(required=False, default=False)
    position = serializers.IntegerField(required=False, min_value=0)


class RuleOut(RuleBody):
    id = serializers.IntegerField()
    hits = serializers.IntegerField()
    last_hit_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class Refusal(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    field = serializers.CharField(required=False)


class DryRunOut(serializers.Serializer):
    days = serializers.IntegerField()
    scanned = serializers.IntegerField()
    matched = serializers.IntegerField()
    truncated = serializers.BooleanField()
    examples = serializers.JSONField()


class MacroOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    actions = serializers.JSONField()
    shared = serializers.BooleanField()


class MacroRunIn(serializers.Serializer):
    conversation = serializers.IntegerField()


class IsRuleEditor(permissions.BasePermission):
    message = "Only admins and managers may manage automation rules."

    def has_permission(self, request: Request, view: Any) -> bool:
        return services.may_edit_rules(request.user)


class RulePagination(Pagination):
    ordering = ("position", "id")


def rule_data(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        **services.rule_body(rule),
        "position": rule.position,
        "hits": rule.hits,
        "last_hit_at": rule.last_hit_at.isoformat() if rule.last_hit_at else None,
        "created_at": rule.created_at.isoformat(),
        "updated_at": rule.updated_at.isoformat(),
    }


def _body(request: Request, *, required: set[str]) -> dict[str, Any]:
    """The JSON object sent; 400 for another shape, missing or unknown fields."""
    data = request.data
    if not isinstance(data, dict):
        raise serializers.ValidationError({"detail": "The body is a JSON object."})
    unknown = set(data) - RULE_FIELDS
    if unknown:
        raise serializers.ValidationError({f: "Unknown field." for f in sorted(unknown)})
    missing = required - set(data)
    if missing:
        raise serializers.ValidationError({f: "This field is required." for f in sorted(missing)})
    return dict(data)


def _refused(exc: spec.Invalid) -> Response:
    return Response(
        {"code": exc.code, "detail": exc.detail, "field": exc.field},
        status=status.HTTP_422_UNPROCESSABLE_ENTITY,
    )


class RuleList(APIView):
    permission_classes = [permissions.IsAuthenticated, IsRuleEditor]

    @extend_schema(summary="Automation rules, in the order they run", responses=RuleOut(many=True))
    def get(self, request: Request) -> Response:
        paginator = RulePagination()
        page = paginator.paginate_queryset(Rule.objects.all(), request, view=self)
        return paginator.get_paginated_response([rule_data(r) for r in page])

    @extend_schema(
        summary="Create a rule", request=RuleBody, responses={201: RuleOut, 422: Refusal}
    )
    def post(self, request: Request) -> Response:
        data = _body(request, required={"name", "trigger", "actions"})
        try:
            rule = services.create_rule(actor=request.user, data=data)
        except spec.Invalid as exc:
            return _refused(exc)
        return Response(rule_data(rule), status=status.HTTP_201_CREATED)


class RuleDetail(APIView):
    permission_classes = [permissions.IsAuthenticated, IsRuleEditor]

    def _rule(self, pk: int) -> Rule:
        rule = Rule.objects.filter(pk=pk).first()
        if rule is None:
            raise Http404
        return rule

    @extend_schema(responses=RuleOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(rule_data(self._rule(pk)))

    @extend_schema(request=RuleBody, responses={200: RuleOut, 422: Refusal})
    def patch(self, request: Request, pk: int) -> Response:
        data = _body(request, required=set())
        try:
            rule = services.update_rule(actor=request.user, rule=self._rule(pk), data=data)
        except spec.Invalid as exc:
            return _refused(exc)
        return Response(rule_data(rule))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        services.delete_rule(actor=request.user, rule=self._rule(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RuleDryRun(APIView):
    """What a rule (saved or not) would have matched over the last 7 days; changes nothing."""

    permission_classes = [permissions.IsAuthenticated, IsRuleEditor]

    @extend_schema(request=RuleBody, responses={200: DryRunOut, 422: Refusal})
    def post(self, request: Request) -> Response:
        data = _body(request, required={"trigger", "actions"})
        data.setdefault("name", "dry run")
        try:
            clean = spec.clean_rule(data)
        except spec.Invalid as exc:
            return _refused(exc)
        result = engine.dry_run(clean, account_ids=visible_account_ids(request.user))
        return Response(
            {
                "days": engine.DRY_RUN_DAYS,
                "scanned": result.scanned,
                "matched": result.matched,
                "truncated": result.truncated,
                "examples": [{**e, "at": e["at"].isoformat()} for e in result.examples],
            }
        )


def macro_data(macro: Macro) -> dict[str, Any]:
    return {"id": macro.pk, "name": macro.name, "actions": macro.actions, "shared": macro.shared}


class MacroList(APIView):
    @extend_schema(responses=MacroOut(many=True))
    def get(self, request: Request) -> Response:
        return Response({"results": [macro_data(m) for m in services.macros_for(request.user)]})


class MacroRun(APIView):
    """``POST {"conversation": id}``: 200 with what each step did, 422 with every step that
    cannot run (then nothing ran), 404 for a conversation or macro outside the caller's reach."""

    @extend_schema(request=MacroRunIn, responses={200: None, 422: Refusal})
    def post(self, request: Request, pk: int) -> Response:
        macro = services.macros_for(request.user).filter(pk=pk).first()
        conversation_id = (
            request.data.get("conversation") if isinstance(request.data, dict) else None
        )
        if macro is None:
            raise Http404
        if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
            return Response(
                {"conversation": "A conversation id."}, status=status.HTTP_400_BAD_REQUEST
            )
        conversation = get_visible_conversation(request.user, conversation_id)
        try:
            done = services.run_macro(macro=macro, conversation=conversation, user=request.user)
        except services.MacroRefused as refused:
            return Response(
                {
                    "code": "macro_refused",
                    "detail": str(refused),
                    "steps": [
                        {"index": p.index, "step": p.step, "detail": p.detail}
                        for p in refused.problems
                    ],
                },
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return Response({"done": done})
