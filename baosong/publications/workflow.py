"""Handling at the upper unit: claim, adopt, keep for reference, forward, return; publications
and issues; instructions. Every function is atomic, checks permission and appends an Event whose
`facts` carry what scoring needs (adopting unit and level, publication kind, form, lead flag,
source items and shares, forwarder, instruction level)."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from baosong.audit.record import record
from baosong.lib import hooks
from baosong.orgs.models import Level, Unit, User
from baosong.publications import access
from baosong.publications.models import (
    CHANNEL_KINDS,
    Action,
    Adoption,
    AdoptionForm,
    AdoptionSource,
    Event,
    Instruction,
    Issue,
    IssueRevision,
    IssueStatus,
    LeaderLevel,
    Publication,
    PublicationKind,
)
from baosong.submissions import notify
from baosong.submissions import workflow as submissions_workflow
from baosong.submissions.models import Addressee, Handling, NotificationKind, Submission
from baosong.submissions.sanitize import clean


def _event(
    action: str,
    *,
    by: User,
    unit: Unit,
    ip: str | None,
    submission: Submission | None = None,
    adoption: Adoption | None = None,
    issue: Issue | None = None,
    instruction: Instruction | None = None,
    comment: str = "",
    facts: dict[str, Any] | None = None,
) -> Event:
    event = Event.objects.create(
        action=action,
        by=by,
        unit=unit,
        ip=ip,
        submission=submission,
        adoption=adoption,
        issue=issue,
        instruction=instruction,
        comment=comment,
        facts=facts or {},
    )
    record(
        f"publication.{action}",
        actor=by,
        role=f"editor@{unit.code}",
        ip=ip,
        obj=adoption or issue or submission,
        unit_path=unit.path,
        after=facts or None,
    )
    hooks.event_written("publications", event)
    return event


def _receipt(by: User, item: Submission) -> Addressee:
    receipt = access.get_receipt_for(by, item.pk)
    return (
        Addressee.objects.select_for_update()
        .select_related("unit", "submission__unit")
        .get(pk=receipt.pk)
    )


def _locked(adoption: Adoption, *related: str) -> Adoption:
    """The adoption's row, locked (only its own row: the issue may be null), with `related`;
    refused once it has been withdrawn, also by someone else a moment ago."""
    live = (
        Adoption.objects.select_for_update(of=("self",))
        .select_related(*related)
        .filter(pk=adoption.pk)
        .first()
    )
    if live is None:
        raise ValidationError(gettext("该采用已撤销。"))
    return live


def _authors(item: Submission) -> list[User]:
    return [a.user for a in item.authors.select_related("user")]


# Claiming ---------------------------------------------------------------------------------------


@transaction.atomic
def claim(*, by: User, item: Submission, ip: str | None = None) -> Addressee:
    """Mark the receipt as being handled by this editor, so two editors do not work one item."""
    receipt = _receipt(by, item)
    if receipt.claimed_by_id and receipt.claimed_by_id != by.pk:
        assert receipt.claimed_by is not None
        raise ValidationError(
            gettext("%(real_name)s已认领这篇稿件。") % {"real_name": receipt.claimed_by.real_name}
        )
    receipt.claimed_by, receipt.claimed_at = by, timezone.now()
    receipt.save(update_fields=["claimed_by", "claimed_at"])
    _event(Action.CLAIM, by=by, unit=receipt.unit, ip=ip, submission=item)
    return receipt


@transaction.atomic
def release(*, by: User, item: Submission, ip: str | None = None) -> Addressee:
    receipt = _receipt(by, item)
    if receipt.claimed_by_id is None:
        return receipt
    receipt.claimed_by, receipt.claimed_at = None, None
    receipt.save(update_fields=["claimed_by", "claimed_at"])
    _event(Action.RELEASE, by=by, unit=receipt.unit, ip=ip, submission=item)
    return receipt


def _not_claimed_by_other(by: User, receipt: Addressee) -> None:
    if receipt.claimed_by_id and receipt.claimed_by_id != by.pk:
        assert receipt.claimed_by is not None
        raise ValidationError(
            gettext("%(real_name)s已认领这篇稿件，请与其协调。")
            % {"real_name": receipt.claimed_by.real_name}
        )


# Decisions --------------------------------------------------------------------------------------


def _is_web_address(value: str) -> bool:
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        return False
    return len(value) <= 200  # Adoption.published_url is a URLField of 200


@dataclass
class SourceInput:
    item: Submission
    share: int = 100
    is_lead_source: bool = False


@transaction.atomic
def adopt(
    *,
    by: User,
    sources: list[SourceInput],
    publication: Publication,
    form: str,
    title: str,
    body: str = "",
    is_lead: bool = False,
    issue: Issue | None = None,
    published_url: str = "",
    published_on: dt.date | None = None,
    ip: str | None = None,
) -> Adoption:
    """采用: one or more items (several for 综合) into a publication issue or a channel."""
    if not sources:
        raise ValidationError(gettext("请选择采用的稿件。"))
    publication = (
        Publication.objects.select_for_update().select_related("unit").get(pk=publication.pk)
    )
    unit = publication.unit
    if unit.pk not in access.editor_unit_ids(by):
        raise PermissionDenied(gettext("只有本单位的编辑可以采用。"))
    if not publication.is_active:
        raise ValidationError({"publication": gettext("该刊物已停用。")})
    receipts = []
    for source in sources:
        receipt = _receipt(by, source.item)
        if receipt.unit_id != unit.pk:
            raise PermissionDenied(gettext("稿件未报送或转报到本单位。"))
        if receipt.state in (Handling.FORWARDED, Handling.RETURNED):
            raise ValidationError(
                gettext("本单位已对《%(title)s》作出处理（%(state)s），不能再采用。")
                % {"title": source.item.title, "state": receipt.get_state_display()}
            )
        _not_claimed_by_other(by, receipt)
        receipts.append(receipt)
    errors: dict[str, str] = {}
    if form not in AdoptionForm.values:
        errors["form"] = gettext("采用形式无效。")
    elif form == AdoptionForm.COMBINED:
        if len(sources) < 2:
            errors["form"] = gettext("综合采用须包含至少两篇稿件。")
        elif len({s.item.pk for s in sources}) != len(sources):
            errors["sources"] = gettext("同一篇稿件只能作为一个来源。")
        elif sum(s.share for s in sources) != 100:
            errors["sources"] = gettext("综合采用各来源份额之和应为 100，现为 %(total)s。") % {
                "total": sum(s.share for s in sources)
            }
        elif sum(1 for s in sources if s.is_lead_source) != 1:
            errors["sources"] = gettext("综合采用须指定一个主报单位。")
    elif len(sources) != 1:
        errors["form"] = gettext("全文、摘编和一句话采用只针对一篇稿件；多篇请用“综合”。")
    if not title.strip() or len(title) > 200:
        errors["title"] = gettext("请填写标题（不超过 200 字）。")
    body = clean(body)
    if form == AdoptionForm.WHOLE and not body:
        body = sources[0].item.body
    if form in (AdoptionForm.EXCERPT, AdoptionForm.COMBINED, AdoptionForm.ONE_LINE) and not body:
        errors["body"] = gettext("摘编、综合和一句话采用须填写采用稿正文。")
    if publication.kind in CHANNEL_KINDS:
        if issue is not None:
            errors["issue"] = gettext("网站、公众号不分期，请填写发布网址和日期。")
        if not published_on:
            errors["published_on"] = gettext("请填写发布日期。")
        if not published_url:
            errors["published_url"] = gettext("请填写发布网址。")
        elif not _is_web_address(published_url):
            errors["published_url"] = gettext(
                "发布网址应为以 http:// 或 https:// 开头的完整网址（不超过 200 字符）。"
            )
    elif issue is not None and (
        issue.publication_id != publication.pk or issue.status != IssueStatus.DRAFT
    ):
        errors["issue"] = gettext("只能采用到本刊物正在编辑的一期。")
    if errors:
        raise ValidationError(errors)
    position = 0
    if issue is not None:
        position = (Adoption.objects.filter(issue=issue).aggregate(m=Max("position"))["m"] or 0) + 1
    adoption = Adoption.objects.create(
        unit=unit,
        unit_level=unit.level,
        publication=publication,
        publication_kind=publication.kind,
        issue=issue,
        form=form,
        is_lead=is_lead,
        title=title.strip(),
        body=body,
        position=position,
        published_url=published_url,
        published_on=published_on,
        created_by=by,
    )
    rows = [
        AdoptionSource(
            adoption=adoption,
            submission=s.item,
            origin_unit=s.item.unit,
            share=s.share if form == AdoptionForm.COMBINED else 100,
            is_lead_source=s.is_lead_source or form != AdoptionForm.COMBINED,
            forwarded_by=r.forwarded_from,
        )
        for s, r in zip(sources, receipts, strict=True)
    ]
    AdoptionSource.objects.bulk_create(rows)
    for receipt in receipts:
        receipt.state = Handling.ADOPTED
        receipt.opened_at = receipt.opened_at or timezone.now()
        receipt.save(update_fields=["state", "opened_at"])
    facts = {
        **adoption.scoring_facts(),
        "publication": publication.name,
        "issue": issue.label if issue else None,
        "published_url": published_url,
        "sources": _source_facts(rows),
    }
    for row in rows:
        _event(
            Action.ADOPT,
            by=by,
            unit=unit,
            ip=ip,
            submission=row.submission,
            adoption=adoption,
            facts=facts,
        )
        notify.send(
            NotificationKind.SUBMITTED,
            _authors(row.submission),
            row.submission,
            gettext("《%(title)s》被%(short_name)s《%(name)s》%(label)s采用。")
            % {
                "title": row.submission.title,
                "short_name": unit.short_name,
                "name": publication.name,
                "label": AdoptionForm(form).label,
            },
        )
    return adoption


@transaction.atomic
def keep_for_reference(
    *, by: User, item: Submission, comment: str = "", ip: str | None = None
) -> Addressee:
    """仅供参考: read, not adopted."""
    receipt = _receipt(by, item)
    _not_claimed_by_other(by, receipt)
    if receipt.state != Handling.PENDING:
        raise ValidationError(
            gettext("本单位已对这篇稿件作出处理（%(state)s）。")
            % {"state": receipt.get_state_display()}
        )
    receipt.state = Handling.REFERENCE
    receipt.save(update_fields=["state"])
    _event(
        Action.REFERENCE, by=by, unit=receipt.unit, ip=ip, submission=item, comment=comment.strip()
    )
    return receipt


@transaction.atomic
def forward(
    *,
    by: User,
    item: Submission,
    targets: list[Unit] | None = None,
    comment: str = "",
    ip: str | None = None,
) -> list[Addressee]:
    """转报: send the item on to the receiving unit's own upper unit(s); it keeps its origin."""
    receipt = _receipt(by, item)
    _not_claimed_by_other(by, receipt)
    if receipt.state in (Handling.FORWARDED, Handling.RETURNED):
        raise ValidationError(
            gettext("本单位已对这篇稿件作出处理（%(state)s）。")
            % {"state": receipt.get_state_display()}
        )
    here = receipt.unit
    allowed = set(here.ancestor_ids())
    targets = targets or ([here.parent] if here.parent else [])
    if not targets:
        raise ValidationError({"targets": gettext("本单位没有上级单位可以转报。")})
    for target in targets:
        if target.pk not in allowed or not target.is_active or target.level == Level.INTERNAL:
            raise ValidationError(
                {
                    "targets": gettext("“%(short_name)s”不是本单位的上级单位。")
                    % {"short_name": target.short_name}
                }
            )
        if Addressee.objects.filter(submission=item, unit=target).exists():
            raise ValidationError(
                {
                    "targets": gettext("这篇稿件已报送或转报到%(short_name)s。")
                    % {"short_name": target.short_name}
                }
            )
    now = timezone.now()
    created = [
        Addressee.objects.create(
            submission=item,
            unit=target,
            received_at=now,
            forwarded_from=here,
            forwarded_by=by,
            sort_title=item.title,
            origin_path=item.unit.path,
        )
        for target in targets
    ]
    if receipt.state == Handling.PENDING or receipt.state == Handling.REFERENCE:
        receipt.state = Handling.FORWARDED
    receipt.opened_at = receipt.opened_at or now
    receipt.save(update_fields=["state", "opened_at"])
    _event(
        Action.FORWARD,
        by=by,
        unit=here,
        ip=ip,
        submission=item,
        comment=comment.strip(),
        facts={
            "forwarder": here.code,
            "forwarder_level": here.level,
            "to": [t.code for t in targets],
        },
    )
    notify.send(
        NotificationKind.SUBMITTED,
        _authors(item),
        item,
        gettext("《%(title)s》已由%(short_name)s转报%(targets)s。")
        % {
            "title": item.title,
            "short_name": here.short_name,
            "targets": "、".join(t.short_name for t in targets),
        },
    )
    return created


@transaction.atomic
def return_to_origin(
    *, by: User, item: Submission, comment: str, ip: str | None = None
) -> Submission:
    """退回: back to the origin's authors (the submissions workflow owns the item's status)."""
    receipt = _receipt(by, item)
    _not_claimed_by_other(by, receipt)
    item = submissions_workflow.return_from_upper(by=by, item=item, comment=comment, ip=ip)
    _event(Action.RETURN, by=by, unit=receipt.unit, ip=ip, submission=item, comment=comment.strip())
    return item


# Publications and issues -----------------------------------------------------------------------


@transaction.atomic
def create_publication(
    *,
    by: User | None,
    unit: Unit,
    name: str,
    kind: str,
    masthead: str = "",
    distribution: str = "",
    ip: str | None = None,
) -> Publication:
    if by is not None and not access.can_manage_publications(by, unit):
        raise PermissionDenied(gettext("只有本单位的编辑或单位管理员可以设置刊物。"))
    name = name.strip()
    if kind not in PublicationKind.values:
        raise ValidationError({"kind": gettext("刊物类别无效。")})
    if not name or len(name) > 60:
        raise ValidationError({"name": gettext("请填写刊物名称（不超过 60 字）。")})
    if Publication.objects.filter(unit=unit, name=name).exists():
        raise ValidationError({"name": gettext("本单位已有刊物“%(name)s”。") % {"name": name}})
    publication = Publication.objects.create(
        unit=unit,
        name=name,
        kind=kind,
        masthead=masthead.strip() or unit.name,
        distribution=distribution.strip(),
    )
    record(
        "publication.create", actor=by, role="editor", ip=ip, obj=publication, unit_path=unit.path
    )
    return publication


@transaction.atomic
def update_publication(
    *,
    by: User,
    publication: Publication,
    name: str,
    masthead: str,
    distribution: str,
    is_active: bool,
    ip: str | None = None,
) -> Publication:
    publication = (
        Publication.objects.select_for_update().select_related("unit").get(pk=publication.pk)
    )
    if not access.can_manage_publications(by, publication.unit):
        raise PermissionDenied(gettext("只有本单位的编辑或单位管理员可以设置刊物。"))
    name = name.strip()
    if not name or len(name) > 60:
        raise ValidationError({"name": gettext("请填写刊物名称（不超过 60 字）。")})
    if (
        Publication.objects.filter(unit=publication.unit, name=name)
        .exclude(pk=publication.pk)
        .exists()
    ):
        raise ValidationError({"name": gettext("本单位已有刊物“%(name)s”。") % {"name": name}})
    publication.name, publication.masthead = name, masthead.strip()
    publication.distribution, publication.is_active = distribution.strip(), is_active
    publication.save()
    record(
        "publication.update",
        actor=by,
        role="editor",
        ip=ip,
        obj=publication,
        unit_path=publication.unit.path,
    )
    return publication


def _editor_of(by: User, publication: Publication) -> None:
    if publication.unit_id not in access.editor_unit_ids(by):
        raise PermissionDenied(gettext("只有本单位的编辑可以编辑刊物。"))


@transaction.atomic
def create_issue(
    *, by: User, publication: Publication, issue_date: dt.date, ip: str | None = None
) -> Issue:
    """A new issue numbered on from the year's last (第N期) and the publication's total (总第N期)."""
    publication = (
        Publication.objects.select_for_update().select_related("unit").get(pk=publication.pk)
    )
    _editor_of(by, publication)
    if publication.kind in CHANNEL_KINDS:
        raise ValidationError(gettext("网站、公众号不分期。"))
    year = issue_date.year
    last = (
        Issue.objects.filter(publication=publication, year=year).aggregate(m=Max("number"))["m"]
        or 0
    )
    total = Issue.objects.filter(publication=publication).aggregate(m=Max("total_number"))["m"] or 0
    issue = Issue.objects.create(
        publication=publication,
        year=year,
        number=last + 1,
        total_number=total + 1,
        issue_date=issue_date,
        distribution=publication.distribution,
        created_by=by,
    )
    record(
        "issue.create", actor=by, role="editor", ip=ip, obj=issue, unit_path=publication.unit.path
    )
    return issue


def _draft_issue(by: User, issue: Issue) -> Issue:
    issue = Issue.objects.select_for_update().select_related("publication__unit").get(pk=issue.pk)
    _editor_of(by, issue.publication)
    if issue.status != IssueStatus.DRAFT:
        raise ValidationError(gettext("本期已印发，不能修改；如需更正请先发起更正。"))
    return issue


@transaction.atomic
def update_issue(
    *,
    by: User,
    issue: Issue,
    issue_date: dt.date,
    editor_note: str,
    show_toc: bool,
    distribution: str,
    ip: str | None = None,
) -> Issue:
    issue = _draft_issue(by, issue)
    if issue_date.year != issue.year:
        raise ValidationError({"issue_date": gettext("出刊日期须在本期所属年份内。")})
    issue.issue_date, issue.editor_note = issue_date, editor_note.strip()
    issue.show_toc, issue.distribution = show_toc, distribution.strip()
    issue.save()
    record(
        "issue.update",
        actor=by,
        role="editor",
        ip=ip,
        obj=issue,
        unit_path=issue.publication.unit.path,
        after={"issue_date": issue_date.isoformat(), "show_toc": show_toc},
    )
    return issue


@transaction.atomic
def place_in_issue(
    *, by: User, adoption: Adoption, issue: Issue | None, ip: str | None = None
) -> Adoption:
    """Put an adoption into a draft issue of its publication, or take it out (issue=None)."""
    adoption = _locked(adoption, "publication")
    _editor_of(by, adoption.publication)
    if adoption.issue_id is not None:
        _draft_issue(by, adoption.issue)  # type: ignore[arg-type]
    if issue is not None:
        issue = _draft_issue(by, issue)
        if issue.publication_id != adoption.publication_id:
            raise ValidationError(gettext("只能编入本刊物的期次。"))
        adoption.position = (
            Adoption.objects.filter(issue=issue).aggregate(m=Max("position"))["m"] or 0
        ) + 1
    adoption.issue = issue
    adoption.save(update_fields=["issue", "position"])
    record(
        "adoption.place",
        actor=by,
        role="editor",
        ip=ip,
        obj=adoption,
        unit_path=adoption.publication.unit.path,
        after={"issue": issue.pk if issue else None},
    )
    return adoption


@transaction.atomic
def reorder_issue(
    *, by: User, issue: Issue, adoption_ids: list[int], ip: str | None = None
) -> None:
    """Set the order of the issue's items (drag or up/down buttons send the whole order)."""
    issue = _draft_issue(by, issue)
    current = set(Adoption.objects.filter(issue=issue).values_list("pk", flat=True))
    if set(adoption_ids) != current or len(adoption_ids) != len(current):
        raise ValidationError(gettext("顺序与本期稿件不一致，请刷新后重试。"))
    for position, pk in enumerate(adoption_ids, start=1):
        Adoption.objects.filter(pk=pk).update(position=position)
    record(
        "issue.reorder",
        actor=by,
        role="editor",
        ip=ip,
        obj=issue,
        unit_path=issue.publication.unit.path,
        after={"order": adoption_ids},
    )


@transaction.atomic
def edit_adopted_text(
    *, by: User, adoption: Adoption, title: str, body: str, is_lead: bool, ip: str | None = None
) -> Adoption:
    """Edit the adopted title and text (the source item's own text is never touched)."""
    adoption = _locked(adoption, "unit", "publication__unit", "issue")
    _editor_of(by, adoption.publication)
    if adoption.in_published_issue:
        raise ValidationError(gettext("本期已印发，不能修改；如需更正请先发起更正。"))
    if not title.strip() or len(title) > 200:
        raise ValidationError({"title": gettext("请填写标题（不超过 200 字）。")})
    relead = adoption.is_lead != is_lead
    adoption.title, adoption.body, adoption.is_lead = title.strip(), clean(body), is_lead
    adoption.save(update_fields=["title", "body", "is_lead"])
    record(
        "adoption.edit",
        actor=by,
        role="editor",
        ip=ip,
        obj=adoption,
        unit_path=adoption.publication.unit.path,
        after={"title": adoption.title, "is_lead": is_lead},
    )
    if relead:  # 头条 changes what the adoption is worth
        _adoption_events(Action.RELEAD, by, adoption, ip)
    return adoption


def _adoption_events(
    action: str, by: User, adoption: Adoption, ip: str | None, comment: str = ""
) -> list[AdoptionSource]:
    """One event per source item about an existing adoption, with the facts scoring reads
    (as the adoption's own events carry them); returns the sources."""
    sources = list(adoption.sources.select_related("submission", "origin_unit", "forwarded_by"))
    facts = {**adoption.scoring_facts(), "sources": _source_facts(sources)}
    if comment:
        facts["reason"] = comment
    for source in sources:
        _event(
            action,
            by=by,
            unit=adoption.unit,
            ip=ip,
            submission=source.submission,
            adoption=adoption,
            comment=comment,
            facts=facts,
        )
    return sources


def withdrawal_refused(adoption: Adoption) -> str:
    """Why the adoption cannot be withdrawn now ("" if it can): its issue is published (a
    correction reopens it first), or a leader has instructed on it."""
    if adoption.in_published_issue:
        return gettext("本期已印发，撤销采用请先在本期页面发起更正。")
    if adoption.instructions.exists():
        return gettext("该采用已有领导批示，不能撤销。")
    return ""


@transaction.atomic
def withdraw_adoption(
    *, by: User, adoption: Adoption, reason: str, ip: str | None = None
) -> Adoption:
    """撤销采用: take back an adoption made in error. It leaves its issue, each source item's
    receipt here is pending again (unless another adoption of it here stands), and one event per
    source item lets scoring reverse what the adoption earned. Not once its issue is published
    (a correction reopens it first) nor once a leader has instructed on it."""
    adoption = _locked(adoption, "unit", "publication", "issue")
    _editor_of(by, adoption.publication)
    refusal = withdrawal_refused(adoption)
    if refusal:
        raise ValidationError(refusal)
    reason = reason.strip()
    if not reason or len(reason) > 300:
        raise ValidationError({"reason": gettext("请写明撤销原因（不超过 300 字）。")})
    adoption.withdrawn_at, adoption.withdrawn_by, adoption.withdraw_reason = (
        timezone.now(),
        by,
        reason,
    )
    adoption.issue = None
    adoption.save(update_fields=["withdrawn_at", "withdrawn_by", "withdraw_reason", "issue"])
    sources = _adoption_events(Action.WITHDRAW_ADOPTION, by, adoption, ip, reason)
    items = [s.submission_id for s in sources]
    still = set(
        AdoptionSource.objects.filter(
            submission_id__in=items, adoption__unit=adoption.unit, adoption__withdrawn_at=None
        ).values_list("submission_id", flat=True)
    )
    Addressee.objects.filter(
        unit=adoption.unit, submission_id__in=set(items) - still, state=Handling.ADOPTED
    ).update(state=Handling.PENDING)
    for source in sources:
        notify.send(
            NotificationKind.SUBMITTED,
            _authors(source.submission),
            source.submission,
            gettext("%(short_name)s撤销了对《%(title)s》的采用：%(reason)s")
            % {
                "short_name": adoption.unit.short_name,
                "title": source.submission.title,
                "reason": reason,
            },
        )
    return adoption


def _source_facts(sources: list[AdoptionSource]) -> list[dict[str, Any]]:
    """The sources as an adoption's scoring facts name them."""
    return [
        {
            "item": s.submission_id,
            "origin_unit": s.origin_unit.code,
            "share": s.share,
            "lead_source": s.is_lead_source,
            "forwarded_by": s.forwarded_by.code if s.forwarded_by else None,
        }
        for s in sources
    ]


def issue_snapshot(issue: Issue) -> dict[str, Any]:
    items = list(
        issue.adoptions.order_by("position", "id").prefetch_related("sources__origin_unit")
    )
    return {
        "publication": issue.publication.name,
        "label": issue.label,
        "issue_date": issue.issue_date.isoformat(),
        "editor_note": issue.editor_note,
        "show_toc": issue.show_toc,
        "distribution": issue.distribution,
        "items": [
            {
                "adoption": a.pk,
                "title": a.title,
                "body": a.body,
                "form": a.form,
                "is_lead": a.is_lead,
                "sources": [s.origin_unit.short_name for s in a.sources.all()],
            }
            for a in items
        ],
    }


@transaction.atomic
def publish_issue(*, by: User, issue: Issue, ip: str | None = None) -> Issue:
    """印发: freeze the issue as a revision; its adoptions become part of the record."""
    issue = _draft_issue(by, issue)
    if not issue.adoptions.exists():
        raise ValidationError(gettext("本期还没有稿件。"))
    issue.revision += 1
    reason = issue.correction_reason
    snapshot = issue_snapshot(issue)
    IssueRevision.objects.create(
        issue=issue, revision=issue.revision, reason=reason, snapshot=snapshot, published_by=by
    )
    issue.status, issue.published_at, issue.correction_reason = (
        IssueStatus.PUBLISHED,
        timezone.now(),
        "",
    )
    issue.save()
    action = Action.CORRECT if issue.revision > 1 else Action.PUBLISH
    _event(
        action,
        by=by,
        unit=issue.publication.unit,
        ip=ip,
        issue=issue,
        comment=reason,
        facts={
            "issue": issue.label,
            "revision": issue.revision,
            "adoptions": [i["adoption"] for i in snapshot["items"]],
            "lead": [i["adoption"] for i in snapshot["items"] if i["is_lead"]],
        },
    )
    return issue


@transaction.atomic
def start_correction(*, by: User, issue: Issue, reason: str, ip: str | None = None) -> Issue:
    """Reopen a published issue for a correction; publishing again makes a new revision."""
    issue = Issue.objects.select_for_update().select_related("publication__unit").get(pk=issue.pk)
    _editor_of(by, issue.publication)
    if issue.status != IssueStatus.PUBLISHED:
        raise ValidationError(gettext("本期尚未印发。"))
    if not reason.strip():
        raise ValidationError({"reason": gettext("请写明更正原因。")})
    issue.status, issue.correction_reason = IssueStatus.DRAFT, reason.strip()[:300]
    issue.save(update_fields=["status", "correction_reason"])
    record(
        "issue.correct_start",
        actor=by,
        role="editor",
        ip=ip,
        obj=issue,
        unit_path=issue.publication.unit.path,
        after={"reason": reason.strip()[:300]},
    )
    return issue


# Instructions ----------------------------------------------------------------------------------


@dataclass
class InstructionInput:
    leader_name: str
    leader_position: str
    level: str
    text: str
    instructed_on: dt.date
    is_principal: bool = False


@transaction.atomic
def add_instruction(
    *, by: User, adoption: Adoption, data: InstructionInput, scan: Any = None, ip: str | None = None
) -> Instruction:
    """批示: a leader's instruction on an adoption, shown to the origin unit and authors."""
    adoption = _locked(adoption, "unit", "publication")
    if adoption.unit_id not in access.editor_unit_ids(by):
        raise PermissionDenied(gettext("只有采用单位的编辑可以登记批示。"))
    errors: dict[str, str] = {}
    if not data.leader_name.strip() or len(data.leader_name) > 40:
        errors["leader_name"] = gettext("请填写领导姓名。")
    if not data.leader_position.strip() or len(data.leader_position) > 80:
        errors["leader_position"] = gettext("请填写领导职务。")
    if data.level not in LeaderLevel.values:
        errors["level"] = gettext("请选择批示级别。")
    if not data.text.strip():
        errors["text"] = gettext("请填写批示内容。")
    if data.instructed_on > timezone.localdate():
        errors["instructed_on"] = gettext("批示日期不能晚于今天。")
    if errors:
        raise ValidationError(errors)
    instruction = Instruction(
        adoption=adoption,
        leader_name=data.leader_name.strip(),
        leader_position=data.leader_position.strip(),
        level=data.level,
        is_principal=data.is_principal,
        text=data.text.strip(),
        instructed_on=data.instructed_on,
        created_by=by,
    )
    if scan is not None:
        from baosong.submissions import uploads

        checked = uploads.check(scan)
        if checked.category not in ("image", "pdf"):
            raise ValidationError({"scan": gettext("批示扫描件须为图片或 PDF。")})
        instruction.scan_name, instruction.scan_type = checked.name, checked.content_type
        instruction.scan_storage = uploads.store(checked, scan)
    instruction.save()
    sources = list(adoption.sources.select_related("submission", "origin_unit"))
    facts = {
        **adoption.scoring_facts(),
        "instruction_level": instruction.level,
        "principal": instruction.is_principal,
        "leader": f"{instruction.leader_position}{instruction.leader_name}",
        "sources": [
            {
                "item": s.submission_id,
                "origin_unit": s.origin_unit.code,
                "share": s.share,
                "lead_source": s.is_lead_source,
            }
            for s in sources
        ],
    }
    for source in sources:
        _event(
            Action.INSTRUCT,
            by=by,
            unit=adoption.unit,
            ip=ip,
            submission=source.submission,
            adoption=adoption,
            instruction=instruction,
            facts=facts,
        )
        notify.send(
            NotificationKind.SUBMITTED,
            _authors(source.submission),
            source.submission,
            gettext("《%(title)s》获%(leader_position)s%(leader_name)s批示。")
            % {
                "title": source.submission.title,
                "leader_position": instruction.leader_position,
                "leader_name": instruction.leader_name,
            },
        )
    return instruction
