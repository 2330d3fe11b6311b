"""Scoring over JSON: schemes and versions, rankings, drill-down, what-if, circulars, decisions.

As thin as the views: every read goes through scoring/access.py, every write through
scoring/workflow.py. Points are decimals sent as strings ("12.50") so no figure is rounded twice.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema, Status

from baosong.lib.http import attachment, client_ip
from baosong.orgs.access import get_unit_for
from baosong.orgs.api import ERRORS, Input, Paging, _caller, _page
from baosong.orgs.models import Unit, User
from baosong.scoring import access, engine, ledger, rankings, whatif, workflow
from baosong.scoring.models import (
    AssessmentEvent,
    Circular,
    Decision,
    Grain,
    LedgerEntry,
    Recompute,
    Scheme,
    SchemeVersion,
    VersionStatus,
)
from baosong.submissions.models import Submission

router = Router(tags=["计分与排名"])

API = "/api/v1"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# Schemas -----------------------------------------------------------------------------------------


class UnitBrief(Schema):
    id: int
    code: str
    short_name: str


class VersionOut(Schema):
    id: int
    number: int
    code: str
    status: str
    status_label: str
    effective_from: dt.date | None
    effective_to: dt.date | None
    note: str
    frozen: bool = Field(description="已产生计分，不能再改")
    created_at: dt.datetime
    adopted_at: dt.datetime | None


class RecomputeOut(Schema):
    id: int
    version_id: int
    version_number: int
    reason: str
    start: dt.datetime = Field(description="重放自该时刻起的事件")
    end: dt.datetime = Field(description="……至该时刻（后台重算开始时定）")
    status: str = Field(description="queued / running / done / failed")
    status_label: str
    interrupted: bool = Field(description="处理进程已退出，可重新开始")
    background: bool
    requested_by: str
    requested_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    facts: int = Field(description="重放的事件数")
    corrected: int = Field(description="更正的台账记录数")
    error: str


class VersionDetail(VersionOut):
    scheme_id: int
    label: str
    data: dict[str, Any] = Field(description="计分规则（见 docs/scoring.md）")
    recompute: RecomputeOut | None = Field(
        None, description="该版本最近一次重算（启用生效日期在过去的版本时发起）"
    )


class SchemeOut(Schema):
    id: int
    name: str
    unit: UnitBrief
    tie_break: list[str]
    current_version: int | None = Field(description="今天生效的版本号")
    draft_version_id: int | None
    can_manage: bool
    created_at: dt.datetime


class SchemeDetail(SchemeOut):
    versions: list[VersionOut]


class SchemeIn(Input):
    unit_id: int
    name: str = Field(max_length=120)
    data: dict[str, Any] | None = Field(None, description="计分规则；不填则用示例规则")


class DraftIn(Input):
    data: dict[str, Any]
    note: str = Field("", max_length=300)


class NewVersionIn(Input):
    base_version_id: int | None = Field(None, description="复制自该版本；默认最新版本")


class AdoptIn(Input):
    effective_from: dt.date


class PeriodQuery(Schema):
    grain: Grain = Field(Grain.MONTH, description="month quarter year custom")
    key: str = Field("", description="2026-03、2026-Q1、2026；默认当前期间")
    start: str = Field("", description="自定义期间的开始日期（含）")
    end: str = Field("", description="自定义期间的结束日期（含）")


class RankingQuery(PeriodQuery):
    parent: int | None = Field(None, description="对其直接下级单位排名；默认计分办法所属单位")
    people: bool = Field(False, description="按人员排名")


class EntryQuery(PeriodQuery, Paging):
    people: bool = Field(False, description="作者份额明细（而非单位明细）")


class PeriodOut(Schema):
    grain: str
    key: str
    start: dt.datetime
    end: dt.datetime


class RankRow(Schema):
    rank: int
    previous_rank: int | None
    change: int | None = Field(description="正数为上升名次")
    unit_id: int | None
    person_id: int | None
    name: str
    points: Decimal
    submitted: int
    adopted: int
    adoption_rate: Decimal | None = Field(description="采用率（%），无报送时为空")
    lead_items: int
    instructions: int
    kinds: dict[str, int]
    quota: str
    quota_missed: bool
    entries_url: str | None


class RankingOut(Schema):
    scheme_id: int
    parent: UnitBrief
    period: PeriodOut
    versions: list[str]
    rows: list[RankRow]


class CategoryOut(Schema):
    category: str
    points: Decimal
    entries: int


class EntryOut(Schema):
    id: int
    event_key: str
    item_id: int | None
    item_title: str | None
    item_url: str | None
    unit_id: int
    unit: str
    person_id: int | None
    person: str | None
    points: Decimal
    category: str
    rule: str
    ref: str
    lead: bool
    at: dt.datetime
    version: str


class EntryPage(Schema):
    count: int
    page: int
    page_size: int
    unit: UnitBrief
    period: PeriodOut
    points: Decimal = Field(description="期间内全部明细之和（不只本页）")
    by_category: list[CategoryOut]
    items: list[EntryOut]


class WhatIfIn(Input):
    version_id: int
    parent_id: int | None = None
    grain: Grain = Grain.MONTH
    key: str = ""
    start: str = ""
    end: str = ""


class WhatIfRow(Schema):
    unit_id: int
    name: str
    current_rank: int
    current_points: Decimal
    rank: int
    points: Decimal
    submitted: int
    adopted: int
    change: int = Field(description="按试算版本比现在上升的名次")


class WhatIfOut(Schema):
    scheme_id: int
    version: VersionOut
    parent: UnitBrief
    period: PeriodOut
    rows: list[WhatIfRow]


class CircularIn(Input):
    parent_id: int | None = None
    grain: Grain = Grain.MONTH
    key: str = ""
    start: str = ""
    end: str = ""


class CircularOut(Schema):
    id: int
    scheme_id: int
    unit: UnitBrief
    title: str
    grain: str
    period_key: str
    period_start: dt.datetime
    period_end: dt.datetime
    versions: list[str]
    summary: dict[str, Any]
    created_at: dt.datetime
    docx_url: str
    xlsx_url: str


class DecisionIn(Input):
    action: Decision
    target_id: int | None = Field(None, description="扣分：被扣分的单位")
    item_id: int | None = Field(None, description="认定抄袭或虚假：稿件")
    points: Decimal = Field(Decimal(0), description="扣分分值")
    reason: str = Field(max_length=300)


class DecisionOut(Schema):
    id: int
    action: str
    action_label: str
    target: UnitBrief
    item_id: int | None
    points: Decimal
    reason: str
    at: dt.datetime


# Helpers -----------------------------------------------------------------------------------------


def _brief(unit: Unit) -> UnitBrief:
    return UnitBrief(id=unit.pk, code=unit.code, short_name=unit.short_name)


def _version_out(v: SchemeVersion) -> VersionOut:
    return VersionOut(
        id=v.pk,
        number=v.number,
        code=v.code,
        status=v.status,
        status_label=str(v.get_status_display()),
        effective_from=v.effective_from,
        effective_to=v.effective_to,
        note=v.note,
        frozen=v.is_frozen,
        created_at=v.created_at,
        adopted_at=v.adopted_at,
    )


def _version_detail(v: SchemeVersion) -> VersionDetail:
    latest = v.recomputes.select_related("version", "requested_by").order_by("-id").first()
    return VersionDetail(
        **_version_out(v).dict(),
        scheme_id=v.scheme_id,
        label=str(v.data.get("label", "")),
        data=v.data,
        recompute=_recompute_out(latest) if latest else None,
    )


def _recompute_out(job: Recompute) -> RecomputeOut:
    return RecomputeOut(
        id=job.pk,
        version_id=job.version_id,
        version_number=job.version.number,
        reason=job.reason,
        start=job.start,
        end=job.end,
        status=job.status,
        status_label=str(job.get_status_display()),
        interrupted=workflow.interrupted(job),
        background=job.background,
        requested_by=job.requested_by.real_name,
        requested_at=job.requested_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        facts=job.facts,
        corrected=job.corrected,
        error=job.error,
    )


def _scheme_fields(user: User, scheme: Scheme, versions: list[SchemeVersion]) -> dict[str, Any]:
    today = dt.datetime.now(ledger.local_tz()).date()
    current = next((v.number for v in versions if v.covers(today)), None)
    draft = next((v.pk for v in versions if v.status == VersionStatus.DRAFT), None)
    return {
        "id": scheme.pk,
        "name": scheme.name,
        "unit": _brief(scheme.unit),
        "tie_break": list(rankings.tie_break_of(scheme)),
        "current_version": current,
        "draft_version_id": draft,
        "can_manage": access.can_manage_scheme(user, scheme),
        "created_at": scheme.created_at,
    }


def _scheme_detail(user: User, scheme: Scheme) -> SchemeDetail:
    versions = list(scheme.versions.order_by("number"))
    return SchemeDetail(
        **_scheme_fields(user, scheme, versions), versions=[_version_out(v) for v in versions]
    )


def _period(q: PeriodQuery | WhatIfIn | CircularIn) -> engine.Period:
    if q.grain != Grain.CUSTOM and not q.key:
        return rankings.current_period(q.grain)
    try:
        return rankings.period_for(q.grain, q.key, q.start, q.end)
    except ValueError as exc:
        field = "start" if q.grain == Grain.CUSTOM else "key"
        raise ValidationError({field: str(exc)}) from exc


def _period_out(period: engine.Period) -> PeriodOut:
    return PeriodOut(grain=period.grain, key=period.key, start=period.start, end=period.end)


def _parent(scheme: Scheme, pk: int | None) -> Unit:
    """The unit whose children are ranked: the scheme's owner or a unit of its subtree."""
    if pk is None or pk == scheme.unit_id:
        return scheme.unit
    unit = Unit.objects.filter(pk=pk, path__startswith=scheme.unit.path).first()
    if unit is None:
        raise Http404("unit")
    return unit


def _query(q: PeriodQuery) -> str:
    if q.grain == Grain.CUSTOM:
        return f"grain=custom&start={q.start}&end={q.end}"
    return f"grain={q.grain}&key={q.key}" if q.key else f"grain={q.grain}"


def _rank_row(row: rankings.Row, link: str | None) -> RankRow:
    f = row.figures
    return RankRow(
        rank=row.rank,
        previous_rank=row.previous_rank,
        change=row.change,
        unit_id=row.unit.pk if row.unit else None,
        person_id=row.person.pk if row.person else None,
        name=row.name,
        points=engine.q2(f.points),
        submitted=f.submitted,
        adopted=f.adopted,
        adoption_rate=f.adoption_rate,
        lead_items=f.lead_items,
        instructions=f.instructions,
        kinds=dict(f.kinds),
        quota=row.quota,
        quota_missed=row.quota_missed,
        entries_url=link,
    )


def _entry_out(e: LedgerEntry) -> EntryOut:
    return EntryOut(
        id=e.pk,
        event_key=e.event_key,
        item_id=e.item_id,
        item_title=e.item.title if e.item else None,
        item_url=f"/items/{e.item_id}/" if e.item_id else None,
        unit_id=e.unit_id,
        unit=e.unit.short_name,
        person_id=e.person_id,
        person=e.person.real_name if e.person else None,
        points=e.points,
        category=e.category,
        rule=e.rule,
        ref=e.ref,
        lead=e.lead,
        at=e.at,
        version=e.version.code,
    )


def _circular_out(c: Circular) -> CircularOut:
    return CircularOut(
        id=c.pk,
        scheme_id=c.scheme_id,
        unit=_brief(c.unit),
        title=c.title,
        grain=c.grain,
        period_key=c.period_key,
        period_start=c.period_start,
        period_end=c.period_end,
        versions=[v for v in c.versions.split(",") if v],
        summary=c.summary,
        created_at=c.created_at,
        docx_url=f"{API}/scoring/circulars/{c.pk}/docx",
        xlsx_url=f"{API}/scoring/circulars/{c.pk}/xlsx",
    )


def _renamed(exc: ValidationError, names: dict[str, str], default: str = "") -> ValidationError:
    """The workflow's field names as the client sent them; loose rule errors under `default`."""
    if hasattr(exc, "error_dict"):
        return ValidationError(
            {names.get(k, k): [m for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        )
    return ValidationError({default: exc.messages}) if default else exc


# Schemes and versions ----------------------------------------------------------------------------


@router.get("/scoring/schemes", response={200: list[SchemeOut], **ERRORS}, summary="计分办法列表")
def schemes(request: HttpRequest) -> list[SchemeOut]:
    user = _caller(request)
    rows = access.schemes_for(user).prefetch_related("versions")
    return [SchemeOut(**_scheme_fields(user, s, list(s.versions.all()))) for s in rows]


@router.post("/scoring/schemes", response={201: SchemeDetail, **ERRORS}, summary="新建计分办法")
def create_scheme(request: HttpRequest, payload: SchemeIn) -> Status[SchemeDetail]:
    user = _caller(request)
    unit = get_unit_for(user, payload.unit_id)
    try:
        scheme = workflow.create_scheme(
            by=user, unit=unit, name=payload.name, data=payload.data, ip=client_ip(request)
        )
    except ValidationError as exc:
        raise _renamed(exc, {}, "data") from exc
    return Status(201, _scheme_detail(user, scheme))


@router.get(
    "/scoring/schemes/{scheme_id}", response={200: SchemeDetail, **ERRORS}, summary="计分办法详情"
)
def get_scheme(request: HttpRequest, scheme_id: int) -> SchemeDetail:
    user = _caller(request)
    return _scheme_detail(user, access.get_scheme_for(user, scheme_id))


@router.post(
    "/scoring/schemes/{scheme_id}/versions",
    response={200: VersionDetail, 201: VersionDetail, **ERRORS},
    summary="新建草稿版本",
)
def new_version(
    request: HttpRequest, scheme_id: int, payload: NewVersionIn
) -> Status[VersionDetail]:
    user = _caller(request)
    scheme = access.get_scheme_for(user, scheme_id, need="manage")
    base = None
    if payload.base_version_id is not None:
        base = scheme.versions.filter(pk=payload.base_version_id).first()
        if base is None:
            raise ValidationError({"base_version_id": gettext("该计分办法没有这个版本。")})
    existing = scheme.versions.filter(status=VersionStatus.DRAFT).exists()
    version = workflow.new_version(by=user, scheme=scheme, base=base, ip=client_ip(request))
    # One draft at a time: an existing draft is returned (200) rather than a second one made.
    return Status(200 if existing else 201, _version_detail(version))


@router.get(
    "/scoring/versions/{version_id}", response={200: VersionDetail, **ERRORS}, summary="版本规则"
)
def get_version(request: HttpRequest, version_id: int) -> VersionDetail:
    return _version_detail(access.get_version_for(_caller(request), version_id))


@router.put(
    "/scoring/versions/{version_id}", response={200: VersionDetail, **ERRORS}, summary="保存草稿"
)
def save_draft(request: HttpRequest, version_id: int, payload: DraftIn) -> VersionDetail:
    user = _caller(request)
    version = access.get_version_for(user, version_id, need="manage")
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(gettext("已启用的版本不能修改，请新建版本。"))
    try:
        saved = workflow.save_draft(
            by=user, version=version, data=payload.data, note=payload.note, ip=client_ip(request)
        )
    except ValidationError as exc:
        raise _renamed(exc, {}, "data") from exc
    return _version_detail(saved)


@router.post(
    "/scoring/versions/{version_id}/adopt",
    response={200: VersionDetail, **ERRORS},
    summary="启用版本",
)
def adopt_version(request: HttpRequest, version_id: int, payload: AdoptIn) -> VersionDetail:
    user = _caller(request)
    version = access.get_version_for(user, version_id, need="manage")
    adopted = workflow.adopt_version(
        by=user, version=version, effective_from=payload.effective_from, ip=client_ip(request)
    )
    return _version_detail(adopted)


@router.get(
    "/scoring/schemes/{scheme_id}/recomputes",
    response={200: list[RecomputeOut], **ERRORS},
    summary="重算记录",
)
def list_recomputes(request: HttpRequest, scheme_id: int) -> list[RecomputeOut]:
    scheme = access.get_scheme_for(_caller(request), scheme_id)
    return [_recompute_out(job) for job in workflow.recomputes_of(scheme, 50)]


@router.post(
    "/scoring/recomputes/{recompute_id}/restart",
    response={201: RecomputeOut, **ERRORS},
    summary="重新开始未完成或已中断的重算",
)
def restart_recompute(request: HttpRequest, recompute_id: int) -> Status[RecomputeOut]:
    user = _caller(request)
    job = access.get_recompute_for(user, recompute_id, need="manage")
    again = workflow.restart_recompute(by=user, job=job, ip=client_ip(request))
    return Status(201, _recompute_out(again))


# Rankings and drill-down -------------------------------------------------------------------------


@router.get(
    "/scoring/schemes/{scheme_id}/ranking", response={200: RankingOut, **ERRORS}, summary="排名"
)
def ranking(request: HttpRequest, scheme_id: int, filters: Query[RankingQuery]) -> RankingOut:
    user = _caller(request)
    scheme = access.get_scheme_for(user, scheme_id)
    parent = _parent(scheme, filters.parent)
    period = _period(filters)
    if filters.people:
        # Authors' figures are drill-down detail: only for those who may open the parent's entries.
        if not access.can_drill_unit(user, scheme, parent):
            raise PermissionDenied(gettext("您只能查看本单位及下属单位的人员排名。"))
        rows = [_rank_row(r, None) for r in rankings.person_ranking(scheme, parent, period)]
    else:
        query = _query(filters)
        base = f"{API}/scoring/schemes/{scheme.pk}/units"
        rows = [
            _rank_row(
                r,
                f"{base}/{r.unit.pk}/entries?{query}"
                if r.unit and access.can_drill_unit(user, scheme, r.unit)
                else None,
            )
            for r in rankings.unit_ranking(scheme, parent, period)
        ]
    return RankingOut(
        scheme_id=scheme.pk,
        parent=_brief(parent),
        period=_period_out(period),
        versions=[v.code for v in rankings.versions_used(scheme, period)],
        rows=rows,
    )


@router.get(
    "/scoring/schemes/{scheme_id}/units/{unit_id}/entries",
    response={200: EntryPage, **ERRORS},
    summary="单位计分明细",
)
def unit_entries(
    request: HttpRequest, scheme_id: int, unit_id: int, filters: Query[EntryQuery]
) -> EntryPage:
    user = _caller(request)
    scheme = access.get_scheme_for(user, scheme_id)
    unit = access.get_drill_unit_for(user, scheme, unit_id)
    period = _period(filters)
    entries: QuerySet[LedgerEntry] = rankings.unit_entries(
        scheme, unit, period, people=filters.people
    ).select_related("person")
    categories = rankings.by_category(entries)
    count, page = _page(entries, filters)
    return EntryPage(
        count=count,
        page=filters.page,
        page_size=filters.page_size,
        unit=_brief(unit),
        period=_period_out(period),
        points=engine.q2(sum((total for _, total, _ in categories), Decimal(0))),
        by_category=[CategoryOut(category=c, points=t, entries=n) for c, t, n in categories],
        items=[_entry_out(e) for e in page],
    )


# What-if -----------------------------------------------------------------------------------------


@router.post(
    "/scoring/schemes/{scheme_id}/whatif", response={200: WhatIfOut, **ERRORS}, summary="试算"
)
def what_if(request: HttpRequest, scheme_id: int, payload: WhatIfIn) -> WhatIfOut:
    user = _caller(request)
    scheme = access.get_scheme_for(user, scheme_id, need="manage")
    version = scheme.versions.filter(pk=payload.version_id).first()
    if version is None:
        raise ValidationError({"version_id": gettext("该计分办法没有这个版本。")})
    parent = _parent(scheme, payload.parent_id)
    period = _period(payload)
    rows = whatif.compare(scheme, version, parent, period)
    return WhatIfOut(
        scheme_id=scheme.pk,
        version=_version_out(version),
        parent=_brief(parent),
        period=_period_out(period),
        rows=[
            WhatIfRow(
                unit_id=r.unit.pk,
                name=r.unit.short_name,
                current_rank=r.current_rank,
                current_points=r.current_points,
                rank=r.rank,
                points=r.points,
                submitted=r.submitted,
                adopted=r.adopted,
                change=r.change,
            )
            for r in rows
        ],
    )


# Circulars ---------------------------------------------------------------------------------------


@router.post(
    "/scoring/schemes/{scheme_id}/circulars",
    response={201: CircularOut, **ERRORS},
    summary="生成通报",
)
def create_circular(
    request: HttpRequest, scheme_id: int, payload: CircularIn
) -> Status[CircularOut]:
    user = _caller(request)
    scheme = access.get_scheme_for(user, scheme_id, need="manage")
    parent = _parent(scheme, payload.parent_id)
    circular = workflow.generate_circular(
        by=user,
        scheme=scheme,
        parent=parent,
        grain=payload.grain,
        period=_period(payload),
        ip=client_ip(request),
    )
    return Status(201, _circular_out(circular))


@router.get(
    "/scoring/schemes/{scheme_id}/circulars",
    response={200: list[CircularOut], **ERRORS},
    summary="已发通报",
)
def circulars(request: HttpRequest, scheme_id: int) -> list[CircularOut]:
    scheme = access.get_scheme_for(_caller(request), scheme_id)
    rows = scheme.circulars.select_related("unit").defer("docx", "xlsx")
    return [_circular_out(c) for c in rows]


@router.get(
    "/scoring/circulars/{circular_id}", response={200: CircularOut, **ERRORS}, summary="通报详情"
)
def get_circular(request: HttpRequest, circular_id: int) -> CircularOut:
    return _circular_out(access.get_circular_for(_caller(request), circular_id))


@router.get(
    "/scoring/circulars/{circular_id}/docx", response={200: None, **ERRORS}, summary="下载通报"
)
def circular_docx(request: HttpRequest, circular_id: int) -> HttpResponse:
    c = access.get_circular_for(_caller(request), circular_id)
    return attachment(bytes(c.docx), f"{c.title}.docx", DOCX)


@router.get(
    "/scoring/circulars/{circular_id}/xlsx",
    response={200: None, **ERRORS},
    summary="下载排名表",
)
def circular_xlsx(request: HttpRequest, circular_id: int) -> HttpResponse:
    c = access.get_circular_for(_caller(request), circular_id)
    return attachment(bytes(c.xlsx), f"{c.title}.xlsx")


# Assessing decisions -----------------------------------------------------------------------------


@router.post(
    "/scoring/schemes/{scheme_id}/decisions",
    response={201: DecisionOut, **ERRORS},
    summary="扣分与认定",
)
def decide(request: HttpRequest, scheme_id: int, payload: DecisionIn) -> Status[DecisionOut]:
    user = _caller(request)
    scheme = access.get_scheme_for(user, scheme_id, need="manage")
    subtree = scheme.unit.path
    target = item = None
    # Units and items outside the scheme's tree are "not found", not "forbidden": their existence
    # is none of the caller's business.
    if payload.target_id is not None:
        target = Unit.objects.filter(pk=payload.target_id, path__startswith=subtree).first()
        if target is None:
            raise ValidationError({"target_id": gettext("单位不存在或不在本计分办法范围内。")})
    if payload.item_id is not None:
        item = Submission.objects.filter(pk=payload.item_id, unit__path__startswith=subtree).first()
        if item is None:
            raise ValidationError({"item_id": gettext("稿件不存在或不在本计分办法范围内。")})
    try:
        event = workflow.decide(
            by=user,
            scheme=scheme,
            action=payload.action,
            target=target,
            item=item,
            points=payload.points,
            reason=payload.reason,
            ip=client_ip(request),
        )
    except ValidationError as exc:
        raise _renamed(exc, {"target": "target_id", "item": "item_id"}) from exc
    return Status(201, _decision_out(event))


def _decision_out(e: AssessmentEvent) -> DecisionOut:
    return DecisionOut(
        id=e.pk,
        action=e.action,
        action_label=str(e.get_action_display()),
        target=_brief(e.target),
        item_id=e.submission_id,
        points=e.points,
        reason=e.reason,
        at=e.at,
    )
