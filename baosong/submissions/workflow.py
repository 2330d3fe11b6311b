"""Every change to an item: one function per verb, atomic, row locked, one timeline event each.

The transition table below is the whole state machine; nothing else assigns `status`.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext

from baosong.audit.models import Event as AuditEvent
from baosong.audit.record import entry as audit_entry
from baosong.audit.record import record, record_all
from baosong.lib import hooks
from baosong.orgs.access import scope_for
from baosong.orgs.models import Membership, PlatformRole, Role, Unit, User, moved_path
from baosong.submissions import access, notify, uploads
from baosong.submissions.models import (
    Addressee,
    Assignee,
    Attachment,
    Author,
    Event,
    EventAction,
    Handling,
    ItemType,
    Kind,
    NotificationKind,
    StageConfig,
    Status,
    Submission,
    UploadLimit,
    Version,
    VersionSource,
)
from baosong.submissions.sanitize import clean, plain_text

# (status, action) → status after; "approve" moves to the next stage or, after the last, submits.
TRANSITIONS: dict[tuple[str, str], str] = {
    (Status.DRAFT, EventAction.SUBMIT_FOR_REVIEW): Status.IN_REVIEW,
    (Status.RETURNED, EventAction.SUBMIT_FOR_REVIEW): Status.IN_REVIEW,
    (Status.IN_REVIEW, EventAction.APPROVE): Status.IN_REVIEW,
    (Status.IN_REVIEW, EventAction.RETURN): Status.RETURNED,
    (Status.IN_REVIEW, EventAction.REJECT): Status.REJECTED,
    (Status.IN_REVIEW, EventAction.WITHDRAW): Status.DRAFT,
    (Status.SUBMITTED, EventAction.WITHDRAW): Status.DRAFT,
    (Status.SUBMITTED, EventAction.RETURN_FROM_UPPER): Status.RETURNED,
}

DEFAULT_STAGES: list[dict[str, Any]] = [
    {"name": "初审", "role": Role.REVIEWER.value, "people": [], "can_edit": False},
    {"name": "复审", "role": Role.REVIEWER.value, "people": [], "can_edit": False},
    {"name": "终审", "role": Role.REVIEWER.value, "people": [], "can_edit": False},
]

WRITER_ROLES = (Role.OFFICER, Role.CORRESPONDENT)


def _transition(item: Submission, action: str) -> str:
    target = TRANSITIONS.get((item.status, action))
    if target is None:
        label = EventAction(action).label
        raise ValidationError(
            gettext("稿件当前为“%(status)s”，不能%(label)s。")
            % {"status": item.get_status_display(), "label": label}
        )
    return target


def _event(item: Submission, action: str, **fields: Any) -> Event:
    """Write one timeline event with its audit event (fields as `_event_row` takes them)."""
    return _write([_event_row(item, action, **fields)])[0]


_Row = tuple[Event, AuditEvent]


def _event_row(
    item: Submission,
    action: str,
    *,
    by: User,
    role: str,
    ip: str | None,
    from_status: str,
    comment: str = "",
    anchor: str = "",
    stage: dict[str, Any] | None = None,
    stage_index: int | None = None,
    unit: Unit | None = None,
) -> _Row:
    """A timeline event and its audit event as the item stands now, not yet written."""
    event = Event(
        submission=item,
        action=action,
        by=by,
        role=role[:80],
        ip=ip,
        from_status=from_status,
        to_status=item.status,
        stage_index=stage_index,
        stage_name=(stage or {}).get("name", ""),
        comment=comment,
        anchor=anchor[:300],
        version_number=item.version_number,
        unit=unit,
    )
    audit = audit_entry(
        f"item.{action}",
        actor=by,
        role=role,
        ip=ip,
        obj=item,
        object_type="submission",
        unit_path=item.unit.path,
        after={"status": item.status, "stage": stage_index, "comment": comment[:200]},
    )
    return event, audit


def _write(rows: list[_Row]) -> list[Event]:
    """The events of one change in one insert, their audit events in another, in order."""
    events = Event.objects.bulk_create([event for event, _ in rows])
    record_all([audit for _, audit in rows])
    for event in events:
        hooks.event_written("submissions", event)
    return events


# What a transition changes on the item's row; saving only these leaves the text unsent.
STATE_FIELDS = [
    "status",
    "stage_plan",
    "stage_index",
    "stage_role",
    "stage_named",
    "submitted_at",
    "updated_at",
]


def _locked(item: Submission | int, by: User, **also: RawSQL) -> Submission:
    """The item's row, locked until the transaction ends, read with its unit, with whether `by`
    is an author or assignee of it, and with the `also` facts a verb checks (one query instead
    of one each). Given the key instead of an item (as the views do), the same read stands for
    the view's access check: 404 unless `by` may see the item."""
    rows = Submission.objects.select_for_update(of=("self",)).select_related("unit")
    if also:
        rows = rows.annotate(**also)
    if isinstance(item, int):
        return access.get_submission_for(by, item, rows=rows)
    return access.read_for(rows, by, item.pk)


# Drafting ----------------------------------------------------------------------------------------


@dataclass
class DraftInput:
    item_type: str
    title: str
    body: str = ""
    kind: str = ""
    event_date: dt.date | None = None
    keywords: str = ""
    coauthors: list[tuple[User, int]] | None = None  # others than the writer, with shares
    own_share: int = 100
    addressed: list[Unit] | None = None


def _check_input(unit: Unit, data: DraftInput, writer: User) -> list[tuple[User, int]]:
    errors: dict[str, str] = {}
    if data.item_type not in ItemType.values:
        errors["item_type"] = gettext("请选择类型（信息、稿件或专报）。")
    if data.kind and data.kind not in Kind.values:
        errors["kind"] = gettext("类别无效。")
    if data.kind and data.item_type != ItemType.INFO:
        errors["kind"] = gettext("只有“信息”需要选择类别。")
    if not data.title.strip():
        errors["title"] = gettext("请填写标题。")
    elif len(data.title) > 200:
        errors["title"] = gettext("标题不超过 200 字。")
    if len(data.keywords) > 200:
        errors["keywords"] = gettext("关键词不超过 200 字。")
    authors = [(writer, data.own_share), *(data.coauthors or [])]
    users = [u.pk for u, _ in authors]
    if len(set(users)) != len(users):
        errors["coauthors"] = gettext("同一作者只能出现一次。")
    elif any(share < 1 or share > 100 for _, share in authors):
        errors["coauthors"] = gettext("每位作者的份额应在 1 到 100 之间。")
    elif sum(share for _, share in authors) != 100:
        errors["coauthors"] = gettext("作者份额之和应为 100，现为 %(total)s。") % {
            "total": sum((share for _, share in authors))
        }
    else:
        members = set(
            Membership.objects.current()
            .filter(unit=unit, user_id__in=users, user__is_active=True)
            .values_list("user_id", flat=True)
        )
        strangers = [u.real_name for u, _ in authors if u.pk not in members]
        if strangers:
            errors["coauthors"] = gettext("作者须为本单位在任人员：%(strangers)s。") % {
                "strangers": "、".join(strangers)
            }
    ancestors = set(unit.ancestor_ids())
    for target in data.addressed or []:
        if target.pk not in ancestors or not target.is_active:
            errors["addressed"] = gettext("“%(short_name)s”不是本单位的上级单位。") % {
                "short_name": target.short_name
            }
    if errors:
        raise ValidationError(errors)
    return authors


@transaction.atomic
def create_draft(*, by: User, unit: Unit, data: DraftInput, ip: str | None = None) -> Submission:
    """An officer or correspondent starts an item for their unit; the first version is saved."""
    if unit.pk not in access.can_write_for(by) or not unit.is_active:
        raise PermissionDenied(gettext("您不是该单位的信息员或通讯员。"))
    authors = _check_input(unit, data, by)
    addressed = data.addressed or ([unit.parent] if unit.parent else [])
    if not addressed:
        raise ValidationError({"addressed": gettext("请选择报送的上级单位。")})
    body = clean(data.body)
    item = Submission.objects.create(
        unit=unit,
        item_type=data.item_type,
        kind=data.kind,
        title=data.title.strip(),
        body=body,
        event_date=data.event_date,
        keywords=data.keywords.strip(),
        created_by=by,
        version_number=1,
    )
    Author.objects.bulk_create(
        Author(submission=item, user=user, share=share, position=i)
        for i, (user, share) in enumerate(authors)
    )
    Addressee.objects.bulk_create(Addressee(submission=item, unit=target) for target in addressed)
    Version.objects.create(
        submission=item,
        number=1,
        title=item.title,
        body=body,
        source=VersionSource.CREATE,
        created_by=by,
    )
    _event(item, EventAction.CREATE, by=by, role="author", ip=ip, from_status="")
    return item


@dataclass
class SaveResult:
    item: Submission
    version: Version | None
    conflict: bool = False


@transaction.atomic
def save_content(
    *,
    by: User,
    item: Submission,
    base_version: int,
    title: str,
    body: str,
    autosave: bool = False,
    ip: str | None = None,
) -> SaveResult:
    """Save title and body. A change makes a new version; saving on top of a version that is no
    longer the latest keeps the text as a conflict version and changes nothing else."""
    item = _locked(item, by)
    role = access.edit_role(by, item)
    if role is None:
        raise PermissionDenied(gettext("当前不能修改这篇稿件。"))
    title, body = title.strip(), clean(body)
    if not title:
        raise ValidationError({"title": gettext("请填写标题。")})
    if len(title) > 200:
        raise ValidationError({"title": gettext("标题不超过 200 字。")})
    if base_version != item.version_number:
        conflict = Version.objects.create(
            submission=item,
            number=_next_number(item),
            title=title,
            body=body,
            source=VersionSource.CONFLICT,
            based_on=base_version,
            created_by=by,
        )
        return SaveResult(item=item, version=conflict, conflict=True)
    if title == item.title and body == item.body:
        return SaveResult(item=item, version=None)
    number = _next_number(item)
    source = (
        VersionSource.REVIEW_EDIT
        if role != "author"
        else (VersionSource.AUTOSAVE if autosave else VersionSource.SAVE)
    )
    version = Version.objects.create(
        submission=item,
        number=number,
        title=title,
        body=body,
        source=source,
        based_on=base_version,
        created_by=by,
    )
    item.title, item.body, item.version_number = title, body, number
    item.save(update_fields=["title", "body", "version_number", "updated_at"])
    if role != "author":
        _event(
            item,
            EventAction.REVIEW_EDIT,
            by=by,
            role=role,
            ip=ip,
            from_status=item.status,
            stage=item.stage,
            stage_index=item.stage_index,
        )
    return SaveResult(item=item, version=version)


def _next_number(item: Submission) -> int:
    last = (
        Version.objects.filter(submission=item)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return (last or 0) + 1


@transaction.atomic
def update_details(
    *, by: User, item: Submission, data: DraftInput, ip: str | None = None
) -> Submission:
    """Type, kind, date, keywords, co-authors and addressees, while the authors may edit."""
    item = _locked(item, by)
    if item.status not in access.EDITABLE_BY_AUTHORS or not access.is_author(by, item):
        raise PermissionDenied(gettext("当前不能修改这篇稿件。"))
    owner = item.authors.select_related("user").first()
    writer = owner.user if owner else by
    authors = _check_input(item.unit, data, writer)
    addressed = data.addressed or list(
        Unit.objects.filter(incoming__submission=item, incoming__forwarded_from__isnull=True)
    )
    before = _details(item)
    item.item_type, item.kind = data.item_type, data.kind
    item.event_date, item.keywords = data.event_date, data.keywords.strip()
    item.save(update_fields=["item_type", "kind", "event_date", "keywords", "updated_at"])
    Author.objects.filter(submission=item).delete()
    access.forget_facts(item)
    Author.objects.bulk_create(
        Author(submission=item, user=user, share=share, position=i)
        for i, (user, share) in enumerate(authors)
    )
    Addressee.objects.filter(submission=item, forwarded_from__isnull=True).exclude(
        unit__in=addressed
    ).delete()
    existing = set(Addressee.objects.filter(submission=item).values_list("unit_id", flat=True))
    Addressee.objects.bulk_create(
        Addressee(submission=item, unit=u) for u in addressed if u.pk not in existing
    )
    after = _details(item)
    if after != before:
        # Shares feed personal scores later, so who changed them is on record.
        record(
            "item.update",
            actor=by,
            role="author",
            ip=ip,
            obj=item,
            object_type="submission",
            unit_path=item.unit.path,
            before=before,
            after=after,
        )
    return item


def _details(item: Submission) -> dict[str, Any]:
    return {
        "item_type": item.item_type,
        "kind": item.kind,
        "event_date": item.event_date.isoformat() if item.event_date else None,
        "keywords": item.keywords,
        "authors": [list(a) for a in item.authors.values_list("user_id", "share")],
        "addressed": sorted(item.addressees.values_list("unit_id", flat=True)),
    }


# Review ------------------------------------------------------------------------------------------


def _default_plan() -> list[dict[str, Any]]:
    return [dict(stage) for stage in DEFAULT_STAGES]


def stage_plan_for(unit: Unit, item_type: str) -> list[dict[str, Any]]:
    """The unit's stages for this type, else its general stages, else 初审/复审/终审."""
    both = StageConfig.objects.filter(unit=unit, item_type__in=[item_type, ""])
    read = list(both.prefetch_related("people"))
    configs = [c for c in read if c.item_type == item_type] or [
        c for c in read if c.item_type == ""
    ]
    if not configs:
        return _default_plan()
    return [
        {
            "name": c.name,
            "role": c.role,
            "people": sorted(p.pk for p in c.people.all()),
            "can_edit": c.can_edit,
        }
        for c in sorted(configs, key=lambda c: c.position)
    ]


def _enter_stage(item: Submission, index: int) -> None:
    stage = item.stage_plan[index]
    item.stage_index = index
    item.stage_role = stage["role"]
    # Assignees exist only while a stage names people (every other move clears them).
    _clear_assignees(item)
    item.stage_named = bool(stage.get("people"))
    if stage.get("people"):
        Assignee.objects.bulk_create(
            Assignee(submission=item, user_id=pk) for pk in stage["people"]
        )


def _clear_assignees(item: Submission) -> None:
    """Assignee rows exist only while stage_named is set, so otherwise there is nothing to
    delete and no query to send."""
    if item.stage_named:
        Assignee.objects.filter(submission=item).delete()
        access.forget_facts(item)


def _stage_actors(item: Submission) -> "notify.Recipients | list[User]":
    stage = item.stage
    if stage is None:
        return []
    if stage.get("people"):
        return notify.Recipients(User.objects.filter(pk__in=stage["people"]))
    members = Membership.objects.current().filter(unit=item.unit, role=stage["role"])
    return notify.Recipients(User.objects.filter(pk__in=members.values("user_id")))


def _authors(item: Submission) -> notify.Recipients:
    users: QuerySet[User] = User.objects.filter(authorships__submission=item)
    return notify.Recipients(users.order_by("authorships__position", "authorships__id"))


def _has(item: Submission, fact: str) -> bool:
    """A fact read along with the locked row (see _locked)."""
    return bool(getattr(item, fact))


@transaction.atomic
def submit_for_review(*, by: User, item: Submission | int, ip: str | None = None) -> Submission:
    """An author sends a draft (or a returned item) into the unit's first review stage."""
    item = _locked(
        item,
        by,
        addressed=access.exists_fact(Addressee, "{t}.submission_id = {row}.id"),
        # Whether the unit configured stages at all: most use the default three, which then
        # cost no query.
        configured=access.exists_fact(
            StageConfig,
            "{t}.unit_id = {row}.unit_id AND ({t}.item_type = {row}.item_type"
            " OR {t}.item_type = '')",
        ),
    )
    if not access.is_author(by, item):
        raise PermissionDenied(gettext("只有作者可以提交审核。"))
    from_status = item.status
    target = _transition(item, EventAction.SUBMIT_FOR_REVIEW)
    errors: dict[str, str] = {}
    if not plain_text(item.body).strip():
        errors["body"] = gettext("正文为空，不能提交审核。")
    if item.item_type == ItemType.INFO and not item.kind:
        errors["kind"] = gettext("信息须选择类别（动态/经验/问题/研判）。")
    if not _has(item, "addressed"):
        errors["addressed"] = gettext("请选择报送的上级单位。")
    if errors:
        raise ValidationError(errors)
    item.status = target
    item.stage_plan = (
        stage_plan_for(item.unit, item.item_type) if _has(item, "configured") else _default_plan()
    )
    _enter_stage(item, 0)
    item.save(update_fields=STATE_FIELDS)
    _event(
        item,
        EventAction.SUBMIT_FOR_REVIEW,
        by=by,
        role="author",
        ip=ip,
        from_status=from_status,
        stage=item.stage,
        stage_index=0,
    )
    notify.send(
        NotificationKind.TO_REVIEW,
        _stage_actors(item),
        item,
        gettext("《%(title)s》待您%(name)s。")
        % {"title": item.title, "name": item.stage_plan[0]["name"]},
    )
    return item


@transaction.atomic
def approve(
    *, by: User, item: Submission | int, comment: str = "", ip: str | None = None
) -> Submission:
    """The current stage's reviewer approves: on to the next stage, or after the last, 报送."""
    item = _locked(item, by)
    role = access.acts_on_current_stage(by, item)
    if role is None:
        if item.status != Status.IN_REVIEW:
            _transition(item, EventAction.APPROVE)
        raise PermissionDenied(gettext("您不是当前审核环节的办理人。"))
    _transition(item, EventAction.APPROVE)
    stage, index = item.stage, item.stage_index
    approval = _event_row(
        item,
        EventAction.APPROVE,
        by=by,
        role=role,
        ip=ip,
        from_status=item.status,
        comment=comment.strip(),
        stage=stage,
        stage_index=index,
    )
    if index + 1 < len(item.stage_plan):
        _write([approval])
        _enter_stage(item, index + 1)
        item.save(update_fields=STATE_FIELDS)
        notify.send_each(
            [
                (
                    NotificationKind.APPROVED,
                    _authors(item),
                    item,
                    gettext("《%(title)s》已通过%(name)s。")
                    % {"title": item.title, "name": (stage or {}).get("name", "")},
                ),
                (
                    NotificationKind.TO_REVIEW,
                    _stage_actors(item),
                    item,
                    gettext("《%(title)s》待您%(name)s。")
                    % {"title": item.title, "name": item.stage_plan[index + 1]["name"]},
                ),
            ]
        )
        return item
    return _submit(item, by=by, role=role, ip=ip, approval=approval)


def _submit(item: Submission, *, by: User, role: str, ip: str | None, approval: _Row) -> Submission:
    """After the last stage's approval (written with the submission, in one insert)."""
    from_status = item.status
    item.status = Status.SUBMITTED
    item.submitted_at = timezone.now()
    _clear_assignees(item)
    item.stage_role, item.stage_named = "", False
    item.save(update_fields=STATE_FIELDS)
    targets = "、".join(_receive_afresh(item))
    _write(
        [
            approval,
            _event_row(
                item,
                EventAction.SUBMIT,
                by=by,
                role=role,
                ip=ip,
                from_status=from_status,
                comment=f"报送至{targets}",
            ),
        ]
    )
    notify.send(
        NotificationKind.SUBMITTED,
        _authors(item),
        item,
        gettext("《%(title)s》已报送至%(targets)s。") % {"title": item.title, "targets": targets},
    )
    return item


def _receive_afresh(item: Submission) -> list[str]:
    """A new round at the addressed units: receipts reached by forwarding in an earlier round
    stay as history; the origin's own addressees receive the item afresh. Returns their short
    names in the order they were addressed (one statement: UPDATE … RETURNING, which SQLite has
    since 3.35 and PostgreSQL always had)."""
    table, units = Addressee._meta.db_table, Unit._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET state = %s, opened_at = NULL, opened_by_id = NULL, "
            "claimed_by_id = NULL, claimed_at = NULL, received_at = %s, sort_title = %s, "
            "origin_path = %s WHERE submission_id = %s AND forwarded_from_id IS NULL "
            f"RETURNING id, (SELECT short_name FROM {units} WHERE {units}.id = {table}.unit_id)",
            [
                Handling.PENDING,
                connection.ops.adapt_datetimefield_value(item.submitted_at),
                item.title[:200],
                item.unit.path,
                item.pk,
            ],
        )
        return [name for _, name in sorted(cursor.fetchall())]


def _end_review(
    item: Submission | int,
    action: str,
    *,
    by: User,
    comment: str,
    anchor: str,
    ip: str | None,
    missing: str,
) -> tuple[Submission, dict[str, Any] | None]:
    """A decision that takes the item out of review (return or reject): the current stage's
    reviewer, with a comment, records one event."""
    item = _locked(item, by)
    role = access.acts_on_current_stage(by, item)
    if role is None:
        if item.status != Status.IN_REVIEW:
            _transition(item, action)
        raise PermissionDenied(gettext("您不是当前审核环节的办理人。"))
    target = _transition(item, action)
    if not comment.strip():
        raise ValidationError({"comment": missing})
    stage, index, from_status = item.stage, item.stage_index, item.status
    item.status = target
    _clear_assignees(item)
    item.stage_role, item.stage_named = "", False
    item.save(update_fields=STATE_FIELDS)
    _event(
        item,
        action,
        by=by,
        role=role,
        ip=ip,
        from_status=from_status,
        comment=comment.strip(),
        anchor=anchor.strip(),
        stage=stage,
        stage_index=index,
    )
    return item, stage


@transaction.atomic
def return_to_authors(
    *,
    by: User,
    item: Submission | int,
    comment: str,
    anchor: str = "",
    ip: str | None = None,
) -> Submission:
    """The current stage's reviewer sends the item back to its authors with a comment."""
    item, stage = _end_review(
        item,
        EventAction.RETURN,
        by=by,
        comment=comment,
        anchor=anchor,
        ip=ip,
        missing=gettext("退回修改须写明意见。"),
    )
    notify.send(
        NotificationKind.RETURNED,
        _authors(item),
        item,
        gettext("《%(title)s》被%(name)s退回修改：%(comment)s")
        % {
            "title": item.title,
            "name": (stage or {}).get("name", ""),
            "comment": comment.strip()[:80],
        },
    )
    return item


@transaction.atomic
def reject(*, by: User, item: Submission | int, reason: str, ip: str | None = None) -> Submission:
    """The current stage's reviewer rejects the item with a reason; it stays read-only."""
    item, stage = _end_review(
        item,
        EventAction.REJECT,
        by=by,
        comment=reason,
        anchor="",
        ip=ip,
        missing=gettext("不予通过须写明理由。"),
    )
    notify.send(
        NotificationKind.REJECTED,
        _authors(item),
        item,
        gettext("《%(title)s》未通过%(name)s：%(reason)s")
        % {
            "title": item.title,
            "name": (stage or {}).get("name", ""),
            "reason": reason.strip()[:80],
        },
    )
    return item


@transaction.atomic
def withdraw(*, by: User, item: Submission | int, ip: str | None = None) -> Submission:
    """Authors take an item back to draft: from review, or after 报送 until an upper unit opened it."""
    item = _locked(
        item,
        by,
        opened=access.exists_fact(
            Addressee, "{t}.submission_id = {row}.id AND {t}.opened_at IS NOT NULL"
        ),
    )
    if not access.is_author(by, item):
        raise PermissionDenied(gettext("只有作者可以撤回。"))
    target = _transition(item, EventAction.WITHDRAW)
    if item.status == Status.SUBMITTED and _has(item, "opened"):
        raise ValidationError(gettext("上级单位已阅读这篇稿件，不能再撤回。"))
    from_status = item.status
    item.status = target
    _clear_assignees(item)
    item.stage_role, item.stage_named, item.submitted_at = "", False, None
    item.save(update_fields=STATE_FIELDS)
    _event(item, EventAction.WITHDRAW, by=by, role="author", ip=ip, from_status=from_status)
    return item


@transaction.atomic
def return_from_upper(
    *, by: User, item: Submission, comment: str, ip: str | None = None
) -> Submission:
    """An editor of a receiving unit sends a submitted item back to its authors with a comment;
    they revise it, it goes through the unit's review again and is submitted anew."""
    item = _locked(item, by)
    editor_units = scope_for(by).units_with(Role.EDITOR)
    receipt = (
        Addressee.objects.select_for_update()
        .select_related("unit")
        .filter(submission=item, unit_id__in=editor_units)
        .first()
    )
    if receipt is None:
        raise PermissionDenied(gettext("只有收到这篇稿件的单位的编辑可以退回。"))
    target = _transition(item, EventAction.RETURN_FROM_UPPER)
    if receipt.state != Handling.PENDING:
        raise ValidationError(
            gettext("本单位已对这篇稿件作出处理（%(state)s），不能再退回。")
            % {"state": receipt.get_state_display()}
        )
    if not comment.strip():
        raise ValidationError({"comment": gettext("退回须写明意见。")})
    from_status = item.status
    item.status = target
    item.save(update_fields=STATE_FIELDS)
    receipt.state = Handling.RETURNED
    receipt.save(update_fields=["state"])
    _event(
        item,
        EventAction.RETURN_FROM_UPPER,
        by=by,
        role=f"editor@{receipt.unit.code}",
        ip=ip,
        from_status=from_status,
        comment=comment.strip(),
        unit=receipt.unit,
    )
    notify.send(
        NotificationKind.RETURNED,
        _authors(item),
        item,
        gettext("《%(title)s》被%(short_name)s退回：%(comment)s")
        % {
            "title": item.title,
            "short_name": receipt.unit.short_name,
            "comment": comment.strip()[:80],
        },
    )
    return item


@transaction.atomic
def mark_opened(*, by: User, item: Submission, ip: str | None = None) -> bool:
    """An editor of an addressed unit opens the item: from then on the authors cannot withdraw.
    Only a submitted item can be opened; for any other state (say, withdrawn meanwhile) nothing
    changes."""
    item = _locked(item, by)
    if item.status != Status.SUBMITTED:
        return False
    editor_units = scope_for(by).units_with(Role.EDITOR)
    rows = Addressee.objects.select_for_update().filter(
        submission=item, unit_id__in=editor_units, opened_at__isnull=True
    )
    opened = False
    for row in rows.select_related("unit"):
        row.opened_at, row.opened_by = timezone.now(), by
        row.save(update_fields=["opened_at", "opened_by"])
        _event(
            item,
            EventAction.OPEN,
            by=by,
            role=f"editor@{row.unit.code}",
            ip=ip,
            from_status=item.status,
            unit=row.unit,
        )
        opened = True
    return opened


# Stage configuration -----------------------------------------------------------------------------


@dataclass
class StageInput:
    name: str
    role: str = Role.REVIEWER.value
    people: list[User] | None = None
    can_edit: bool = False


@transaction.atomic
def set_stages(
    *, by: User | None, unit: Unit, item_type: str, stages: list[StageInput], ip: str | None = None
) -> list[StageConfig]:
    """Replace the unit's review stages (for one item type, or "" for all types)."""
    if by is not None and not access.can_configure_stages(by, unit.pk):
        raise PermissionDenied(gettext("只有本单位管理员可以设置审核流程。"))
    if item_type and item_type not in ItemType.values:
        raise ValidationError({"item_type": gettext("类型无效。")})
    if item_type and not stages:
        pass  # an empty list for one type falls back to the unit's general stages
    elif not stages:
        raise ValidationError(gettext("至少需要一个审核环节。"))
    if len(stages) > 10:
        raise ValidationError(gettext("审核环节不超过 10 个。"))
    for i, stage in enumerate(stages, start=1):
        if not stage.name.strip() or len(stage.name) > 40:
            raise ValidationError(gettext("第 %(i)s 个环节须有名称（不超过 40 字）。") % {"i": i})
        if stage.role not in (Role.REVIEWER, Role.UNIT_ADMIN):
            raise ValidationError(gettext("第 %(i)s 个环节的办理角色无效。") % {"i": i})
        for person in stage.people or []:
            if not Membership.objects.current().filter(user=person, unit=unit).exists():
                raise ValidationError(
                    gettext("%(real_name)s不是本单位在任人员，不能办理“%(name)s”。")
                    % {"real_name": person.real_name, "name": stage.name}
                )
    before = list(
        StageConfig.objects.filter(unit=unit, item_type=item_type).values(
            "position", "name", "role", "can_edit"
        )
    )
    StageConfig.objects.filter(unit=unit, item_type=item_type).delete()
    created = []
    for position, stage in enumerate(stages, start=1):
        config = StageConfig.objects.create(
            unit=unit,
            item_type=item_type,
            position=position,
            name=stage.name.strip(),
            role=stage.role,
            can_edit=stage.can_edit,
        )
        config.people.set(stage.people or [])
        created.append(config)
    record(
        "review_stages.set",
        actor=by,
        role="unit_admin",
        ip=ip,
        object_type="unit",
        object_repr=f"{unit.short_name} {ItemType(item_type).label if item_type else '全部类型'}",
        unit_path=unit.path,
        before={"stages": before},
        after={
            "stages": [
                {
                    "name": s.name,
                    "role": s.role,
                    "can_edit": s.can_edit,
                    "people": [p.username for p in s.people or []],
                }
                for s in stages
            ]
        },
    )
    return created


# Notifications: read markers and email preferences -----------------------------------------------
# (models imported here so this section stays self-contained at the end of the module)


@transaction.atomic
def mark_notification_read(*, by: User, notification_id: int) -> int:
    """A user marks one of their own notifications read and learns which item it is about;
    another user's notification does not exist for them."""
    from baosong.submissions.models import Notification

    notification = Notification.objects.filter(pk=notification_id, user=by).first()
    if notification is None:
        raise Notification.DoesNotExist("notification")
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
    return notification.submission_id


@transaction.atomic
def mark_all_notifications_read(*, by: User) -> int:
    """All of the user's unread notifications become read; returns how many."""
    from baosong.submissions.models import Notification

    return Notification.objects.filter(user=by, read_at__isnull=True).update(read_at=timezone.now())


def email_kinds_for(user: User) -> set[str]:
    """The notification kinds the user gets by email (on unless turned off)."""
    from baosong.submissions.models import NotificationPreference

    muted = NotificationPreference.objects.filter(user=user, email=False).values_list(
        "kind", flat=True
    )
    return set(NotificationKind.values) - set(muted)


@transaction.atomic
def set_notification_preferences(
    *, by: User, email_kinds: list[str], ip: str | None = None
) -> set[str]:
    """Email on for the kinds given and off for the others; in-app notifications stay on."""
    from baosong.submissions.models import NotificationPreference

    wanted = set(email_kinds)
    unknown = wanted - set(NotificationKind.values)
    if unknown:
        raise ValidationError(
            gettext("未知的通知类型：%(unknown)s。") % {"unknown": "、".join(sorted(unknown))}
        )
    before = email_kinds_for(by)
    for kind in NotificationKind.values:
        NotificationPreference.objects.update_or_create(
            user=by, kind=kind, defaults={"email": kind in wanted}
        )
    if before != wanted:
        record(
            "notifications.preferences",
            actor=by,
            role="self",
            ip=ip,
            obj=by,
            object_type="user",
            before={"email": sorted(before)},
            after={"email": sorted(wanted)},
        )
    return wanted


# Attachments and upload limits -------------------------------------------------------------------


def add_attachment(
    *, by: User, item: Submission, upload: "UploadedFile[Any]", ip: str | None = None
) -> Attachment:
    """Whoever may edit the item now attaches a file that passed uploads.check (type by content
    and extension, size limit, images re-encoded, Office zips inspected); nothing is stored
    otherwise. The checks and the file write run before the transaction, so re-encoding a large
    image or copying a 200 MB video never holds the database write lock; if the row cannot be
    written the file is removed again."""
    if access.edit_role(by, item) is None:
        raise PermissionDenied(gettext("当前不能为这篇稿件添加附件。"))
    _check_attachment_count(item)
    checked = uploads.check(upload)
    storage_name = uploads.store(checked, upload)
    try:
        with transaction.atomic():
            item = _locked(item, by)
            role = access.edit_role(by, item)
            if role is None:
                raise PermissionDenied(gettext("当前不能为这篇稿件添加附件。"))
            _check_attachment_count(item)
            attachment = Attachment.objects.create(
                submission=item,
                original_name=checked.name,
                storage_name=storage_name,
                category=checked.category,
                content_type=checked.content_type,
                size=checked.size,
                uploaded_by=by,
            )
            record(
                "item.attach",
                actor=by,
                role=role,
                ip=ip,
                obj=item,
                object_type="submission",
                unit_path=item.unit.path,
                after={
                    "attachment": attachment.pk,
                    "name": checked.name,
                    "category": checked.category,
                    "size": checked.size,
                },
            )
    except BaseException:
        uploads.discard(storage_name)
        raise
    return attachment


def _check_attachment_count(item: Submission) -> None:
    current = Attachment.objects.filter(submission=item, removed_at__isnull=True).count()
    if current >= uploads.MAX_ATTACHMENTS_PER_ITEM:
        raise ValidationError(
            gettext("每篇稿件最多 %(limit)s 个附件，请先删除不需要的附件。")
            % {"limit": uploads.MAX_ATTACHMENTS_PER_ITEM}
        )


@transaction.atomic
def remove_attachment(
    *, by: User, item: Submission, attachment: Attachment, ip: str | None = None
) -> Attachment:
    """Whoever may edit the item now removes an attachment; the row is only marked removed and
    the file stays on disk, so the audit trail can still say what was there."""
    item = _locked(item, by)
    role = access.edit_role(by, item)
    if role is None:
        raise PermissionDenied(gettext("当前不能删除这篇稿件的附件。"))
    row = (
        Attachment.objects.select_for_update()
        .filter(pk=attachment.pk, submission=item, removed_at__isnull=True)
        .first()
    )
    if row is None:
        raise ValidationError(gettext("附件不存在或已删除。"))
    row.removed_at = timezone.now()
    row.save(update_fields=["removed_at"])
    record(
        "item.attachment_remove",
        actor=by,
        role=role,
        ip=ip,
        obj=item,
        object_type="submission",
        unit_path=item.unit.path,
        before={"attachment": row.pk, "name": row.original_name, "category": row.category},
    )
    return row


@transaction.atomic
def set_upload_limits(*, by: User, limits: dict[str, int], ip: str | None = None) -> dict[str, int]:
    """The system admin sets the size limit per attachment category (bytes); a limit equal to
    the default is stored as no row, so later changes of the defaults apply to it."""
    if not uploads.can_set_upload_limits(by):
        raise PermissionDenied(gettext("只有系统管理员可以设置附件大小上限。"))
    errors: dict[str, str] = {}
    for category, value in limits.items():
        if category not in uploads.DEFAULT_LIMITS:
            errors["__all__"] = gettext("未知的附件类别：%(category)s。") % {"category": category}
        elif not 1 <= value <= uploads.MAX_LIMIT:
            errors[category] = gettext("上限应在 1 字节到 %(max_mb)s MB 之间。") % {
                "max_mb": uploads.MAX_LIMIT // uploads.MB
            }
    if errors:
        raise ValidationError(errors)
    before = uploads.limits()
    for category, value in limits.items():
        if value == uploads.DEFAULT_LIMITS[category]:
            UploadLimit.objects.filter(category=category).delete()
        else:
            UploadLimit.objects.update_or_create(category=category, defaults={"max_bytes": value})
    after = uploads.limits()
    if before != after:
        record(
            "upload_limits.set",
            actor=by,
            role=PlatformRole.SYSTEM_ADMIN.value,
            ip=ip,
            object_type="upload_limits",
            object_repr="附件大小上限",
            before={k: v for k, v in before.items() if before[k] != after[k]},
            after={k: v for k, v in after.items() if before[k] != after[k]},
        )
    return after


def on_event(source: str, event: Any) -> None:
    """The listener registered with baosong.lib.hooks (see SubmissionsConfig.ready): when a unit
    moves, the receipts' copies of their items' unit paths (the inbox's sort by origin) move
    with it, in the move's transaction."""
    if source == "orgs" and isinstance(event, hooks.UnitMoved):
        old, new = event.old_path, event.new_path
        Addressee.objects.filter(origin_path__startswith=old).update(
            origin_path=moved_path("origin_path", old, new)
        )
