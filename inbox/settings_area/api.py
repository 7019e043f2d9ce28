"""Settings API for admins (``/api/v1/settings/``): account health and the audit log, for
monitoring and scripts. Everyone else gets 403."""

from __future__ import annotations

from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.settings_area import audit, health

MAX_AUDIT = 500


class IsAdmin(BasePermission):
    message = "Only admins may read settings."

    def has_permission(self, request: Request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_admin)


class AccountHealthList(APIView):
    """Every platform account with its health state, last event and events today."""

    permission_classes = [IsAuthenticated, IsAdmin]

    def get(self, request: Request) -> Response:
        return Response({"results": [h.as_dict() for h in health.accounts_health()]})


class AuditList(APIView):
    """The newest audit entries (``?action=`` prefix, ``?target_type=``, ``?before=<id>``)."""

    permission_classes = [IsAuthenticated, IsAdmin]

    def get(self, request: Request) -> Response:
        entries = audit.search(
            action=request.query_params.get("action", ""),
            target_type=request.query_params.get("target_type", ""),
        )
        before = request.query_params.get("before", "")
        if before.isdigit():
            entries = entries.filter(id__lt=int(before))
        return Response(
            {
                "results": [
                    {
                        "id": e.pk,
                        "at": e.created_at.isoformat(),
                        "actor": e.actor.username if e.actor else None,
                        "action": e.action,
                        "target_type": e.target_type,
                        "target_id": e.target_id,
                        "target": e.target_repr,
                        "changes": e.changes,
                    }
                    for e in entries[:MAX_AUDIT]
                ]
            }
        )
