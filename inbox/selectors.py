"""Reads of the agent dashboard: the inbox list (views, filters, sorts, search, keyset
pagination), unread counts, a conversation's thread and its neighbours.

Every query starts from ``inbox.access.visible_conversations``: a list, a search, a row fetched
for a live update — none can show a conversation the user may not see.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inbox import presence
from inbox.access import visible_account_ids, visible_accounts, visible_conversations
from inbox.models import (
    Contact,
    ContactIdentity,
    Conversation,
    ConversationEvent,
    ConversationRead,
    Label,
    Message,
    Note,
    Platform,
    PlatformAccount,
    Team,
    User,
)

PAGE_SIZE = 50
# A search probes the list's rows SEARCH_WINDOW at a time (above ~600 rows PostgreSQL builds the
# sets of what matches instead of probing), SEARCH_WINDOWS windows before it turns to those sets
# (conversation_page).
SEARCH_WINDOW = 500
SEARCH_WINDOWS = 4
# "SLA due soon": conversations whose SLA deadline falls within this window.
SLA_DUE_SOON = timedelta(hours=1)

VIEWS = ("mine", "unassigned", "all")
VIEW_LABELS = {"mine": _("Mine"), "unassigned": _("Unassigned"), "all": _("All")}
SORTS = ("activity", "waiting")


class BadFilter(ValueError):
    """A list parameter that is not one of its choices: answered with a 400 that names the
    field, never guessed at or silently matched against nothing."""

    def __init__(self, field_name: str, value: str, choices: Iterable[str] = ()):
        self.field_name = field_name
        message = gettext("%(field)s: %(value)r is not a valid choice.") % {
            "field": field_name,
            "value": value,
        }
        if choices:
            message = gettext("%(field)s: %(value)r is not a valid choice; one of %(choices)s.") % {
                "field": field_name,
                "value": value,
                "choices": ", ".join(choices),
            }
        super().__init__(message)


# Every status, as a filter value (the API's and the list's).
ANY_STATUS = "any"
# Longest search text: the API refuses longer ones, the list page keeps the first MAX_QUERY.
MAX_QUERY = 200


def parse_choice(params: Any, name: str, choices: Iterable[str], default: str = "") -> str:
    """The parameter's value when it is one of ``choices``; ``default`` when absent or empty."""
    raw = params.get(name) or ""
    if raw == "":
        return default
    choices = list(choices)
    if raw not in choices:
        raise BadFilter(name, raw, choices)
    return raw


def parse_status(params: Any) -> str | None:
    """``status``: a status, "" for every status (``any``), None when not given."""
    raw = parse_choice(params, "status", [*Conversation.Status.values, ANY_STATUS])
    if raw == "":
        return None
    return "" if raw == ANY_STATUS else raw


def _parse_int(params: Any, name: str, choices: Iterable[int] | None = None) -> int | None:
    raw = params.get(name) or ""
    if raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadFilter(name, raw) from None
    if choices is not None and value not in choices:
        raise BadFilter(name, raw, [str(c) for c in choices])
    return value


@dataclass
class ListFilters:
    """What the inbox list shows; parsed from the page's query string."""

    view: str = "all"
    account: int | None = None
    team: int | None = None
    label: int | None = None
    status: str = Conversation.Status.OPEN  # "" = any status
    # No status was asked for: open conversations, or every status when searching.
    status_default: bool = True
    platform: str = ""
    priority: int | None = None
    sla_due_soon: bool = False
    # SLA breached: a running target is past due (sla.timers keeps Conversation.sla_status).
    sla_breached: bool = False
    sort: str = "activity"
    q: str = ""
    # Include test conversations (the settings area's test events), left out by default.
    tests: bool = False
    cursor: str = ""
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, params: Any) -> ListFilters:
        """Raises BadFilter for a value that is not one of the parameter's choices."""
        filters = cls()
        filters.view = parse_choice(params, "view", VIEWS, "all")
        for name in ("account", "team", "label"):
            setattr(filters, name, _parse_int(params, name))
        filters.priority = _parse_int(params, "priority", Conversation.Priority.values)
        filters.q = (params.get("q") or "").strip()[:MAX_QUERY]
        status = parse_status(params)
        filters.status_default = status is None
        if status is None:
            # A search looks through every status: a resolved conversation is found too.
            status = "" if filters.q else Conversation.Status.OPEN
        filters.status = status
        filters.platform = parse_choice(params, "platform", Platform.values)
        sla = parse_choice(params, "sla", ("soon", "breached"))
        filters.sla_due_soon = sla == "soon"
        filters.sla_breached = sla == "breached"
        filters.sort = parse_choice(params, "sort", SORTS, "activity")
        filters.tests = params.get("tests") == "1"
        filters.cursor = params.get("cursor", "")
        return filters

    @property
    def view_label(self) -> str:
        """The view in words, in the agent's language ("Mine")."""
        return str(VIEW_LABELS.get(self.view, self.view))

    @property
    def status_label(self) -> str:
        return str(dict(Conversation.Status.choices).get(self.status, self.status))

    def searched_statuses(self) -> list[str]:
        """The statuses the list shows, in words ("Open", …): what a search says it covered."""
        labels = dict(Conversation.Status.choices)
        if self.status:
            return [labels[self.status]]
        return list(labels.values())

    def query_dict(self, **overrides: Any) -> dict[str, str]:
        """The query string of these filters (for links that keep them), minus the cursor."""
        values = {
            "view": self.view,
            "account": self.account,
            "team": self.team,
            "label": self.label,
            "status": None if self.status_default else self.status or ANY_STATUS,
            "platform": self.platform,
            "priority": self.priority,
            "sla": "soon" if self.sla_due_soon else "breached" if self.sla_breached else "",
            "sort": self.sort,
            "q": self.q,
            "tests": "1" if self.tests else "",
        }
        values.update(overrides)
        defaults = {"view": "all", "sort": "activity"}
        return {
            k: str(v) for k, v in values.items() if v not in (None, "") and defaults.get(k) != v
        }


# --- SLA hook ---------------------------------------------------------------------------------

# The SLA work (issue 6) keeps a deadline on each conversation. The filter reads the first of
# these fields that the model has; without one, "SLA due soon" matches nothing and says so.
SLA_DUE_FIELDS = ("sla_due_at", "next_sla_due_at", "sla_next_due_at", "first_response_due_at")


def sla_due_field() -> str | None:
    names = {f.name for f in Conversation._meta.get_fields()}
    return next((name for name in SLA_DUE_FIELDS if name in names), None)


def sla_due_soon_q(now: datetime | None = None) -> Q | None:
    """Conversations whose SLA deadline is within ``SLA_DUE_SOON`` (or already passed);
    None when the model has no SLA deadline field."""
    field_name = sla_due_field()
    if field_name is None:
        return None
    now = now or timezone.now()
    return Q(**{f"{field_name}__isnull": False, f"{field_name}__lte": now + SLA_DUE_SOON})


# --- Search -----------------------------------------------------------------------------------


class SearchHow(enum.Enum):
    """The one search in three SQL shapes, each the cheapest for some lists (same rows)."""

    # ``pk IN`` three sets, ORed: PostgreSQL builds each set (what the query matches), then
    # walks the list against them: cheap when the page's rows are near the top.
    WALK = "walk"
    # ``pk IN`` one set, their UNION: PostgreSQL may start from what matches and sort it:
    # cheap when few rows match, where a walk would read the whole list to find them.
    MATCHES = "matches"
    # ``EXISTS`` per row: each row looked at is probed, no set is built: cheap over a window
    # of the list that holds the page.
    PROBE = "probe"


def search_q(
    query: str, *, how: SearchHow = SearchHow.WALK, accounts: list[int] | None = None
) -> Q:
    """Conversations whose contact name, a participant's username or a (not deleted) message
    matches ``query``: the one search of the list, the API and anything else. PostgreSQL:
    full-text search on the GIN indexes of migration 0002 (words, any order, prefixes of the
    last word), in the SQL shape ``how`` asks for; SQLite: a plain substring match.

    ``accounts``: the caller looks only at these accounts' conversations; the MATCHES shape
    then leaves the other accounts' matches out of its set (a message's account is its
    conversation's), which costs less when most matches are elsewhere."""
    if settings.IS_POSTGRES:
        from django.contrib.postgres.search import SearchQuery, SearchVector

        terms = _prefix_tsquery(query)
        if terms:
            ts = SearchQuery(terms, config="simple", search_type="raw")
            messages = Message.objects.annotate(fts=SearchVector("text", config="simple")).filter(
                fts=ts, is_deleted=False
            )
            contacts = Contact.objects.annotate(fts=SearchVector("name", config="simple")).filter(
                fts=ts
            )
            # Usernames by word prefix ("@coatlov" finds coatlover99), on their own index.
            usernames = ContactIdentity.objects.annotate(
                fts=SearchVector("username", config="simple")
            ).filter(fts=ts)
            if how is SearchHow.PROBE:
                # The contact's name first: one row to read, where a thread has many messages.
                return (
                    Q(Exists(contacts.filter(pk=OuterRef("contact_id"))))
                    | Q(Exists(messages.filter(conversation=OuterRef("pk"))))
                    | Q(Exists(usernames.filter(conversations=OuterRef("pk"))))
                )
            by_message = messages.values("conversation_id")
            by_username = Conversation.participants.through.objects.filter(
                contactidentity__in=usernames.values("pk")
            ).values("conversation_id")
            if how is SearchHow.MATCHES:
                by_name = Conversation.objects.filter(contact__in=contacts.values("pk"))
                if accounts is not None:
                    by_message = messages.filter(account_id__in=accounts).values("conversation_id")
                    by_name = by_name.filter(account_id__in=accounts)
                return Q(pk__in=by_message.union(by_name.values("pk"), by_username))
            return (
                Q(pk__in=by_message) | Q(contact__in=contacts.values("pk")) | Q(pk__in=by_username)
            )
    return (
        Q(contact__name__icontains=query)
        | Q(
            Exists(
                ContactIdentity.objects.filter(
                    conversations=OuterRef("pk"), username__icontains=query
                )
            )
        )
        | Q(
            Exists(
                Message.objects.filter(
                    conversation=OuterRef("pk"), text__icontains=query, is_deleted=False
                )
            )
        )
    )


def _prefix_tsquery(query: str) -> str:
    """A safe raw tsquery: each word quoted (no operators from user text), the last one as a
    prefix so results come while typing."""
    words = [w for w in "".join(c if c.isalnum() else " " for c in query.lower()).split() if w]
    if not words:
        return ""
    quoted = [f"'{w}'" for w in words[:8]]
    quoted[-1] += ":*"
    return " & ".join(quoted)


# --- The list ---------------------------------------------------------------------------------


def _encode_cursor(values: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> dict[str, Any] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if isinstance(data, dict) and isinstance(data.get("id"), int):
            return data
    except (ValueError, binascii.Error, RecursionError):
        pass  # a hand-made cursor (RecursionError: ``[[[[…``) shows the first page
    return None


def unread_count_subquery(user: User) -> Coalesce:
    """Inbound messages after the user's read mark, per conversation row."""
    read_mark = ConversationRead.objects.filter(user=user, conversation=OuterRef(OuterRef("pk")))
    unread = (
        Message.objects.filter(
            conversation=OuterRef("pk"),
            direction=Message.Direction.INBOUND,
            id__gt=Coalesce(Subquery(read_mark.values("last_read_message_id")[:1]), Value(0)),
        )
        .order_by()
        .values("conversation")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(unread, output_field=IntegerField()), Value(0))


def has_label_q(label_id: int) -> Q:
    """Conversations with the label. PostgreSQL: from the labels on the conversation's own row
    (``label_ids``, kept by triggers on the link table: migration 0022), so the list's walk in
    activity order reads them where it is instead of probing the link table for each row, and
    a rare label can start from its GIN index. SQLite: through the links. The query must be on
    the conversations table itself (not a subquery of another model)."""
    if settings.IS_POSTGRES:
        column = f'"{Conversation._meta.db_table}"."label_ids"'
        # The label id is a parameter; the column is named by the model.
        return Q(RawSQL(f"{column} @> ARRAY[%s]::bigint[]", (label_id,), BooleanField()))  # noqa: S611
    return Q(labels__id=label_id)


def filtered_conversations(
    user: User, filters: ListFilters, *, search: bool = True
) -> QuerySet[Conversation]:
    """The conversations the list shows, before ordering and pagination (``search=False``: all
    but the search, which ``conversation_page`` applies its own way)."""
    conversations = visible_conversations(user)
    if not filters.tests:
        conversations = conversations.filter(is_test=False)
    if filters.view == "mine":
        conversations = conversations.filter(assignee=user)
    elif filters.view == "unassigned":
        conversations = conversations.filter(assignee__isnull=True)
    if filters.account:
        conversations = conversations.filter(account_id=filters.account)
    if filters.team:
        conversations = conversations.filter(Q(team_id=filters.team))
    if filters.label:
        conversations = conversations.filter(has_label_q(filters.label))
    if filters.status:
        conversations = conversations.filter(status=filters.status)
    if filters.platform:
        conversations = conversations.filter(account__platform=filters.platform)
    if filters.priority is not None:
        conversations = conversations.filter(priority=filters.priority)
    if filters.sla_due_soon:
        due = sla_due_soon_q()
        conversations = conversations.filter(due) if due is not None else conversations.none()
    if filters.sla_breached:
        conversations = conversations.filter(sla_status="breached")
    if filters.q and search:
        conversations = conversations.filter(search_q(filters.q))
    if filters.sort == "waiting":
        conversations = conversations.filter(waiting_since__isnull=False)
    return conversations


# What a row shows (inbox.rows) and the cursor reads: a page loads only these columns (the
# rest, parsed for 50 rows, cost more than the query). Another field read from a row is
# fetched on demand, one query per row: add it here instead.
ROW_FIELDS = (
    "account",
    "contact__name",
    "contact__avatar_url",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
    "status",
    "priority",
    "snoozed_until",
    "last_activity_at",
    "waiting_since",
    "last_message_preview",
    "is_test",
    "sla_status",
    "sla_due_at",
)


@dataclass
class Page:
    rows: list[Conversation]
    next_cursor: str
    filters: ListFilters


def conversation_page(
    user: User, filters: ListFilters, *, page_size: int = PAGE_SIZE, only: int | None = None
) -> Page:
    """One page of the list, keyset-paginated on (sort key, id): page 500 costs what page 1
    costs. ``only`` restricts to one conversation (the row a live event asks for)."""
    conversations = filtered_conversations(user, filters, search=False)
    if only is not None:
        conversations = conversations.filter(pk=only)
    if filters.sort == "waiting":
        key, ordering, after = "waiting_since", ("waiting_since", "id"), TupleGreaterThan
    else:
        key, ordering, after = "last_activity_at", ("-last_activity_at", "-id"), TupleLessThan
    cursor = _decode_cursor(filters.cursor) if filters.cursor else None
    if cursor and cursor.get("at"):
        at = parse_datetime(cursor["at"])
        if at is not None:
            # A row comparison, (key, id) > (at, id): PostgreSQL starts the ordered index scan
            # at the cursor. (An OR of "key > at" and "key = at and id > N" made it collect and
            # sort every row after the cursor instead.)
            conversations = conversations.filter(after(Tuple(F(key), F("id")), (at, cursor["id"])))
    ordered = conversations.order_by(*ordering)

    def fetch(queryset: QuerySet[Conversation], limit: int) -> list[Conversation]:
        return list(
            queryset.select_related("contact", "assignee")
            .only(*ROW_FIELDS)
            .annotate(unread=unread_count_subquery(user))
            .prefetch_related(Prefetch("labels", queryset=Label.objects.order_by("name")))[:limit]
        )

    if not filters.q:
        rows = fetch(ordered, page_size + 1)
    else:
        # A search probes the list's next rows, SEARCH_WINDOW at a time, each row for a match
        # (EXISTS), and stops at the page: a common word fills it within a window or two,
        # where the sets of everything it matches would cost what it matches (62 500
        # messages for "refund coat" at 1 M conversations). When the rate found so far would
        # not fill the page within SEARCH_WINDOWS windows, it turns to those sets: walking
        # the list against them when the windows found some (the page is near), else
        # starting from what matches (a word found nowhere near the top is rare in this list
        # or absent from it, and a walk would read the whole list). Each window ends at a row
        # of the list, so the parts follow in the list's order.
        # The accounts the list looks at, when not all of them.
        accounts = [filters.account] if filters.account else None
        if accounts is None and not user.is_admin:
            accounts = visible_account_ids(user)
        found: list[int] = []  # ids, in the list's order; the rows are read once at the end
        rest = ordered
        for done in range(1, SEARCH_WINDOWS + 1):
            window = Conversation.objects.filter(pk__in=rest.values("pk")[:SEARCH_WINDOW])
            probed = window.filter(search_q(filters.q, how=SearchHow.PROBE)).order_by(*ordering)
            found += probed.values_list("pk", flat=True)[: page_size + 1 - len(found)]
            if len(found) > page_size:
                break
            end = next(iter(rest.values_list(key, "id")[SEARCH_WINDOW - 1 : SEARCH_WINDOW]), None)
            if end is None:  # the window held the rest of the list
                break
            rest = rest.filter(after(Tuple(F(key), F("id")), end))
            # At the rate found so far, would the windows left fill the page?
            if len(found) * (SEARCH_WINDOWS - done) < (page_size + 1 - len(found)) * done:
                how = SearchHow.WALK if found else SearchHow.MATCHES
                matched = rest.filter(search_q(filters.q, how=how, accounts=accounts))
                found += matched.values_list("pk", flat=True)[: page_size + 1 - len(found)]
                break
        rows = fetch(Conversation.objects.filter(pk__in=found).order_by(*ordering), len(found))
    # Accounts are few: one small query instead of a join per row (and no decrypting of each
    # row's account credentials, which select_related would do).
    accounts = {
        a.pk: a
        for a in PlatformAccount.objects.filter(pk__in={r.account_id for r in rows}).only(
            "platform", "name"
        )
    }
    for row in rows:
        row.account = accounts[row.account_id]
    next_cursor = ""
    if len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        next_cursor = _encode_cursor({"at": getattr(last, key).isoformat(), "id": last.pk})
    return Page(rows=rows, next_cursor=next_cursor, filters=filters)


# --- Sidebar ----------------------------------------------------------------------------------


def next_in_list(user: User, filters: ListFilters, conversation: Conversation) -> int | None:
    """The conversation to open once this one is done: the row below it on the first page of
    the agent's list, else the row above it, else the top row (when it is not listed)."""
    rows = [c.pk for c in conversation_page(user, replace(filters, cursor="")).rows]
    if conversation.pk not in rows:
        return rows[0] if rows else None
    at = rows.index(conversation.pk)
    after, before = rows[at + 1 :], rows[:at]
    return after[0] if after else before[-1] if before else None


def sidebar(user: User) -> dict[str, Any]:
    """What the list's navigation offers: the user's accounts, teams and the labels."""
    accounts = list(visible_accounts(user).order_by("platform", "name"))
    teams = Team.objects.order_by("name") if user.is_admin else user.teams.order_by("name")
    return {
        "accounts": accounts,
        "teams": list(teams),
        "labels": list(Label.objects.order_by("name")),
        "platforms": sorted({a.platform for a in accounts}),
        "sla_available": sla_due_field() is not None,
        "teammates": teammates(user),
    }


def teammates(user: User) -> list[User]:
    """The people of the user's teams (the user too), each with ``status`` for display."""
    people = User.objects.filter(is_active=True, teams__in=user.teams.all()).distinct()
    return presence.with_status(people.order_by("first_name", "username"), viewer=user)


# --- One conversation -------------------------------------------------------------------------


def thread(conversation: Conversation, *, after: int | None = None) -> QuerySet[Message]:
    messages = (
        conversation.messages.select_related("author", "sender_identity", "reply_to")
        .prefetch_related("attachments", "reactions")
        .order_by("sent_at", "id")
    )
    if after:
        messages = messages.filter(pk__gt=after)
    return messages


@dataclass
class ThreadItem:
    kind: str  # "message" or "note"
    obj: Message | Note
    at: datetime


def thread_items(
    conversation: Conversation, *, after_message: int = 0, after_note: int | None = 0
) -> list[ThreadItem]:
    """Messages and private notes in one timeline (notes are shown apart, never sent).
    ``after_note=None``: no notes."""
    items = [ThreadItem("message", m, m.sent_at) for m in thread(conversation, after=after_message)]
    if after_note is not None:
        notes = conversation.notes.select_related("author").filter(pk__gt=after_note)
        items += [ThreadItem("note", n, n.created_at) for n in notes]
    items.sort(key=lambda item: (item.at, item.kind == "note", item.obj.pk))
    return items


THREAD_PAGE = 100


def thread_page(
    conversation: Conversation, *, before: int | None = None, size: int = THREAD_PAGE
) -> tuple[list[ThreadItem], int | None]:
    """The newest ``size`` messages (older than message ``before`` when given) with the notes of
    the same span, oldest first, and the id to ask for the page before it (None: no more)."""
    messages = thread(conversation)
    upper = None
    if before:
        anchor = conversation.messages.filter(pk=before).values("sent_at", "id").first()
        if anchor is None:
            return [], None
        upper = anchor["sent_at"]
        messages = messages.filter(
            Q(sent_at__lt=upper) | Q(sent_at=upper, id__lt=anchor["id"]), sent_at__lte=upper
        )
    newest = list(messages.order_by("-sent_at", "-id")[: size + 1])
    more = len(newest) > size
    newest = list(reversed(newest[:size]))
    notes = conversation.notes.select_related("author")
    if more:
        notes = notes.filter(created_at__gte=newest[0].sent_at)
    if upper is not None:
        notes = notes.filter(created_at__lt=upper)
    items = [ThreadItem("message", m, m.sent_at) for m in newest]
    items += [ThreadItem("note", n, n.created_at) for n in notes]
    items.sort(key=lambda item: (item.at, item.kind == "note", item.obj.pk))
    return items, (newest[0].pk if more else None)


def latest_dm_thread(
    account: PlatformAccount,
    *,
    contact: Contact | int | None = None,
    platform_user_id: str | None = None,
    kind: str = Conversation.Kind.DM,
) -> Conversation | None:
    """The contact's latest DM thread on the account, named by the contact or by their platform
    user id: where a message without a platform thread id lands, what a reaction reopens, where
    an outreach or a private reply to a comment goes. The newest one wins (a merge of contacts
    can leave two). Platforms that number their threads (X) are found by that number too, so an
    outreach continues the thread the customer's replies arrive in; ``kind`` asks for another
    kind of thread without a platform number."""
    threads = Conversation.objects.select_related("account", "contact").filter(
        account=account, kind=kind
    )
    if contact is not None:
        threads = threads.filter(contact=contact)
    if platform_user_id is not None:
        threads = threads.filter(
            participants__account=account, participants__platform_user_id=platform_user_id
        )
    return threads.order_by("-id").first()


def other_conversations(user: User, conversation: Conversation) -> QuerySet[Conversation]:
    """The contact's other conversations the user may see, newest first."""
    return (
        visible_conversations(user)
        .filter(contact_id=conversation.contact_id)
        .exclude(pk=conversation.pk)
        .select_related("account")
        .order_by("-last_activity_at", "-id")[:10]
    )


def latest_event_id(conversation: Conversation) -> int:
    """The conversation's newest event id: the composer's "as loaded" mark."""
    return (
        ConversationEvent.objects.filter(conversation=conversation)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0
    )


def replies_since(conversation: Conversation, *, event_id: int, user: User) -> list[Message]:
    """Replies sent on the conversation after the page was loaded by someone else (another
    agent, the bot, the platform's own tools): what the "changed since you loaded it" warning
    names. Customer messages do not count: the open thread shows them live."""
    message_ids = [
        data.get("message")
        for data in ConversationEvent.objects.filter(
            conversation=conversation,
            id__gt=event_id,
            kind=ConversationEvent.Kind.MESSAGE_SENT,
        ).values_list("data", flat=True)
    ]
    return list(
        Message.objects.filter(pk__in=[m for m in message_ids if m])
        .exclude(author=user)
        .select_related("author", "sender_identity")
        .order_by("id")
    )


def assignable_agents(user: User, conversation: Conversation | None = None) -> list[User]:
    """Active users who may see the conversation's account (or any of the user's accounts)."""
    users = User.objects.filter(is_active=True)
    if conversation is not None:
        users = users.filter(
            Q(role=User.Role.ADMIN) | Q(is_superuser=True) | Q(teams__accounts=conversation.account)
        )
    else:
        users = users.filter(
            Q(role=User.Role.ADMIN) | Q(is_superuser=True) | Q(teams__in=user.teams.all())
        )
    # Each with ``status`` (offline / online / busy / away) to show beside the name.
    return presence.with_status(users.distinct().order_by("first_name", "username"), viewer=user)
