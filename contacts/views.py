"""The contacts pages (``/contacts/``): the directory, one contact, merge and unmerge, exports
and erasure. Thin: they read through ``contacts.selectors`` and write through
``contacts.services``; access follows conversations."""

from __future__ import annotations

import json
import logging

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from contacts import attributes, export, selectors, services, suggestions
from contacts.models import AttributeDefinition, ContactMerge
from inbox.access import get_visible_conversation
from inbox.models import Contact, Platform

log = logging.getLogger(__name__)


@login_required
@require_GET
def contact_list(request: HttpRequest) -> HttpResponse:
    filters = selectors.ContactFilters.from_query(request.GET)
    before = request.GET.get("before", "")
    rows, next_before = selectors.page(
        request.user, filters, before=int(before) if before.isdigit() else None
    )
    return render(
        request,
        "contacts/list.html",
        {
            "contacts": rows,
            "filters": filters,
            "next_before": next_before,
            "platforms": Platform.choices,
            "labels": selectors.labels(),
            "definitions": AttributeDefinition.objects.all(),
        },
    )


def _detail_context(request: HttpRequest, contact: Contact) -> dict:
    selectors.attach_identities(request.user, [contact])
    definitions = list(AttributeDefinition.objects.all())
    merge_q = request.GET.get("merge_q", "").strip()[: selectors.MAX_QUERY]
    candidates = []
    if merge_q:
        candidates, _next = selectors.page(request.user, selectors.ContactFilters(q=merge_q))
        candidates = [c for c in candidates if c.pk != contact.pk][:10]
    return {
        "contact": contact,
        "identities": contact.visible_identities,
        "attribute_rows": [
            (d, contact.attributes.get(d.key), attributes.display(d, contact.attributes.get(d.key)))
            for d in definitions
        ],
        "timeline": selectors.timeline(request.user, contact),
        "notes": selectors.notes(contact),
        "consent_history": selectors.consent_history(contact),
        "consent_states": Contact.Consent.choices,
        "suggestions": suggestions.for_contact(request.user, contact),
        "merges": ContactMerge.objects.filter(survivor=contact)
        .select_related("actor", "undone_by")
        .order_by("-created_at", "-id")[:20],
        "merge_q": merge_q,
        "candidates": candidates,
    }


@login_required
@require_GET
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = Contact.objects.filter(pk=pk).only("merged_into").first()
    if contact is not None and contact.merged_into_id is not None:
        # A merged-away contact's page is its survivor's (links and bookmarks keep working).
        survivor = selectors.visible_contacts(request.user).filter(pk=contact.merged_into_id)
        if survivor.exists():
            return redirect("contacts:detail", contact.merged_into_id)
    contact = selectors.get_visible_contact(request.user, pk)
    return render(request, "contacts/detail.html", _detail_context(request, contact))


def _back(request: HttpRequest, contact: Contact) -> HttpResponse:
    """Back to where the form was (the contact panel of a conversation), else the contact."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("contacts:detail", contact.pk)


@login_required
@require_POST
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Name and attributes from the contact page or the conversation's contact panel."""
    contact = selectors.get_visible_contact(request.user, pk)
    changes: dict[str, object] = {}
    for definition in AttributeDefinition.objects.all():
        field = f"attr_{definition.key}"
        if field not in request.POST:
            continue  # a form without this attribute leaves it as it is
        value: object = request.POST[field]
        if definition.type == AttributeDefinition.Type.BOOLEAN:
            value = {"true": True, "false": False}.get(str(value))
        changes[definition.key] = value
    try:
        services.update_contact(
            contact=contact,
            actor=request.user,
            name=request.POST.get("name") if "name" in request.POST else None,
            attribute_changes=changes,
        )
    except attributes.InvalidAttribute as invalid:
        flash.error(request, invalid.detail)
    else:
        flash.success(request, _("Contact saved."))
    return _back(request, contact)


@login_required
@require_POST
def contact_note(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.get_visible_contact(request.user, pk)
    try:
        services.add_note(contact=contact, author=request.user, text=request.POST.get("text", ""))
    except services.ContactRefused as refusal:
        flash.error(request, refusal.detail)
    return _back(request, contact)


@login_required
@require_POST
def contact_consent(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.get_visible_contact(request.user, pk)
    try:
        services.set_consent(
            contact=contact,
            actor=request.user,
            state=request.POST.get("state", ""),
            source=request.POST.get("source", ""),
        )
    except services.ContactRefused as refusal:
        flash.error(request, refusal.detail)
    else:
        flash.success(request, _("Consent recorded."))
    return _back(request, contact)


@login_required
@require_POST
def contact_merge(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.get_visible_contact(request.user, pk)
    other_id = request.POST.get("other", "")
    if not other_id.isdigit():
        raise Http404("No such contact")
    other = selectors.get_visible_contact(request.user, int(other_id))
    # The reasons are found again here, not taken from the form: the audit trail says why.
    reasons = next(
        (
            s.reason_texts
            for s in suggestions.for_contact(request.user, contact, limit=50)
            if s.contact.pk == other.pk
        ),
        [],
    )
    try:
        record = services.merge(survivor=contact, other=other, actor=request.user, reasons=reasons)
    except services.ContactRefused as refusal:
        flash.error(request, refusal.detail)
        return redirect("contacts:detail", contact.pk)
    request.session["contact_merge_undo"] = record.pk
    flash.success(request, _("Merged. Every conversation is kept."))
    return redirect("contacts:detail", contact.pk)


@login_required
@require_POST
def contact_unmerge(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.get_visible_contact(request.user, pk)
    identity_id = request.POST.get("identity", "")
    visible = selectors.identities_of(request.user, [contact.pk])[contact.pk]
    identity = next((i for i in visible if str(i.pk) == identity_id), None)
    if identity is None:
        raise Http404("No such identity")
    try:
        split_off = services.unmerge(contact=contact, identity=identity, actor=request.user)
    except services.ContactRefused as refusal:
        flash.error(request, refusal.detail)
        return redirect("contacts:detail", contact.pk)
    flash.success(request, _("Split off as a contact of its own."))
    return redirect("contacts:detail", split_off.pk)


@login_required
@require_POST
def merge_undo(request: HttpRequest, pk: int, merge_id: int) -> HttpResponse:
    contact = selectors.get_visible_contact(request.user, pk)
    record = ContactMerge.objects.filter(
        pk=merge_id, survivor=contact, undone_at__isnull=True
    ).first()
    if record is None:
        raise Http404("No such merge")
    visible = {i.pk for i in selectors.identities_of(request.user, [contact.pk])[contact.pk]}
    if not set(record.moved.get("identities", [])) & visible and not request.user.is_admin:
        raise Http404("No such merge")
    try:
        services.undo_merge(record=record, actor=request.user)
    except services.ContactRefused as refusal:
        flash.error(request, refusal.detail)
    else:
        flash.success(request, _("Merge undone."))
    return redirect("contacts:detail", contact.pk)


@login_required
@require_POST
def contact_erase(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.get_visible_contact(request.user, pk)
    if not request.user.is_admin:
        return HttpResponseForbidden(_("Only admins may erase a contact."))
    if request.POST.get("confirm") != "erase":
        flash.error(request, _("Type erase to confirm."))
        return redirect("contacts:detail", contact.pk)
    services.erase(contact=contact, actor=request.user)
    flash.success(request, _("The person's data and media were erased."))
    return redirect("contacts:list")


@login_required
@require_GET
def contact_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in ("json", "zip"):
        raise Http404("No such format")
    contact = selectors.get_visible_contact(request.user, pk)
    if fmt == "zip":
        response = HttpResponse(
            export.data_export_zip(request.user, contact), content_type="application/zip"
        )
    else:
        response = HttpResponse(
            json.dumps(export.data_export(request.user, contact), cls=DjangoJSONEncoder),
            content_type="application/json",
        )
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.{fmt}"'
    return response


@login_required
@require_GET
def transcript(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """A conversation's transcript as HTML or JSON (``?notes=1`` adds private notes)."""
    if fmt not in ("json", "html"):
        raise Http404("No such format")
    conversation = get_visible_conversation(request.user, pk)
    data = export.transcript(conversation, notes=request.GET.get("notes") == "1")
    if fmt == "json":
        response = HttpResponse(
            json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False),
            content_type="application/json",
        )
    else:
        response = HttpResponse(
            render_to_string("contacts/transcript.html", {"t": data}, request=request)
        )
    response["Content-Disposition"] = f'attachment; filename="conversation-{conversation.pk}.{fmt}"'
    return response


@login_required
def attribute_definitions(request: HttpRequest) -> HttpResponse:
    """Admins define custom attributes; everyone may read the list."""
    if request.method == "POST":
        if not request.user.is_admin:
            return HttpResponseForbidden(_("Only admins define attributes."))
        choices = [c.strip() for c in request.POST.get("choices", "").split(",") if c.strip()]
        try:
            if AttributeDefinition.objects.filter(key=request.POST.get("key", "")).exists():
                raise attributes.InvalidAttribute("key", _("An attribute with this key exists."))
            services.define_attribute(
                key=request.POST.get("key", ""),
                label=request.POST.get("label", ""),
                kind=request.POST.get("type", ""),
                choices=choices,
                actor=request.user,
            )
        except attributes.InvalidAttribute as invalid:
            flash.error(request, invalid.detail)
        else:
            flash.success(request, _("Attribute added."))
        return redirect(reverse("contacts:attributes"))
    return render(
        request,
        "contacts/attributes.html",
        {
            "definitions": AttributeDefinition.objects.all(),
            "types": AttributeDefinition.Type.choices,
        },
    )
