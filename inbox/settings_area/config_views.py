"""The configuration pages: labels, saved replies, chatbot, SLA, business hours, auto-assignment
and surveys. Managers edit labels, saved replies, bot rules, FAQ entries and SLA policies;
admins everything; agents get 403. Thin: a form in, one ``configure`` call, the page out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from chatbot import engine, explain
from chatbot.models import BotReply, BotSettings, FaqEntry, Rule
from inbox import saved_replies
from inbox.models import Label, PlatformAccount, SavedReply, Team, time_zone_names
from inbox.settings_area import config_forms as cf
from inbox.settings_area import configure, hours_calendar
from inbox.settings_area.views import admin_required
from sla import business_hours as bh
from sla.models import BusinessHours, Holiday, SlaPolicy
from surveys.models import SurveySettings


def manager_required(view: Callable) -> Callable:
    """Logged in (else the login page) and a manager or admin (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_manager:
            raise PermissionDenied(_("Only managers and admins may change this."))
        return view(request, *args, **kwargs)

    return wrapped


def _bound(form_class: type[forms.BaseForm], request: HttpRequest, **kwargs: Any):
    return form_class(request.POST if request.method == "POST" else None, **kwargs)


def _saved(request: HttpRequest, form: forms.ModelForm) -> Model:
    obj = configure.save(actor=request.user, form=form)
    messages.success(request, _("Saved: “%(name)s”") % {"name": obj})
    return obj


def _deleted(request: HttpRequest, obj: Model) -> None:
    name = str(obj)
    configure.delete(actor=request.user, obj=obj)
    messages.success(request, _("Deleted: “%(name)s”") % {"name": name})


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], *forms_shown: forms.BaseForm
) -> HttpResponse:
    """The page; 400 when a posted form was refused (its errors are on the page)."""
    refused = request.method == "POST" and any(f.is_bound and f.errors for f in forms_shown)
    return render(request, template, context, status=400 if refused else 200)


def _list_and_form(
    request: HttpRequest,
    *,
    form_class: type[forms.ModelForm],
    items: Any,
    instance: Model | None,
    template: str,
    url_name: str,
    form_kwargs: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """A list of objects with the form that adds one, or edits ``instance``."""
    form = _bound(form_class, request, instance=instance, **(form_kwargs or {}))
    if request.method == "POST" and form.is_valid():
        _saved(request, form)
        return redirect(url_name)
    return _page(
        request,
        template,
        {"form": form, "items": items, "editing": instance, **(context or {})},
        form,
    )


# --- Labels -----------------------------------------------------------------------------------


@manager_required
def labels(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    return _list_and_form(
        request,
        form_class=cf.LabelForm,
        items=Label.objects.order_by("name"),
        instance=get_object_or_404(Label, pk=pk) if pk else None,
        template="settings/labels.html",
        url_name="settings:labels",
    )


@manager_required
@require_POST
def label_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _deleted(request, get_object_or_404(Label, pk=pk))
    return redirect("settings:labels")


# --- Saved replies ----------------------------------------------------------------------------


def _variables() -> list[tuple[str, str]]:
    return [("{{" + name + "}}", saved_replies.SAMPLE[name]) for name in saved_replies.VARIABLES]


def _others_personal(request: HttpRequest, reply: SavedReply | None) -> bool:
    """Someone else's personal reply: only an admin may change it."""
    return (
        reply is not None
        and reply.owner_id is not None
        and reply.owner_id != request.user.pk
        and not request.user.is_admin
    )


@manager_required
def replies(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(SavedReply, pk=pk) if pk else None
    if _others_personal(request, instance):
        raise PermissionDenied(_("This is someone else's personal reply."))
    items = SavedReply.objects.select_related("owner").prefetch_related("teams")
    if not request.user.is_admin:  # others' personal replies are theirs alone
        items = items.filter(Q(owner__isnull=True) | Q(owner=request.user))
    text = request.POST.get("text") if request.method == "POST" else getattr(instance, "text", "")
    return _list_and_form(
        request,
        form_class=cf.SavedReplyForm,
        items=items.order_by("shortcut"),
        instance=instance,
        template="settings/saved_replies.html",
        url_name="settings:saved_replies",
        form_kwargs={"actor": request.user},
        context={"variables": _variables(), "preview": saved_replies.preview(text or "")},
    )


@manager_required
@require_POST
def reply_preview(request: HttpRequest) -> HttpResponse:
    """The reply with sample values, as the composer would fill it (htmx, while typing)."""
    text = request.POST.get("text", "")[:10_000]
    return render(
        request,
        "settings/_reply_preview.html",
        {"preview": saved_replies.preview(text), "unknown": saved_replies.unknown_variables(text)},
    )


@manager_required
@require_POST
def reply_delete(request: HttpRequest, pk: int) -> HttpResponse:
    reply = get_object_or_404(SavedReply, pk=pk)
    if _others_personal(request, reply):
        raise PermissionDenied(_("This is someone else's personal reply."))
    _deleted(request, reply)
    return redirect("settings:saved_replies")


# --- Chatbot ----------------------------------------------------------------------------------


def _chatbot_account(request: HttpRequest) -> PlatformAccount | None:
    wanted = request.GET.get("account") or request.POST.get("account") or ""
    accounts = PlatformAccount.objects.order_by("platform", "name", "id")
    if wanted.isdigit():
        return get_object_or_404(accounts, pk=int(wanted))
    return accounts.first()


def _chatbot_url(account: PlatformAccount) -> str:
    return f"{reverse('settings:chatbot')}?account={account.pk}"


@manager_required
def chatbot(request: HttpRequest) -> HttpResponse:
    account = _chatbot_account(request)
    if account is None:
        return render(request, "settings/chatbot.html", {"account": None})
    which = request.POST.get("form", "")
    rule_form = cf.RuleForm(
        request.POST if which == "rule" else None, prefix="rule", instance=Rule(account=account)
    )
    faq_form = cf.FaqForm(
        request.POST if which == "faq" else None, prefix="faq", instance=FaqEntry(account=account)
    )
    bot = BotSettings.objects.filter(account=account).first() or BotSettings(account=account)
    bot_form = cf.BotSettingsForm(
        request.POST if which == "bot" else None, prefix="bot", instance=bot
    )
    if request.method == "POST":
        form = {"rule": rule_form, "faq": faq_form, "bot": bot_form}.get(which)
        if form is None:
            return HttpResponse(_("Unknown form."), status=400)
        if which == "bot" and not request.user.is_admin:
            raise PermissionDenied(_("Only admins change the bot's settings and messages."))
        if form.is_valid():
            _saved(request, form)
            return redirect(_chatbot_url(account))
    return _chatbot_page(request, account, rule_form, faq_form, bot_form)


def _chatbot_page(request, account, rule_form, faq_form, bot_form) -> HttpResponse:
    bot = bot_form.instance
    if not request.user.is_admin:
        for field in bot_form.fields.values():
            field.disabled = True
    return _page(
        request,
        "settings/chatbot.html",
        {
            "account": account,
            "accounts": PlatformAccount.objects.order_by("platform", "name", "id"),
            "rules": Rule.objects.filter(account=account).order_by("order", "id"),
            "faqs": FaqEntry.objects.filter(account=account).order_by("question"),
            "rule_form": rule_form,
            "faq_form": faq_form,
            "bot_form": bot_form,
            "bot": bot,
            "try_form": cf.TryBotForm(),
            "previews": _bot_previews(bot),
        },
        rule_form,
        faq_form,
        bot_form,
    )


def _bot_previews(bot: BotSettings) -> dict[str, str]:
    """The greeting and away message as a customer reads them now."""
    schedule = engine.account_schedule(bot, bot.account_id)
    back = _("Monday 09:00 (UTC)")  # around the clock: an example
    if schedule is not None:
        try:
            back = engine.back_text(schedule, bh.next_open(schedule, timezone.now()))
        except bh.NeverOpen:
            back = _("(never: these hours have no open time)")
    return {
        "greeting": bot.greeting.replace("{first_name}", "Ana"),
        "away": bot.away_message.replace("{back}", back),
    }


def _edit_bot_item(request: HttpRequest, model: type[Model], form_class, pk: int) -> HttpResponse:
    item = get_object_or_404(model, pk=pk)
    form = _bound(form_class, request, instance=item, prefix="item")
    if request.method == "POST" and form.is_valid():
        _saved(request, form)
        return redirect(_chatbot_url(item.account))
    return _page(
        request,
        "settings/chatbot_item.html",
        {"form": form, "item": item, "kind": model._meta.model_name},
        form,
    )


@manager_required
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit_bot_item(request, Rule, cf.RuleForm, pk)


@manager_required
def faq_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit_bot_item(request, FaqEntry, cf.FaqForm, pk)


@manager_required
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=pk)
    _deleted(request, rule)
    return redirect(_chatbot_url(rule.account))


@manager_required
@require_POST
def faq_delete(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(FaqEntry, pk=pk)
    _deleted(request, entry)
    return redirect(_chatbot_url(entry.account))


@manager_required
@require_POST
def chatbot_try(request: HttpRequest) -> HttpResponse:
    """What the bot would answer, and why (htmx partial); nothing is sent or stored."""
    account_id = request.POST.get("account", "")
    account = get_object_or_404(PlatformAccount, pk=int(account_id) if account_id.isdigit() else 0)
    form = cf.TryBotForm(request.POST)
    if not form.is_valid():
        return render(request, "settings/_try_result.html", {"form": form}, status=400)
    decision = engine.explain(
        account.pk,
        form.cleaned_data["text"],
        now=timezone.now(),
        first_message=form.cleaned_data["first_message"],
    )
    return render(
        request,
        "settings/_try_result.html",
        {
            "form": form,
            "decision": decision,
            "action": BotReply.Action(decision.action).label,
            "reasons": explain.reasons(decision),
        },
    )


# --- SLA --------------------------------------------------------------------------------------


@manager_required
def sla(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    return _list_and_form(
        request,
        form_class=cf.SlaPolicyForm,
        items=SlaPolicy.objects.select_related("business_hours").prefetch_related(
            "accounts", "labels"
        ),
        instance=get_object_or_404(SlaPolicy, pk=pk) if pk else None,
        template="settings/sla.html",
        url_name="settings:sla",
    )


@manager_required
@require_POST
def sla_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _deleted(request, get_object_or_404(SlaPolicy, pk=pk))
    return redirect("settings:sla")


# --- Business hours ---------------------------------------------------------------------------


def _month(request: HttpRequest) -> date:
    raw = request.GET.get("month", "")
    try:
        year, month = (int(x) for x in raw.split("-"))
        return date(year, month, 1)
    except ValueError:
        return timezone.localdate().replace(day=1)


@admin_required
def business_hours(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    hours = get_object_or_404(BusinessHours, pk=pk) if pk else None
    which = request.POST.get("form", "hours")
    form = cf.BusinessHoursForm(
        request.POST if which == "hours" else None, instance=hours or BusinessHours()
    )
    holiday_form = None
    if hours is not None:
        holiday_form = cf.HolidayForm(
            request.POST if which == "holiday" else None, hours=hours, prefix="holiday"
        )
    if request.method == "POST":
        chosen = holiday_form if which == "holiday" else form
        if chosen is None:
            return HttpResponse(
                _("Save the hours before adding days to their calendar."), status=400
            )
        if chosen.is_valid():
            if chosen is holiday_form:
                configure.save_holiday(actor=request.user, form=holiday_form)
                messages.success(request, _("Added to the calendar."))
                return redirect("settings:business_hours_edit", pk=hours.pk)
            saved = _saved(request, chosen)
            return redirect("settings:business_hours_edit", pk=saved.pk)
    month = _month(request)
    return _page(
        request,
        "settings/business_hours.html",
        {
            "items": BusinessHours.objects.prefetch_related("teams", "accounts").order_by("name"),
            "editing": hours,
            "form": form,
            "holiday_form": holiday_form,
            "holidays": hours.holidays.order_by("date") if hours else [],
            "calendar": hours_calendar.month(hours, month) if hours else None,
            "status": hours_calendar.open_status(hours) if hours else None,
            "time_zones": sorted(time_zone_names()),
        },
        *(f for f in (form, holiday_form) if f is not None),
    )


@admin_required
@require_POST
def business_hours_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _deleted(request, get_object_or_404(BusinessHours, pk=pk))
    return redirect("settings:business_hours")


@admin_required
@require_POST
def holiday_delete(request: HttpRequest, pk: int) -> HttpResponse:
    holiday = get_object_or_404(Holiday, pk=pk)
    hours = configure.delete_holiday(actor=request.user, holiday=holiday)
    messages.success(request, _("Removed from the calendar: %(day)s.") % {"day": holiday})
    return redirect("settings:business_hours_edit", pk=hours.pk)


# --- Auto-assignment --------------------------------------------------------------------------


@admin_required
def assignment(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    teams = Team.objects.prefetch_related("members", "auto_assign_excluded").order_by("name")
    team = get_object_or_404(Team, pk=pk) if pk else None
    form = _bound(cf.AssignmentForm, request, team=team) if team else None
    if form is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        configure.save_assignment(
            actor=request.user,
            team=team,
            auto_assign=data["auto_assign"],
            cap=data["cap"],
            taking_part=form.taking_part(),
            own_caps=form.own_caps(),
        )
        messages.success(request, _("Auto-assignment of %(team)s saved.") % {"team": team})
        return redirect("settings:assignment")
    return _page(
        request,
        "settings/assignment.html",
        {"teams": teams, "team": team, "form": form},
        *([form] if form else []),
    )


# --- Surveys ----------------------------------------------------------------------------------


@admin_required
def surveys(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    accounts = PlatformAccount.objects.select_related("survey_settings").order_by(
        "platform", "name"
    )
    account = get_object_or_404(PlatformAccount, pk=pk) if pk else None
    form = None
    if account is not None:
        instance = SurveySettings.objects.filter(account=account).first() or SurveySettings(
            account=account
        )
        form = _bound(cf.SurveySettingsForm, request, instance=instance)
        if request.method == "POST" and form.is_valid():
            _saved(request, form)
            return redirect("settings:surveys")
    return _page(
        request,
        "settings/surveys.html",
        {"accounts": accounts, "account": account, "form": form},
        *([form] if form else []),
    )
