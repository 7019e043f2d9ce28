"""REST API for contacts (``/api/v1/contacts/``, ``/api/v1/contact-attributes/``): a public
contract, exactly as issue 17 writes it. Same access as the pages: a contact the caller may
not see is 404; a rule refusal is 422 ``{code, detail}``."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts import attributes, export, selectors, services
from contacts.models import AttributeDefinition
from inbox.models import Contact, ContactIdentity, Platform, User

# Keyset pagination by id (``?before=``), as the page: ``{"results", "next"}``.
API_PAGE_SIZE = 50


def contact_json(
    contact: Contact, identities: list[ContactIdentity], labels: list[str]
) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "name": contact.name,
        "identities": [
            {
                "platform": i.account.platform,
                "account": i.account_id,
                "platform_user_id": i.platform_user_id,
                "username": i.username,
            }
            for i in identities
        ],
        "attributes": contact.attributes,
        "labels": labels,
        "consent": export.consent_json(contact),
    }


def one_contact_json(user: User, contact: Contact) -> dict[str, Any]:
    selectors.attach_identities(user, [contact])
    return contact_json(contact, contact.visible_identities, contact.label_names)


def refused(code: str, detail: str) -> Response:
    return Response({"code": code, "detail": detail}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)


class IsAdminForWrites(BasePermission):
    message = "Only admins may do this."

    def has_permission(self, request: Request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return bool(request.user.is_authenticated and request.user.is_admin)


@extend_schema(
    parameters=[
        OpenApiParameter("q", str, description="name, username or attribute value"),
        OpenApiParameter("platform", str, enum=list(Platform.values)),
        OpenApiParameter("label", int, description="a label id"),
        OpenApiParameter("attr", str, description="an attribute key (with attr_value)"),
        OpenApiParameter("attr_value", str),
        OpenApiParameter("before", int, description="continue before this contact id (`next`)"),
    ]
)
class ContactList(APIView):
    """Contacts the caller may see, newest first: ``{"results", "next"}``."""

    def get(self, request: Request) -> Response:
        params = request.query_params
        if len(params.get("q", "")) > selectors.MAX_QUERY:
            raise ValidationError({"q": f"at most {selectors.MAX_QUERY} characters"})
        if params.get("platform") and params["platform"] not in Platform.values:
            raise ValidationError({"platform": f"one of {', '.join(Platform.values)}"})
        filters = selectors.ContactFilters.from_query(params)
        before = params.get("before", "")
        if before and not before.isdigit():
            raise ValidationError({"before": "a contact id"})
        rows, next_before = selectors.page(
            request.user, filters, before=int(before) if before else None, size=API_PAGE_SIZE
        )
        next_url = None
        if next_before is not None:
            query = params.copy()
            query["before"] = str(next_before)
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response(
            {
                "results": [contact_json(c, c.visible_identities, c.label_names) for c in rows],
                "next": next_url,
            }
        )


class ContactDetail(APIView):
    """One contact; ``PATCH {"name"?, "attributes"?, "consent"?: {"promotional": bool}}``;
    ``DELETE`` erases (admins)."""

    def get(self, request: Request, pk: int) -> Response:
        contact = selectors.get_visible_contact(request.user, pk)
        return Response(one_contact_json(request.user, contact))

    def patch(self, request: Request, pk: int) -> Response:
        contact = selectors.get_visible_contact(request.user, pk)
        data = request.data if isinstance(request.data, dict) else None
        if data is None:
            raise ValidationError({"detail": "a JSON object"})
        name = data.get("name")
        if name is not None and not isinstance(name, str):
            raise ValidationError({"name": "must be text"})
        consent = data.get("consent")
        if consent is not None and (
            not isinstance(consent, dict) or not isinstance(consent.get("promotional"), bool)
        ):
            raise ValidationError({"consent": '{"promotional": true or false}'})
        try:
            # One change: a refused attribute leaves the consent as it was too.
            with transaction.atomic():
                contact = services.update_contact(
                    contact=contact,
                    actor=request.user,
                    name=name,
                    attribute_changes=data.get("attributes"),
                )
                if consent is not None:
                    # Recorded with its source in the consent history (who, when, how).
                    services.set_consent(
                        contact=contact,
                        actor=request.user,
                        state=Contact.Consent.OPTED_IN
                        if consent["promotional"]
                        else Contact.Consent.OPTED_OUT,
                        source=f"API, by {request.user.display_name}",
                    )
        except attributes.InvalidAttribute as invalid:
            return refused(invalid.code, invalid.detail)
        contact.refresh_from_db()
        return Response(one_contact_json(request.user, contact))

    def delete(self, request: Request, pk: int) -> Response:
        contact = selectors.get_visible_contact(request.user, pk)
        if not request.user.is_admin:
            return Response(
                {"detail": "Only admins may erase a contact."}, status=status.HTTP_403_FORBIDDEN
            )
        services.erase(contact=contact, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactMergeView(APIView):
    """``{"other": <id>}``: the other contact becomes part of this one (it then 404s)."""

    def post(self, request: Request, pk: int) -> Response:
        contact = selectors.get_visible_contact(request.user, pk)
        other_id = request.data.get("other") if isinstance(request.data, dict) else None
        if not isinstance(other_id, int) or isinstance(other_id, bool):
            raise ValidationError({"other": "a contact id"})
        other = selectors.get_visible_contact(request.user, other_id)
        try:
            services.merge(survivor=contact, other=other, actor=request.user)
        except services.ContactRefused as refusal:
            return refused(refusal.code, refusal.detail)
        contact.refresh_from_db()
        return Response(one_contact_json(request.user, contact))


class ContactUnmergeView(APIView):
    """``{"identity": {"platform", "platform_user_id"}}``: split that identity off; answers
    with the split-off contact (its ``id``)."""

    def post(self, request: Request, pk: int) -> Response:
        contact = selectors.get_visible_contact(request.user, pk)
        wanted = request.data.get("identity") if isinstance(request.data, dict) else None
        if not isinstance(wanted, dict) or not all(
            isinstance(wanted.get(k), str) for k in ("platform", "platform_user_id")
        ):
            raise ValidationError({"identity": "{platform, platform_user_id}"})
        visible = selectors.identities_of(request.user, [contact.pk])[contact.pk]
        identity = next(
            (
                i
                for i in visible
                if i.account.platform == wanted["platform"]
                and i.platform_user_id == wanted["platform_user_id"]
            ),
            None,
        )
        if identity is None:
            return Response({"detail": "No such identity."}, status=status.HTTP_404_NOT_FOUND)
        try:
            split_off = services.unmerge(contact=contact, identity=identity, actor=request.user)
        except services.ContactRefused as refusal:
            return refused(refusal.code, refusal.detail)
        return Response({**one_contact_json(request.user, split_off), "unmerged_from": contact.pk})


class ContactExport(APIView):
    """Everything Parley holds about the person that the caller may see, as JSON."""

    def get(self, request: Request, pk: int) -> Response:
        contact = selectors.get_visible_contact(request.user, pk)
        return Response(export.data_export(request.user, contact))


def definition_json(definition: AttributeDefinition) -> dict[str, Any]:
    return {
        "key": definition.key,
        "label": definition.label,
        "type": definition.type,
        "choices": definition.choices,
    }


class ContactAttributeList(APIView):
    """Attribute definitions; admins create them with ``{key, label, type, choices?}``."""

    permission_classes = [*APIView.permission_classes, IsAdminForWrites]

    def get(self, request: Request) -> Response:
        return Response(
            {"results": [definition_json(d) for d in AttributeDefinition.objects.all()]}
        )

    def post(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        try:
            definition = services.define_attribute(
                key=data.get("key"),
                label=data.get("label"),
                kind=data.get("type"),
                choices=data.get("choices"),
                actor=request.user,
            )
        except attributes.InvalidAttribute as invalid:
            raise ValidationError({invalid.key or "detail": invalid.detail}) from None
        except IntegrityError:
            raise ValidationError({"key": "an attribute with this key exists"}) from None
        return Response(definition_json(definition), status=status.HTTP_201_CREATED)
