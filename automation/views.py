"""Settings pages for rules (admins and managers) and macros (everyone: their own; admins and
managers: shared ones), and running a macro from a conversation. Thin: forms in, services out."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from automation import engine, services, spec
from automation.forms import MacroForm, RuleForm
from automation.models import Rule, RuleRun
from inbox.access import get_visible_conversation, visible_account_ids

RECENT_RUNS = 20


def editor_required(view: Callable) -> Callable:
    """Logged in (else the login page), admin or manager (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not services.may_edit_rules(request.user):
            raise PermissionDenied(_("Only admins and managers may change automation rules."))
        return view(request, *args, **kwargs)

    return wrapped


@editor_required
def rule_list(request: HttpRequest) -> HttpResponse:
    return render(request, "automation/rules.html", {"rules": Rule.objects.all()})


@editor_required
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=pk) if pk else None
    initial = (
        RuleForm.initial_for(rule)
        if rule
        else {"enabled": True, "actions": "[]", "conditions": "[]"}
    )
    form = RuleForm(request.POST or None, initial=initial)
    dry = None
    if request.method == "POST" and form.is_valid():
        if "dry_run" in request.POST:
            dry = engine.dry_run(form.clean_rule, account_ids=visible_account_ids(request.user))
        else:
            try:
                if rule is None:
                    rule = services.create_rule(actor=request.user, data=form.body)
                else:
                    rule = services.update_rule(actor=request.user, rule=rule, data=form.body)
            except spec.Invalid as exc:
                form.add_error(None, f"{exc.field}: {exc.detail}")
            else:
                messages.success(request, _("Rule “%(n)s” saved.") % {"n": rule.name})
                return redirect("automation:rules")
    runs = (
        RuleRun.objects.filter(rule=rule).select_related("conversation")[:RECENT_RUNS]
        if rule
        else []
    )
    return render(
        request,
        "automation/rule_form.html",
        {"form": form, "rule": rule, "dry": dry, "runs": runs, "dry_days": engine.DRY_RUN_DAYS},
    )


@editor_required
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=pk)
    services.delete_rule(actor=request.user, rule=rule)
    messages.success(request, _("Rule “%(n)s” deleted.") % {"n": rule.name})
    return redirect("automation:rules")


@editor_required
@require_POST
def rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=pk)
    services.move_rule(
        actor=request.user, rule=rule, offset=-1 if request.POST.get("to") == "up" else 1
    )
    return redirect("automation:rules")


# --- Macros -----------------------------------------------------------------------------------


@login_required
def macro_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "automation/macros.html",
        {
            "macros": services.macros_editable_by(request.user),
            "may_share": request.user.is_manager,
        },
    )


@login_required
def macro_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    macro = get_object_or_404(services.macros_editable_by(request.user), pk=pk) if pk else None
    initial = MacroForm.initial_for(macro) if macro else {"actions": "[]"}
    form = MacroForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            macro = services.save_macro(
                actor=request.user,
                name=form.cleaned_data["name"],
                actions_raw=form.cleaned_data["actions"],
                shared=form.cleaned_data["shared"],
                macro=macro,
            )
        except spec.Invalid as exc:
            field = exc.field.split("[", 1)[0]
            form.add_error(field if field in form.fields else None, f"{exc.field}: {exc.detail}")
        except services.NotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Macro “%(n)s” saved.") % {"n": macro.name})
            return redirect("automation:macros")
    return render(
        request,
        "automation/macro_form.html",
        {"form": form, "macro": macro, "may_share": request.user.is_manager},
    )


@login_required
@require_POST
def macro_delete(request: HttpRequest, pk: int) -> HttpResponse:
    macro = get_object_or_404(services.macros_editable_by(request.user), pk=pk)
    services.delete_macro(actor=request.user, macro=macro)
    messages.success(request, _("Macro “%(n)s” deleted.") % {"n": macro.name})
    return redirect("automation:macros")


@login_required
@require_GET
def conversation_macros(request: HttpRequest, pk: int) -> JsonResponse:
    """The `/` picker's macros for this conversation, each with the steps that cannot run here
    now and why (the picker says so before the agent chooses)."""
    conversation = get_visible_conversation(request.user, pk)
    results = []
    for macro in services.macros_for(request.user):
        problems = services.check_macro(macro=macro, conversation=conversation, user=request.user)
        results.append(
            {
                "id": macro.pk,
                "name": macro.name,
                "shared": macro.shared,
                "steps": [step["type"] for step in macro.actions],
                "problems": [f"{p.step}: {p.detail}" for p in problems],
            }
        )
    return JsonResponse({"results": results})


@login_required
@require_POST
def run_macro(request: HttpRequest, pk: int, macro_pk: int) -> HttpResponse:
    """From the `/` picker (fetch: JSON) or the conversation's macro buttons (a form: back to
    the conversation with the outcome)."""
    conversation = get_visible_conversation(request.user, pk)
    macro = get_object_or_404(services.macros_for(request.user), pk=macro_pk)
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        done = services.run_macro(macro=macro, conversation=conversation, user=request.user)
    except services.MacroRefused as refused:
        detail = _("Macro “%(n)s” did not run: %(why)s") % {"n": macro.name, "why": refused}
        if wants_json:
            return JsonResponse(
                {
                    "ok": False,
                    "detail": detail,
                    "steps": [{"step": p.step, "detail": p.detail} for p in refused.problems],
                },
                status=422,
            )
        messages.error(request, detail)
    else:
        detail = _("Macro “%(n)s” ran.") % {"n": macro.name}
        if wants_json:
            return JsonResponse({"ok": True, "detail": detail, "done": done})
        messages.success(request, detail)
    return redirect("inbox:conversation", pk=conversation.pk)
