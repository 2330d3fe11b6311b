"""Items over JSON: the same access and workflow code as the pages."""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils.translation import gettext
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile

from baosong.lib.http import client_ip
from baosong.orgs.api import ERRORS, Input, Paging, _caller, _page
from baosong.orgs.models import Membership, Unit, User
from baosong.submissions import access, diff, selectors, workflow
from baosong.submissions.models import (
    Attachment,
    Event,
    ItemType,
    Kind,
    Submission,
    Version,
)
from baosong.submissions.models import (
    Status as ItemStatus,
)
from baosong.submissions.sanitize import plain_text
from baosong.submissions.workflow import DraftInput

router = Router(tags=["稿件"])


class AuthorIn(Input):
    user_id: int
    share: int = Field(ge=1, le=100)


class AuthorOut(Schema):
    user_id: int
    real_name: str
    share: int


class UnitRefOut(Schema):
    id: int
    code: str
    short_name: str


class ItemOut(Schema):
    id: int
    unit: UnitRefOut
    item_type: str
    kind: str
    title: str
    status: str
    status_label: str
    stage: str | None
    version: int
    authors: list[AuthorOut]
    updated_at: dt.datetime
    submitted_at: dt.datetime | None


class ItemDetail(ItemOut):
    body: str
    event_date: dt.date | None
    keywords: str
    addressed: list[UnitRefOut]
    stages: list[str]
    can_edit: bool
    can_decide: bool


class ItemPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[ItemOut]


class ItemFilter(Paging):
    box: str = Field(
        "mine", description="mine 我的稿件 / review 待我审核 / incoming 收件箱 / visible 可见的全部"
    )
    status: ItemStatus | None = None
    item_type: ItemType | None = None
    kind: Kind | None = None
    q: str = Field("", description="标题包含")


class ItemCreate(Input):
    unit_id: int | None = Field(
        None, description="以哪个单位的名义撰写；默认本人任信息员/通讯员的第一个单位"
    )
    item_type: ItemType
    kind: Kind | None = None
    title: str = Field(max_length=200)
    body: str = ""
    event_date: dt.date | None = None
    keywords: str = Field("", max_length=200)
    own_share: int = Field(100, ge=1, le=100)
    coauthors: list[AuthorIn] = []
    addressed_unit_ids: list[int] = Field([], description="报送的上级单位；默认直接上级")


class ItemPatch(Input):
    base_version: int | None = Field(None, description="修改标题或正文时必填：所依据的版本号")
    title: str | None = Field(None, max_length=200)
    body: str | None = None
    item_type: ItemType | None = None
    kind: Kind | None = None
    event_date: dt.date | None = None
    keywords: str | None = Field(None, max_length=200)
    own_share: int | None = Field(None, ge=1, le=100)
    coauthors: list[AuthorIn] | None = None
    addressed_unit_ids: list[int] | None = None


class SaveOut(Schema):
    item: ItemDetail
    conflict: bool
    kept_as_version: int | None


class Decision(Input):
    comment: str = Field("", max_length=2000)
    anchor: str = Field("", max_length=300)


class VersionOut(Schema):
    number: int
    title: str
    source: str
    based_on: int | None
    created_by: str
    created_at: dt.datetime


class VersionDetail(VersionOut):
    body: str


class EventOut(Schema):
    action: str
    action_label: str
    at: dt.datetime
    by: str
    stage: str
    comment: str
    anchor: str
    version: int | None


class DiffOut(Schema):
    a: int
    b: int
    title: list[dict[str, Any]]
    body: list[dict[str, Any]]


class AttachmentOut(Schema):
    id: int
    name: str
    category: str
    content_type: str
    size: int
    url: str


def _ref(unit: Unit) -> UnitRefOut:
    return UnitRefOut(id=unit.pk, code=unit.code, short_name=unit.short_name)


def _out(item: Submission) -> dict[str, Any]:
    return {
        "id": item.pk,
        "unit": _ref(item.unit),
        "item_type": item.item_type,
        "kind": item.kind,
        "title": item.title,
        "status": item.status,
        "status_label": str(item.get_status_display()),
        "stage": (item.stage or {}).get("name"),
        "version": item.version_number,
        "authors": [
            AuthorOut(user_id=a.user_id, real_name=a.user.real_name, share=a.share)
            for a in item.authors.all()
        ],
        "updated_at": item.updated_at,
        "submitted_at": item.submitted_at,
    }


def _detail(user: User, item: Submission) -> ItemDetail:
    item = (
        Submission.objects.select_related("unit").prefetch_related("authors__user").get(pk=item.pk)
    )
    return ItemDetail(
        **_out(item),
        body=item.body,
        event_date=item.event_date,
        keywords=item.keywords,
        addressed=[_ref(a.unit) for a in item.addressees.select_related("unit")],
        stages=[s["name"] for s in item.stage_plan],
        can_edit=access.edit_role(user, item) is not None,
        can_decide=access.acts_on_current_stage(user, item) is not None,
    )


def _units(ids: list[int]) -> list[Unit]:
    units = list(Unit.objects.filter(pk__in=ids))
    if len(units) != len(set(ids)):
        raise ValidationError({"addressed": gettext("报送单位不存在。")})
    return units


def _coauthors(rows: list[AuthorIn], unit: Unit) -> list[tuple[User, int]]:
    # Only the unit's people are looked up, so a guessed id never reveals who it belongs to.
    colleagues = Membership.objects.current().filter(unit=unit).values("user_id")
    found = User.objects.filter(pk__in=[r.user_id for r in rows], is_active=True)
    people = {u.pk: u for u in found.filter(pk__in=colleagues)}
    if len(people) != len({r.user_id for r in rows}):
        raise ValidationError({"coauthors": gettext("合作者须为本单位在任人员。")})
    return [(people[r.user_id], r.share) for r in rows]


@router.get("/items", response={200: ItemPage, **ERRORS}, summary="稿件列表")
def list_items(request: HttpRequest, filters: Query[ItemFilter]) -> ItemPage:
    user = _caller(request)
    boxes = {
        "mine": selectors.my_items,
        "review": selectors.review_queue,
        "incoming": selectors.incoming,
        "visible": access.visible_submissions,
    }
    if filters.box not in boxes:
        raise ValidationError({"box": gettext("box 应为 mine、review、incoming 或 visible。")})
    items = boxes[filters.box](user)
    if filters.status:
        items = items.filter(status=filters.status)
    if filters.item_type:
        items = items.filter(item_type=filters.item_type)
    if filters.kind:
        items = items.filter(kind=filters.kind)
    if filters.q.strip():
        items = items.filter(title__icontains=filters.q.strip())
    count, rows = _page(selectors.for_list(items).order_by("-updated_at", "-id"), filters)
    return ItemPage(
        count=count,
        page=filters.page,
        page_size=filters.page_size,
        items=[ItemOut(**_out(item)) for item in rows],
    )


@router.post("/items", response={201: ItemDetail, **ERRORS}, summary="新建草稿")
def create_item(request: HttpRequest, payload: ItemCreate) -> Status[ItemDetail]:
    user = _caller(request)
    writable = access.can_write_for(user)
    if payload.unit_id is None and not writable:
        raise PermissionDenied(gettext("您不是任何单位的信息员或通讯员。"))
    unit_id = payload.unit_id if payload.unit_id is not None else writable[0]
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise Http404("unit")
    if unit.pk not in writable:
        raise PermissionDenied(gettext("您不是该单位的信息员或通讯员。"))
    data = DraftInput(
        item_type=payload.item_type,
        kind=payload.kind or "",
        title=payload.title,
        body=payload.body,
        event_date=payload.event_date,
        keywords=payload.keywords,
        own_share=payload.own_share,
        coauthors=_coauthors(payload.coauthors, unit),
        addressed=_units(payload.addressed_unit_ids),
    )
    item = workflow.create_draft(by=user, unit=unit, data=data, ip=client_ip(request))
    return Status(201, _detail(user, item))


@router.get("/items/{item_id}", response={200: ItemDetail, **ERRORS}, summary="稿件详情")
def get_item(request: HttpRequest, item_id: int) -> ItemDetail:
    """An editor of an addressed unit reading a submitted item opens it, as on the page."""
    user = _caller(request)
    item = access.get_submission_for(user, item_id)
    if item.status == ItemStatus.SUBMITTED and not access.is_author(user, item):
        workflow.mark_opened(by=user, item=item, ip=client_ip(request))
    return _detail(user, item)


@router.patch(
    "/items/{item_id}", response={200: SaveOut, 409: SaveOut, **ERRORS}, summary="修改稿件"
)
def patch_item(request: HttpRequest, item_id: int, payload: ItemPatch) -> Status[SaveOut]:
    """Title and body need base_version (a stale one keeps your text as a conflict version, 409)."""
    user = _caller(request)
    item = access.get_submission_for(user, item_id, need="edit")
    ip = client_ip(request)
    conflict, kept = False, None
    with transaction.atomic():
        if payload.title is not None or payload.body is not None:
            if payload.base_version is None:
                raise ValidationError(
                    {"base_version": gettext("修改标题或正文须提供 base_version。")}
                )
            result = workflow.save_content(
                by=user,
                item=item,
                base_version=payload.base_version,
                title=payload.title if payload.title is not None else item.title,
                body=payload.body if payload.body is not None else item.body,
                ip=ip,
            )
            conflict = result.conflict
            kept = result.version.number if conflict and result.version else None
        details = payload.model_dump(exclude_unset=True).keys() - {"base_version", "title", "body"}
        if details and not conflict:
            item.refresh_from_db()
            current = list(item.authors.select_related("user"))
            item_type = payload.item_type or item.item_type
            # Only info reports have a kind: changing the type drops the stored one, as the page does.
            kept_kind = item.kind if item_type == ItemType.INFO else ""
            data = DraftInput(
                item_type=item_type,
                kind=payload.kind if payload.kind is not None else kept_kind,
                title=item.title,
                event_date=payload.event_date if "event_date" in details else item.event_date,
                keywords=payload.keywords if payload.keywords is not None else item.keywords,
                own_share=payload.own_share if payload.own_share is not None else current[0].share,
                coauthors=_coauthors(payload.coauthors, item.unit)
                if payload.coauthors is not None
                else [(a.user, a.share) for a in current[1:]],
                addressed=_units(payload.addressed_unit_ids)
                if payload.addressed_unit_ids is not None
                else None,
            )
            workflow.update_details(by=user, item=item, data=data, ip=ip)
    out = SaveOut(item=_detail(user, item), conflict=conflict, kept_as_version=kept)
    return Status(409 if conflict else 200, out)


def _transition(
    request: HttpRequest, item_id: int, verb: str, payload: Decision | None
) -> ItemDetail:
    user = _caller(request)
    item = access.get_submission_for(user, item_id)
    ip = client_ip(request)
    comment = payload.comment if payload else ""
    if verb == "submit-for-review":
        workflow.submit_for_review(by=user, item=item, ip=ip)
    elif verb == "approve":
        workflow.approve(by=user, item=item, comment=comment, ip=ip)
    elif verb == "return":
        workflow.return_to_authors(
            by=user, item=item, comment=comment, anchor=payload.anchor if payload else "", ip=ip
        )
    elif verb == "reject":
        workflow.reject(by=user, item=item, reason=comment, ip=ip)
    else:
        workflow.withdraw(by=user, item=item, ip=ip)
    return _detail(user, item)


@router.post(
    "/items/{item_id}/submit-for-review",
    response={200: ItemDetail, **ERRORS},
    summary="提交审核",
)
def submit_item(request: HttpRequest, item_id: int) -> ItemDetail:
    return _transition(request, item_id, "submit-for-review", None)


@router.post("/items/{item_id}/approve", response={200: ItemDetail, **ERRORS}, summary="审核通过")
def approve_item(request: HttpRequest, item_id: int, payload: Decision) -> ItemDetail:
    return _transition(request, item_id, "approve", payload)


@router.post("/items/{item_id}/return", response={200: ItemDetail, **ERRORS}, summary="退回修改")
def return_item(request: HttpRequest, item_id: int, payload: Decision) -> ItemDetail:
    return _transition(request, item_id, "return", payload)


@router.post("/items/{item_id}/reject", response={200: ItemDetail, **ERRORS}, summary="不予通过")
def reject_item(request: HttpRequest, item_id: int, payload: Decision) -> ItemDetail:
    return _transition(request, item_id, "reject", payload)


@router.post("/items/{item_id}/withdraw", response={200: ItemDetail, **ERRORS}, summary="撤回")
def withdraw_item(request: HttpRequest, item_id: int) -> ItemDetail:
    return _transition(request, item_id, "withdraw", None)


@router.get("/items/{item_id}/events", response={200: list[EventOut], **ERRORS}, summary="办理记录")
def item_events(request: HttpRequest, item_id: int) -> list[EventOut]:
    item = access.get_submission_for(_caller(request), item_id)
    return [
        EventOut(
            action=e.action,
            action_label=str(e.get_action_display()),
            at=e.at,
            by=e.by.real_name,
            stage=e.stage_name,
            comment=e.comment,
            anchor=e.anchor,
            version=e.version_number,
        )
        for e in Event.objects.filter(submission=item).select_related("by")
    ]


def _version_out(v: Version) -> dict[str, Any]:
    return {
        "number": v.number,
        "title": v.title,
        "source": v.source,
        "based_on": v.based_on,
        "created_by": v.created_by.real_name,
        "created_at": v.created_at,
    }


@router.get(
    "/items/{item_id}/versions",
    response={200: list[VersionOut], **ERRORS},
    summary="版本列表",
)
def item_versions(request: HttpRequest, item_id: int) -> list[VersionOut]:
    item = access.get_submission_for(_caller(request), item_id)
    return [VersionOut(**_version_out(v)) for v in item.versions.select_related("created_by")]


@router.get(
    "/items/{item_id}/versions/{number}",
    response={200: VersionDetail, **ERRORS},
    summary="某一版本",
)
def item_version(request: HttpRequest, item_id: int, number: int) -> VersionDetail:
    item = access.get_submission_for(_caller(request), item_id)
    version = item.versions.select_related("created_by").filter(number=number).first()
    if version is None:
        raise Http404("version")
    return VersionDetail(**_version_out(version), body=version.body)


@router.get("/items/{item_id}/diff", response={200: DiffOut, **ERRORS}, summary="比较两个版本")
def item_diff(request: HttpRequest, item_id: int, a: int, b: int) -> DiffOut:
    item = access.get_submission_for(_caller(request), item_id)
    versions = {v.number: v for v in item.versions.filter(number__in=[a, b])}
    if a not in versions or b not in versions:
        raise Http404("version")
    return DiffOut(
        a=a,
        b=b,
        title=diff.as_json(diff.compare(versions[a].title, versions[b].title)),
        body=diff.as_json(diff.compare(plain_text(versions[a].body), plain_text(versions[b].body))),
    )


def _attachment_out(item: Submission, a: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=a.pk,
        name=a.original_name,
        category=a.category,
        content_type=a.content_type,
        size=a.size,
        url=f"/items/{item.pk}/attachments/{a.pk}/",
    )


@router.get(
    "/items/{item_id}/attachments",
    response={200: list[AttachmentOut], **ERRORS},
    summary="附件列表",
)
def item_attachments(request: HttpRequest, item_id: int) -> list[AttachmentOut]:
    item = access.get_submission_for(_caller(request), item_id)
    return [_attachment_out(item, a) for a in item.attachments.filter(removed_at__isnull=True)]


@router.post(
    "/items/{item_id}/attachments",
    response={201: AttachmentOut, **ERRORS},
    summary="上传附件",
)
def upload_attachment(
    request: HttpRequest, item_id: int, file: File[UploadedFile]
) -> Status[AttachmentOut]:
    user = _caller(request)
    item = access.get_submission_for(user, item_id, need="edit")
    attachment = workflow.add_attachment(by=user, item=item, upload=file, ip=client_ip(request))
    return Status(201, _attachment_out(item, attachment))
