"""Upper-level handling over JSON: inbox, decisions, publications, issues, instructions, outcomes."""

import datetime as dt
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema, Status
from pydantic import BeforeValidator

from baosong.lib.http import client_ip
from baosong.orgs.api import ERRORS, Input, Paging, _caller, _page
from baosong.orgs.models import Unit
from baosong.publications import access, workflow
from baosong.publications.models import (
    Adoption,
    AdoptionForm,
    Event,
    Issue,
    LeaderLevel,
    PublicationKind,
)
from baosong.publications.workflow import InstructionInput, SourceInput
from baosong.submissions.access import get_submission_for
from baosong.submissions.models import Addressee, Handling, Submission

router = Router(tags=["采用与刊物"])


class ReceiptOut(Schema):
    item_id: int
    title: str
    item_type: str
    kind: str
    origin_unit: str
    unit: str
    state: str
    received_at: dt.datetime | None
    opened: bool
    claimed_by: str | None
    forwarded_from: str | None


class ReceiptPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[ReceiptOut]


class InboxFilter(Paging):
    # `?state=` (empty) lists every state, as the description promises.
    state: Annotated[Handling | None, BeforeValidator(lambda v: v or None)] = Field(
        Handling.PENDING, description="默认待处理；留空为全部"
    )
    q: str = ""


class Comment(Input):
    comment: str = Field("", max_length=2000)


class ForwardIn(Input):
    target_unit_ids: list[int] = Field([], description="默认直接上级")
    comment: str = Field("", max_length=2000)


class SourceIn(Input):
    item_id: int
    share: int = Field(100, ge=1, le=100)
    is_lead_source: bool = False


class AdoptIn(Input):
    publication_id: int
    issue_id: int | None = None
    form: AdoptionForm
    sources: list[SourceIn]
    title: str = Field(max_length=200)
    body: str = ""
    is_lead: bool = False
    published_url: str = Field("", max_length=200)
    published_on: dt.date | None = None


class AdoptionOut(Schema):
    id: int
    unit: str
    unit_level: str
    publication: str
    publication_kind: str
    issue: str | None
    form: str
    is_lead: bool
    title: str
    sources: list[dict[str, Any]]
    published_url: str
    published_on: dt.date | None
    withdrawn_at: dt.datetime | None = None
    withdraw_reason: str = ""


class PublicationIn(Input):
    unit_id: int
    name: str = Field(max_length=60)
    kind: PublicationKind
    masthead: str = Field("", max_length=80)
    distribution: str = ""


class PublicationOut(Schema):
    id: int
    unit: str
    name: str
    kind: str
    is_active: bool


class IssueIn(Input):
    issue_date: dt.date


class IssueOut(Schema):
    id: int
    publication: str
    label: str
    year: int
    number: int
    total_number: int
    issue_date: dt.date
    status: str
    revision: int
    adoptions: list[int]


class OrderIn(Input):
    adoption_ids: list[int]


class PlaceIn(Input):
    issue_id: int | None


class CorrectionIn(Input):
    reason: str = Field(max_length=300)


class InstructionIn(Input):
    leader_name: str = Field(max_length=40)
    leader_position: str = Field(max_length=80)
    level: LeaderLevel
    is_principal: bool = False
    text: str
    instructed_on: dt.date


class InstructionOut(Schema):
    id: int
    adoption_id: int
    leader_name: str
    leader_position: str
    level: str
    is_principal: bool
    text: str
    instructed_on: dt.date


class OutcomeOut(Schema):
    action: str
    action_label: str
    at: dt.datetime
    unit: str
    comment: str
    facts: dict[str, Any]


def _receipt_out(r: Addressee) -> ReceiptOut:
    s = r.submission
    return ReceiptOut(
        item_id=s.pk,
        title=s.title,
        item_type=s.item_type,
        kind=s.kind,
        origin_unit=s.unit.short_name,
        unit=r.unit.short_name,
        state=r.state,
        received_at=r.received_at,
        opened=r.opened_at is not None,
        claimed_by=r.claimed_by.real_name if r.claimed_by else None,
        forwarded_from=r.forwarded_from.short_name if r.forwarded_from else None,
    )


def _adoption_out(a: Adoption) -> AdoptionOut:
    return AdoptionOut(
        id=a.pk,
        unit=a.unit.short_name,
        unit_level=a.unit_level,
        publication=a.publication.name,
        publication_kind=a.publication_kind,
        issue=a.issue.label if a.issue else None,
        form=a.form,
        is_lead=a.is_lead,
        title=a.title,
        published_url=a.published_url,
        published_on=a.published_on,
        withdrawn_at=a.withdrawn_at,
        withdraw_reason=a.withdraw_reason,
        sources=[
            {
                "item_id": s.submission_id,
                "origin_unit": s.origin_unit.short_name,
                "share": s.share,
                "is_lead_source": s.is_lead_source,
                "forwarded_by": s.forwarded_by.short_name if s.forwarded_by else None,
            }
            for s in a.sources.select_related("origin_unit", "forwarded_by")
        ],
    )


def _issue_out(i: Issue) -> IssueOut:
    return IssueOut(
        id=i.pk,
        publication=i.publication.name,
        label=i.label,
        year=i.year,
        number=i.number,
        total_number=i.total_number,
        issue_date=i.issue_date,
        status=i.status,
        revision=i.revision,
        adoptions=list(i.adoptions.order_by("position", "id").values_list("pk", flat=True)),
    )


def _item(request: HttpRequest, item_id: int) -> Submission:
    receipt = access.get_receipt_for(_caller(request), item_id)
    return receipt.submission


@router.get("/inbox", response={200: ReceiptPage, **ERRORS}, summary="收件箱")
def inbox(request: HttpRequest, filters: Query[InboxFilter]) -> ReceiptPage:
    rows = access.receipts_of(_caller(request)).select_related(
        "submission__unit", "unit", "claimed_by", "forwarded_from"
    )
    if filters.state:
        rows = rows.filter(state=filters.state)
    if filters.q.strip():
        rows = rows.filter(submission__title__icontains=filters.q.strip())
    count, page = _page(rows.order_by("-received_at", "-id"), filters)
    return ReceiptPage(
        count=count,
        page=filters.page,
        page_size=filters.page_size,
        items=[_receipt_out(r) for r in page],
    )


@router.post("/inbox/{item_id}/claim", response={200: ReceiptOut, **ERRORS}, summary="认领")
def claim(request: HttpRequest, item_id: int) -> ReceiptOut:
    return _receipt_out(
        workflow.claim(by=_caller(request), item=_item(request, item_id), ip=client_ip(request))
    )


@router.post("/inbox/{item_id}/release", response={200: ReceiptOut, **ERRORS}, summary="放弃认领")
def release(request: HttpRequest, item_id: int) -> ReceiptOut:
    return _receipt_out(
        workflow.release(by=_caller(request), item=_item(request, item_id), ip=client_ip(request))
    )


@router.post("/inbox/{item_id}/reference", response={200: ReceiptOut, **ERRORS}, summary="仅供参考")
def reference(request: HttpRequest, item_id: int, payload: Comment) -> ReceiptOut:
    receipt = workflow.keep_for_reference(
        by=_caller(request),
        item=_item(request, item_id),
        comment=payload.comment,
        ip=client_ip(request),
    )
    return _receipt_out(receipt)


@router.post("/inbox/{item_id}/forward", response={200: list[ReceiptOut], **ERRORS}, summary="转报")
def forward(request: HttpRequest, item_id: int, payload: ForwardIn) -> list[ReceiptOut]:
    targets = list(Unit.objects.filter(pk__in=payload.target_unit_ids))
    if len(targets) != len(set(payload.target_unit_ids)):
        raise ValidationError({"targets": gettext("转报单位不存在。")})
    created = workflow.forward(
        by=_caller(request),
        item=_item(request, item_id),
        targets=targets or None,
        comment=payload.comment,
        ip=client_ip(request),
    )
    return [
        _receipt_out(
            Addressee.objects.select_related(
                "submission__unit", "unit", "claimed_by", "forwarded_from"
            ).get(pk=r.pk)
        )
        for r in created
    ]


@router.post(
    "/inbox/{item_id}/return",
    response={200: dict[str, str], **ERRORS},
    summary="退回报送单位",
)
def return_item(request: HttpRequest, item_id: int, payload: Comment) -> dict[str, str]:
    item = workflow.return_to_origin(
        by=_caller(request),
        item=_item(request, item_id),
        comment=payload.comment,
        ip=client_ip(request),
    )
    return {"status": item.status}


@router.post("/adoptions", response={201: AdoptionOut, **ERRORS}, summary="采用")
def adopt(request: HttpRequest, payload: AdoptIn) -> Status[AdoptionOut]:
    user = _caller(request)
    publication = access.get_publication_for(user, payload.publication_id)
    issue = access.get_issue_for(user, payload.issue_id) if payload.issue_id else None
    sources = [
        SourceInput(item=_item(request, s.item_id), share=s.share, is_lead_source=s.is_lead_source)
        for s in payload.sources
    ]
    adoption = workflow.adopt(
        by=user,
        sources=sources,
        publication=publication,
        form=payload.form,
        title=payload.title,
        body=payload.body,
        is_lead=payload.is_lead,
        issue=issue,
        published_url=payload.published_url,
        published_on=payload.published_on,
        ip=client_ip(request),
    )
    return Status(201, _adoption_out(adoption))


@router.get("/adoptions/{adoption_id}", response={200: AdoptionOut, **ERRORS}, summary="采用详情")
def get_adoption(request: HttpRequest, adoption_id: int) -> AdoptionOut:
    return _adoption_out(access.get_adoption_for(_caller(request), adoption_id))


class AdoptionPatch(Input):
    title: str | None = Field(None, max_length=200)
    body: str | None = None
    is_lead: bool | None = Field(None, description="头条；改变后按计分办法调整该采用的得分")


@router.patch(
    "/adoptions/{adoption_id}",
    response={200: AdoptionOut, **ERRORS},
    summary="修改采用稿（标题、正文、头条）",
    description="只有采用单位的编辑可以修改；所在期次已印发时须先发起更正。来源稿件的原文不变。",
)
def edit_adoption(request: HttpRequest, adoption_id: int, payload: AdoptionPatch) -> AdoptionOut:
    user = _caller(request)
    adoption = access.get_adoption_for(user, adoption_id, need="edit")
    return _adoption_out(
        workflow.edit_adopted_text(
            by=user,
            adoption=adoption,
            title=adoption.title if payload.title is None else payload.title,
            body=adoption.body if payload.body is None else payload.body,
            is_lead=adoption.is_lead if payload.is_lead is None else payload.is_lead,
            ip=client_ip(request),
        )
    )


class WithdrawIn(Input):
    reason: str = Field(max_length=300)


@router.post(
    "/adoptions/{adoption_id}/withdraw",
    response={200: AdoptionOut, **ERRORS},
    summary="撤销采用",
    description="只有采用单位的编辑可以撤销；所在期次已印发（须先发起更正）或已有批示时不能撤销。"
    "撤销后按计分办法冲减已计分数。",
)
def withdraw(request: HttpRequest, adoption_id: int, payload: WithdrawIn) -> AdoptionOut:
    user = _caller(request)
    adoption = access.get_adoption_for(user, adoption_id, need="edit")
    return _adoption_out(
        workflow.withdraw_adoption(
            by=user, adoption=adoption, reason=payload.reason, ip=client_ip(request)
        ),
    )


@router.post(
    "/adoptions/{adoption_id}/place",
    response={200: AdoptionOut, **ERRORS},
    summary="编入或移出期次",
)
def place(request: HttpRequest, adoption_id: int, payload: PlaceIn) -> AdoptionOut:
    user = _caller(request)
    adoption = access.get_adoption_for(user, adoption_id, need="edit")
    issue = access.get_issue_for(user, payload.issue_id) if payload.issue_id else None
    return _adoption_out(
        workflow.place_in_issue(by=user, adoption=adoption, issue=issue, ip=client_ip(request))
    )


@router.post(
    "/adoptions/{adoption_id}/instructions",
    response={201: InstructionOut, **ERRORS},
    summary="登记批示",
)
def instruct(
    request: HttpRequest, adoption_id: int, payload: InstructionIn
) -> Status[InstructionOut]:
    user = _caller(request)
    adoption = access.get_adoption_for(user, adoption_id, need="edit")
    instruction = workflow.add_instruction(
        by=user,
        adoption=adoption,
        ip=client_ip(request),
        data=InstructionInput(
            leader_name=payload.leader_name,
            leader_position=payload.leader_position,
            level=payload.level,
            text=payload.text,
            instructed_on=payload.instructed_on,
            is_principal=payload.is_principal,
        ),
    )
    return Status(
        201,
        InstructionOut(
            id=instruction.pk,
            adoption_id=adoption.pk,
            leader_name=instruction.leader_name,
            leader_position=instruction.leader_position,
            level=instruction.level,
            is_principal=instruction.is_principal,
            text=instruction.text,
            instructed_on=instruction.instructed_on,
        ),
    )


@router.get("/publications", response={200: list[PublicationOut], **ERRORS}, summary="刊物列表")
def publications(request: HttpRequest) -> list[PublicationOut]:
    rows = access.publications_for(_caller(request)).select_related("unit")
    return [
        PublicationOut(
            id=p.pk, unit=p.unit.short_name, name=p.name, kind=p.kind, is_active=p.is_active
        )
        for p in rows
    ]


@router.post("/publications", response={201: PublicationOut, **ERRORS}, summary="新建刊物")
def create_publication(request: HttpRequest, payload: PublicationIn) -> Status[PublicationOut]:
    user = _caller(request)
    from baosong.orgs.access import get_unit_for

    unit = get_unit_for(user, payload.unit_id)
    p = workflow.create_publication(
        by=user,
        unit=unit,
        name=payload.name,
        kind=payload.kind,
        masthead=payload.masthead,
        distribution=payload.distribution,
        ip=client_ip(request),
    )
    return Status(
        201,
        PublicationOut(
            id=p.pk, unit=unit.short_name, name=p.name, kind=p.kind, is_active=p.is_active
        ),
    )


@router.get(
    "/publications/{publication_id}/issues",
    response={200: list[IssueOut], **ERRORS},
    summary="期次列表",
)
def issues(request: HttpRequest, publication_id: int) -> list[IssueOut]:
    publication = access.get_publication_for(_caller(request), publication_id)
    return [_issue_out(i) for i in publication.issues.select_related("publication")]


@router.post(
    "/publications/{publication_id}/issues",
    response={201: IssueOut, **ERRORS},
    summary="新建一期",
)
def create_issue(request: HttpRequest, publication_id: int, payload: IssueIn) -> Status[IssueOut]:
    user = _caller(request)
    publication = access.get_publication_for(user, publication_id)
    issue = workflow.create_issue(
        by=user, publication=publication, issue_date=payload.issue_date, ip=client_ip(request)
    )
    return Status(201, _issue_out(issue))


@router.get("/issues/{issue_id}", response={200: IssueOut, **ERRORS}, summary="期次详情")
def get_issue(request: HttpRequest, issue_id: int) -> IssueOut:
    return _issue_out(access.get_issue_for(_caller(request), issue_id))


@router.post("/issues/{issue_id}/order", response={200: IssueOut, **ERRORS}, summary="调整顺序")
def order(request: HttpRequest, issue_id: int, payload: OrderIn) -> IssueOut:
    user = _caller(request)
    issue = access.get_issue_for(user, issue_id)
    workflow.reorder_issue(
        by=user, issue=issue, adoption_ids=payload.adoption_ids, ip=client_ip(request)
    )
    return _issue_out(issue)


@router.post("/issues/{issue_id}/publish", response={200: IssueOut, **ERRORS}, summary="印发")
def publish(request: HttpRequest, issue_id: int) -> IssueOut:
    user = _caller(request)
    issue = workflow.publish_issue(
        by=user, issue=access.get_issue_for(user, issue_id), ip=client_ip(request)
    )
    return _issue_out(issue)


@router.post("/issues/{issue_id}/correct", response={200: IssueOut, **ERRORS}, summary="发起更正")
def correct(request: HttpRequest, issue_id: int, payload: CorrectionIn) -> IssueOut:
    user = _caller(request)
    issue = workflow.start_correction(
        by=user,
        issue=access.get_issue_for(user, issue_id),
        reason=payload.reason,
        ip=client_ip(request),
    )
    return _issue_out(issue)


@router.get(
    "/items/{item_id}/outcomes",
    response={200: list[OutcomeOut], **ERRORS},
    summary="采用反馈",
)
def outcomes(request: HttpRequest, item_id: int) -> list[OutcomeOut]:
    user = _caller(request)
    item = access.outcome_items(user).filter(pk=item_id).first()
    if item is None:
        item = get_submission_for(user, item_id)
    rows = (
        Event.objects.filter(submission=item)
        .exclude(action__in=["claim", "release"])
        .select_related("unit")
    )
    return [
        OutcomeOut(
            action=e.action,
            action_label=str(e.get_action_display()),
            at=e.at,
            unit=e.unit.short_name,
            comment=e.comment,
            facts=e.facts,
        )
        for e in rows
    ]
