"""Rankings (排名) of child units and people, the drill-down to the ledger lines behind every
number, the dashboard and the archived circulars (通报)."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baosong.lib.http import attachment, client_ip, is_htmx
from baosong.orgs.models import Unit, User
from baosong.scoring import access, engine, ledger, rankings, workflow
from baosong.scoring.ledger import local_tz
from baosong.scoring.models import Circular, LedgerEntry, Scheme
from baosong.submissions import access as items_access

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PAGE_SIZE = 50

GRAIN_LABEL = {
    "month": gettext_lazy("月度"),
    "quarter": gettext_lazy("季度"),
    "year": gettext_lazy("年度"),
    "custom": gettext_lazy("自定义"),
}
CATEGORY_LABEL = {
    "submit": gettext_lazy("报送"),
    "reach": gettext_lazy("报送层级"),
    "adopt": gettext_lazy("采用"),
    "forward": gettext_lazy("转报"),
    "instruct": gettext_lazy("批示"),
    "supersede": gettext_lazy("只计最高级别冲减"),
    "withdraw": gettext_lazy("撤销采用"),
    "relead": gettext_lazy("调整头条冲减"),
    "void": gettext_lazy("认定后冲减"),
    "penalty": gettext_lazy("处罚"),
    "deduct": gettext_lazy("扣分"),
    "quota": gettext_lazy("报送任务"),
}
KIND_LABEL = {
    "dynamic": gettext_lazy("动态"),
    "experience": gettext_lazy("经验"),
    "problem": gettext_lazy("问题"),
    "analysis": gettext_lazy("研判"),
}
# Each count of the ranking narrows the drill-down to the lines that moved it.
ONLY = {
    "submitted": Q(d_submitted__gt=0) | Q(d_submitted__lt=0),
    "adopted": Q(d_adopted__gt=0) | Q(d_adopted__lt=0),
    "lead": Q(d_lead__gt=0) | Q(d_lead__lt=0),
    "instructions": Q(d_instructions__gt=0) | Q(d_instructions__lt=0),
}
ONLY_LABEL = {
    "submitted": gettext_lazy("报送"),
    "adopted": gettext_lazy("采用"),
    "lead": gettext_lazy("头条"),
    "instructions": gettext_lazy("批示"),
}
KEY_PATTERN = re.compile(r"^(\d{4})(?:-(Q?)(\d{1,2}))?$")


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


# Period filter ------------------------------------------------------------------------------------


@dataclass
class PeriodChoice:
    grain: str
    key: str
    start: str
    end: str
    period: engine.Period
    error: str = ""

    @property
    def label(self) -> str:
        if self.grain == "custom":
            return f"{self.start} ~ {self.end}"
        return self.period.key

    def params(self) -> dict[str, str]:
        if self.grain == "custom":
            return {"grain": self.grain, "start": self.start, "end": self.end}
        return {"grain": self.grain, "key": self.key}


def _key_for(grain: str, key: str) -> str:
    """A key of another grain carried over when the grain changes (2026-03 → 2026-Q1 → 2026);
    a coarser key gives the first finer period in it."""
    match = KEY_PATTERN.match(key.strip())
    if not match:
        return ""
    year, is_quarter, number = int(match[1]), match[2] == "Q", match[3]
    month = 1 if number is None else (int(number) - 1) * 3 + 1 if is_quarter else int(number)
    if not 1 <= month <= 12:
        return ""
    if grain == "year":
        return str(year)
    if grain == "quarter":
        return f"{year}-Q{(month - 1) // 3 + 1}"
    return f"{year}-{month:02d}"


def period_choice(params: QueryDict, default_grain: str = "month") -> PeriodChoice:
    """The period asked for, or the current one of the grain when none or a bad one is given."""
    grain = params.get("grain", default_grain)
    if grain not in rankings.GRAINS:
        grain = default_grain
    key, start, end = _key_for(grain, params.get("key", "")), "", ""
    if grain == "custom":
        today = dt.datetime.now(local_tz()).date()
        start = params.get("start", "") or today.replace(day=1).isoformat()
        end = params.get("end", "") or today.isoformat()
    elif not key:
        key = rankings.current_period(grain).key
    try:
        return PeriodChoice(grain, key, start, end, rankings.period_for(grain, key, start, end))
    except ValueError as exc:
        current = rankings.current_period(grain)
        grain = current.grain
        return PeriodChoice(grain, current.key, "", "", current, str(exc))


def _period_options(choice: PeriodChoice) -> list[str]:
    """Recent period keys for the key select (and the chosen one, however old)."""
    if choice.grain == "custom":
        return []
    keys: list[str] = []
    period = rankings.current_period(choice.grain)
    count = {"month": 24, "quarter": 12, "year": 6}[choice.grain]
    for _ in range(count):
        keys.append(period.key)
        period = rankings.previous_of(period)
    if choice.key not in keys:
        keys.append(choice.key)
    return keys


# Scheme and parent unit ---------------------------------------------------------------------------


def _parent_units(scheme: Scheme) -> QuerySet[Unit]:
    """Units of the scheme's subtree that have child units to rank."""
    return (
        Unit.objects.filter(
            path__startswith=scheme.unit.path, is_active=True, children__is_active=True
        )
        .distinct()
        .order_by("path")
    )


def _parent_for(scheme: Scheme, wanted: str) -> Unit:
    if not wanted:
        return scheme.unit
    try:
        return Unit.objects.get(pk=int(wanted), path__startswith=scheme.unit.path)
    except (Unit.DoesNotExist, ValueError) as exc:
        raise Http404("unit") from exc


@dataclass
class Filters:
    schemes: list[Scheme]
    scheme: Scheme | None
    parent: Unit | None
    parents: list[Unit]
    choice: PeriodChoice

    def params(self, **extra: str) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.scheme is not None:
            out["scheme"] = str(self.scheme.pk)
        if self.parent is not None:
            out["unit"] = str(self.parent.pk)
        out.update(self.choice.params())
        out.update(extra)
        return out

    def query(self, **extra: str) -> str:
        return urlencode(self.params(**extra))

    @property
    def period_query(self) -> str:
        return urlencode(self.choice.params())


def _filters(request: HttpRequest, default_grain: str = "month") -> Filters:
    user = _user(request)
    wanted = request.GET.get("scheme", "")
    if wanted and not wanted.isdigit():
        raise Http404("scheme")
    schemes = list(access.schemes_for(user))
    choice = period_choice(request.GET, default_grain)
    if not schemes and not wanted:
        return Filters([], None, None, [], choice)
    scheme = access.get_scheme_for(user, int(wanted)) if wanted else schemes[0]
    parent = _parent_for(scheme, request.GET.get("unit", ""))
    parents = list(_parent_units(scheme))
    if parent not in parents:
        parents.insert(0, parent)
    return Filters(schemes, scheme, parent, parents, choice)


# Ranking ------------------------------------------------------------------------------------------


@require_GET
def ranking_home(request: HttpRequest) -> HttpResponse:
    """The ranking of a unit's child units (or of the people in its subtree) over a period."""
    user = _user(request)
    filters = _filters(request)
    tab = "people" if request.GET.get("tab") == "people" else "units"
    rows: list[rankings.Row] = []
    drillable: set[str] = set()
    if filters.scheme is not None and filters.parent is not None:
        scheme, parent = filters.scheme, filters.parent
        if tab == "units":
            rows = rankings.unit_ranking(scheme, parent, filters.choice.period)
            drillable = {
                r.key for r in rows if r.unit and access.can_drill_unit(user, scheme, r.unit)
            }
        else:
            # Authors' figures are drill-down detail (as in the API): only for those who may
            # open the parent unit's entries.
            if not access.can_drill_unit(user, scheme, parent):
                raise PermissionDenied(gettext("您只能查看本单位及下属单位人员的得分。"))
            rows = rankings.person_ranking(scheme, parent, filters.choice.period)
            drillable = _drillable_people(user, scheme, rows)
    context = {
        "filters": filters,
        "tab": tab,
        "rows": rows,
        "drillable": drillable,
        "grains": GRAIN_LABEL,
        "period_options": _period_options(filters.choice),
        "can_see_people": filters.scheme is not None
        and filters.parent is not None
        and access.can_drill_unit(user, filters.scheme, filters.parent),
        "can_manage": filters.scheme is not None and access.can_manage_scheme(user, filters.scheme),
        "recompute": workflow.pending_recompute(filters.scheme) if filters.scheme else None,
    }
    if not is_htmx(request):
        return render(request, "scoring/ranking.html", context)
    response = render(request, "scoring/ranking.html#ranking", context)
    if filters.scheme is not None:
        # The address bar shows the period actually ranked, not a key left from another grain.
        extra = {"tab": tab} if tab == "people" else {}
        response["HX-Push-Url"] = f"{request.path}?{filters.query(**extra)}"
    return response


def _drillable_people(user: User, scheme: Scheme, rows: list[rankings.Row]) -> set[str]:
    """Whom to link: checking each person would read every person's memberships, so the list
    links everyone when the user sees all entries or administers a unit (the drill-down page
    itself decides), and otherwise only the user."""
    from baosong.orgs.access import scope_for

    if access.can_see_all_entries(user, scheme) or scope_for(user).admin_paths:
        return {r.key for r in rows}
    return {str(user.pk)}


# Drill-down ---------------------------------------------------------------------------------------


@dataclass
class CategorySum:
    category: str
    label: str
    points: Decimal
    lines: int


def _drill_context(
    request: HttpRequest, scheme: Scheme, entries: QuerySet[LedgerEntry], choice: PeriodChoice
) -> dict[str, Any]:
    user = _user(request)
    order = {cat: i for i, cat in enumerate(engine.CATEGORIES)}
    sums = sorted(
        (
            CategorySum(cat, str(CATEGORY_LABEL.get(cat, cat)), total or Decimal(0), n)
            for cat, total, n in rankings.by_category(entries)
        ),
        key=lambda s: order.get(s.category, len(order)),
    )
    only = request.GET.get("only", "")
    lines = entries.filter(ONLY[only]) if only in ONLY else entries
    page = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
    items = {e.item_id for e in page.object_list if e.item_id}
    openable = set(
        items_access.visible_submissions(user).filter(pk__in=items).values_list("pk", flat=True)
    )
    counts = entries.order_by().aggregate(
        submitted=Sum("d_submitted"),
        adopted=Sum("d_adopted"),
        lead=Sum("d_lead"),
        instructions=Sum("d_instructions"),
    )
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "counts": {k: v or 0 for k, v in counts.items()},
        "scheme": scheme,
        "choice": choice,
        "sums": sums,
        "total": sum((s.points for s in sums), Decimal(0)),
        "page": page,
        "openable": openable,
        "only": only if only in ONLY else "",
        "only_labels": ONLY_LABEL,
        "only_label": ONLY_LABEL.get(only, ""),
        "categories": CATEGORY_LABEL,
        "query": query.urlencode(),
        "period_query": urlencode(choice.params()),
    }


@dataclass
class WeekQuota:
    label: str
    window: str
    first_day: dt.date
    last_day: dt.date
    submitted: int
    needed: int
    met: bool
    closed: bool


def week_quotas(
    scheme: Scheme, entries: QuerySet[LedgerEntry], period: engine.Period
) -> list[WeekQuota]:
    """Weekly quotas need submissions by week, which the monthly rollups cannot give; the
    unit's page counts them from its own (already narrowed) submission lines."""
    version = rankings.version_for(scheme, period)
    quotas = [q for q in ledger.scheme_of(version).quotas if q.per == "week"] if version else []
    if not quotas:
        return []
    tz = local_tz()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for at, n, kind in entries.filter(ONLY["submitted"]).values_list(
        "at", "d_submitted", "item_kind"
    ):
        counts[engine.window_key("week", at, tz)][kind] += n
    now = dt.datetime.now(tz)
    rows: list[WeekQuota] = []
    for quota in quotas:
        window = engine.period_containing("week", period.start.astimezone(tz))
        while window.start < period.end and window.start < now:
            kinds = counts.get(window.key, {})
            done = sum(kinds.values())
            met = done >= quota.min_items and all(kinds.get(k, 0) >= n for k, n in quota.min_kinds)
            last_day = (window.end - dt.timedelta(days=1)).date()
            rows.append(
                WeekQuota(
                    quota.label,
                    window.key,
                    window.start.date(),
                    last_day,
                    done,
                    quota.min_items,
                    met,
                    window.end <= now,
                )
            )
            window = engine.period_containing("week", window.end)
    return rows


@require_GET
def ranking_unit(request: HttpRequest, scheme_pk: int, unit_pk: int) -> HttpResponse:
    """The ledger lines behind one unit's figures (its whole subtree) in the period."""
    user = _user(request)
    scheme = access.get_scheme_for(user, scheme_pk)
    unit = access.get_drill_unit_for(user, scheme, unit_pk)
    choice = period_choice(request.GET)
    entries = rankings.unit_entries(scheme, unit, choice.period)
    context = _drill_context(request, scheme, entries, choice)
    weeks = week_quotas(scheme, entries, choice.period)
    closed = [w for w in weeks if w.closed]
    context.update(
        {
            "unit": unit,
            "person": None,
            "subject": unit.short_name,
            "week_quotas": weeks,
            "weeks_closed": len(closed),
            "weeks_met": sum(1 for w in closed if w.met),
            "weeks_missed": sum(1 for w in closed if not w.met),
        }
    )
    return render(request, "scoring/drill.html", context)


@require_GET
def ranking_person(request: HttpRequest, scheme_pk: int, person_pk: int) -> HttpResponse:
    """The ledger lines behind one author's share of the points in the period."""
    user = _user(request)
    scheme = access.get_scheme_for(user, scheme_pk)
    try:
        person = User.objects.get(pk=person_pk)
    except User.DoesNotExist as exc:
        raise Http404("person") from exc
    if not access.can_drill_person(user, scheme, person):
        raise PermissionDenied(gettext("您只能查看本人及所管理单位人员的计分明细。"))
    choice = period_choice(request.GET)
    entries = rankings.person_entries(scheme, person, choice.period)
    context = _drill_context(request, scheme, entries, choice)
    context.update({"unit": None, "person": person, "subject": person.real_name})
    return render(request, "scoring/drill.html", context)


# Dashboard ----------------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def _yyyymm_back(month: int, steps: int) -> int:
    index = (month // 100) * 12 + month % 100 - 1 - steps
    return (index // 12) * 100 + index % 12 + 1


def dashboard_data(
    scheme: Scheme, parent: Unit, period: engine.Period, rows: list[rankings.Row]
) -> dict[str, Any]:
    """Everything the charts draw, as plain JSON-able data with Chinese labels."""
    last_moment = period.end - dt.timedelta(microseconds=1)
    local = min(last_moment, dt.datetime.now(dt.UTC)).astimezone(local_tz())
    last = local.year * 100 + local.month  # no empty future months at the right edge
    first = _yyyymm_back(last, 11)
    series = {m: (s, a) for m, s, a, _p in rankings.monthly_series(scheme, parent, first, last)}
    months = [_yyyymm_back(last, 11 - i) for i in range(12)]
    names = [r.name for r in rows]
    submitted = [r.figures.submitted for r in rows]
    rates = [float(r.figures.adoption_rate or 0) for r in rows]
    by_points = sorted(rows, key=lambda r: (-r.figures.points, r.rank))
    points = [float(r.figures.points) for r in by_points]
    met = sum(1 for r in rows if r.quota and not r.quota_missed)
    missed = sum(1 for r in rows if r.quota_missed)
    return {
        "monthly": {
            "months": [f"{m // 100}-{m % 100:02d}" for m in months],
            "submitted": [series.get(m, (0, 0))[0] for m in months],
            "adopted": [series.get(m, (0, 0))[1] for m in months],
            "labels": {"submitted": gettext("报送"), "adopted": gettext("采用")},
        },
        "quadrant": {
            "points": [
                {"name": n, "value": [s, r]}
                for n, s, r in zip(names, submitted, rates, strict=True)
            ],
            "median_submitted": _median([float(s) for s in submitted]),
            "median_rate": _median(rates),
            "labels": {
                "x": gettext("报送量"),
                "y": gettext("采用率（%）"),
                "median": gettext("中位数"),
            },
        },
        "kinds": {
            "units": names,
            "series": [
                {"name": str(label), "data": [r.figures.kinds.get(kind, 0) for r in rows]}
                for kind, label in KIND_LABEL.items()
            ],
        },
        "spread": {
            "units": [r.name for r in by_points],
            "points": points,
            "max": max(points, default=0.0),
            "min": min(points, default=0.0),
            "median": _median(points),
            "labels": {
                "points": gettext("得分"),
                "max": gettext("最高"),
                "min": gettext("最低"),
                "median": gettext("中位数"),
            },
        },
        "quota": {
            "data": [
                {"name": gettext("达标"), "value": met},
                {"name": gettext("未达标"), "value": missed},
                {"name": gettext("暂无考核"), "value": len(rows) - met - missed},
            ]
        },
    }


@require_GET
def scoring_dashboard(request: HttpRequest) -> HttpResponse:
    filters = _filters(request, default_grain="year")
    data: dict[str, Any] | None = None
    rows: list[rankings.Row] = []
    if filters.scheme is not None and filters.parent is not None:
        rows = rankings.unit_ranking(
            filters.scheme, filters.parent, filters.choice.period, with_previous=False
        )
        data = dashboard_data(filters.scheme, filters.parent, filters.choice.period, rows)
    spread = data["spread"] if data else None
    context = {
        "filters": filters,
        "data": data,
        "rows": rows,
        "spread": spread,
        "grains": GRAIN_LABEL,
        "period_options": _period_options(filters.choice),
    }
    return render(request, "scoring/dashboard.html", context)


# Circulars ----------------------------------------------------------------------------------------


def _circular_context(
    request: HttpRequest, scheme: Scheme, values: dict[str, str], errors: list[str]
) -> dict[str, Any]:
    user = _user(request)
    circulars = (
        Circular.objects.filter(scheme=scheme)
        .select_related("unit", "created_by")
        .defer("docx", "xlsx")
    )
    return {
        "scheme": scheme,
        "circulars": circulars,
        "can_manage": access.can_manage_scheme(user, scheme),
        "parents": [scheme.unit, *(u for u in _parent_units(scheme) if u.pk != scheme.unit_id)],
        "grains": {k: v for k, v in GRAIN_LABEL.items() if k != "custom"},
        "values": values,
        "errors": errors,
        "recompute": workflow.pending_recompute(scheme),
    }


@require_GET
def circular_list(request: HttpRequest, scheme_pk: int) -> HttpResponse:
    scheme = access.get_scheme_for(_user(request), scheme_pk)
    previous = rankings.previous_of(rankings.current_period("month"))
    values = {"grain": "month", "key": previous.key, "unit": str(scheme.unit_id)}
    return render(
        request, "scoring/circular_list.html", _circular_context(request, scheme, values, [])
    )


@require_POST
def circular_generate(request: HttpRequest, scheme_pk: int) -> HttpResponse:
    """Generate and archive a circular (managers of the owner unit only)."""
    user = _user(request)
    scheme = access.get_scheme_for(user, scheme_pk, need="manage")
    values = {k: request.POST.get(k, "").strip() for k in ("grain", "key", "unit")}
    errors: list[str] = []
    grain = values["grain"] if values["grain"] in ("month", "quarter", "year") else ""
    try:
        if not grain:
            raise ValueError(gettext("请选择通报周期。"))
        period = rankings.period_for(grain, values["key"])
        parent = _parent_for(scheme, values["unit"])
        circular = workflow.generate_circular(
            by=user, scheme=scheme, parent=parent, grain=grain, period=period, ip=client_ip(request)
        )
    except ValueError as exc:
        errors.append(str(exc))
    except ValidationError as exc:
        errors.extend(exc.messages)
    if errors:
        context = _circular_context(request, scheme, values, errors)
        return render(request, "scoring/circular_list.html", context, status=400)
    messages.success(request, gettext("已生成并归档：%(title)s") % {"title": circular.title})
    return redirect("circular_list", scheme_pk=scheme.pk)


@require_http_methods(["GET", "HEAD"])
def circular_download(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    circular = access.get_circular_for(_user(request), pk)
    if kind == "docx":
        return attachment(bytes(circular.docx), f"{circular.title}.docx", DOCX)
    if kind == "xlsx":
        return attachment(bytes(circular.xlsx), f"{circular.title}.xlsx")
    raise Http404("kind")


urlpatterns: list[URLPattern] = [
    path("scoring/", ranking_home, name="ranking_home"),
    path("scoring/dashboard/", scoring_dashboard, name="scoring_dashboard"),
    path(
        "scoring/<int:scheme_pk>/units/<int:unit_pk>/",
        ranking_unit,
        name="ranking_unit",
    ),
    path(
        "scoring/<int:scheme_pk>/people/<int:person_pk>/",
        ranking_person,
        name="ranking_person",
    ),
    path("scoring/<int:scheme_pk>/circulars/", circular_list, name="circular_list"),
    path(
        "scoring/<int:scheme_pk>/circulars/new/",
        circular_generate,
        name="circular_generate",
    ),
    path(
        "scoring/circulars/<int:pk>/<str:kind>/",
        circular_download,
        name="circular_download",
    ),
]
