"""The demo province's scoring: the two documented schemes (docs/scoring.md), a draft revision to
try in a what-if, last year's adoption records imported from a workbook, a deduction, and the
circulars of last month and last quarter.

Schemes are loaded before the demo items, so every demo submission and adoption is scored as it
happens, exactly as in production. History comes in through the real import (a generated .xlsx)."""

from __future__ import annotations

import datetime as dt
import io
import random

from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from openpyxl import Workbook

from baosong.orgs.models import Level, Unit, User
from baosong.scoring import engine, rankings, workflow
from baosong.scoring.models import Circular, Decision, HistoryImport, Scheme

PROVINCE, LJ, BH = "JC", "JC-LJ", "JC-BH"
PROVINCE_SCHEME = "江川省委组织部信息工作计分办法（逐级累加）"
CITY_SCHEME = "临江市委组织部信息工作计分办法（只计最高级别）"
LATE_SCHEME = "白河市委组织部信息工作计分办法（试行）"
SINCE = dt.date(2025, 1, 1)

TOPICS = (
    "“三会一课”制度落实情况",
    "年轻干部“墩苗”培养做法",
    "村级集体经济发展路径",
    "党员教育培训数字化探索",
    "基层减负工作成效",
    "驻村第一书记履职情况",
    "“两新”组织党建覆盖",
    "干部担当作为激励机制",
    "人才回引工程进展",
    "软弱涣散村党组织整顿",
    "城市社区网格化治理",
    "选调生基层锻炼管理",
    "乡村振兴指导员选派",
    "党员先锋岗创建活动",
    "基层党组织书记轮训",
    "主题教育整改落实",
)
KINDS = ("专报", "信息刊物", "简报", "网站", "公众号")


def load_demo_schemes() -> int:
    """Create the two demo schemes once (before the demo items); returns how many were made."""
    if Scheme.objects.filter(name__in=[PROVINCE_SCHEME, CITY_SCHEME]).exists():
        return 0
    units = {u.code: u for u in Unit.objects.filter(code__in=[PROVINCE, LJ])}
    people = {
        u.username: u for u in User.objects.filter(username__in=["sheng_bianji", "linjiang_bianji"])
    }
    if len(units) < 2 or len(people) < 2:
        return 0
    with transaction.atomic():
        province = workflow.create_scheme(
            by=people["sheng_bianji"],
            unit=units[PROVINCE],
            name=PROVINCE_SCHEME,
            data=engine.scheme_as_data(engine.PROVINCE_ADD),
        )
        workflow.adopt_version(
            by=people["sheng_bianji"], version=province.versions.get(), effective_from=SINCE
        )
        city = workflow.create_scheme(
            by=people["linjiang_bianji"],
            unit=units[LJ],
            name=CITY_SCHEME,
            data=engine.scheme_as_data(engine.CITY_HIGHEST),
        )
        workflow.adopt_version(
            by=people["linjiang_bianji"], version=city.versions.get(), effective_from=SINCE
        )
        # A revision under discussion: more weight on 研判 and excerpts, tried in a what-if.
        draft = workflow.new_version(by=people["linjiang_bianji"], scheme=city)
        data = dict(draft.data)
        data["form_factor"] = {**data["form_factor"], "excerpt": "0.8", "one_line": "0.5"}
        data["lead_multiplier"] = "2"
        workflow.save_draft(
            by=people["linjiang_bianji"],
            version=draft,
            data=data,
            note="拟提高摘编、一句话采用系数和头条倍数（征求意见稿）",
        )
    return 2


def _history_workbook(owner: Unit, year_months: list[tuple[int, int]], seed: int) -> bytes:
    """Adoption records of the owner's child units, month by month, as offices keep them."""
    rng = random.Random(seed)
    children = list(
        Unit.objects.filter(parent=owner, is_active=True)
        .exclude(level=Level.INTERNAL)
        .order_by("sort_order", "code")
    )
    # Some units write more and better than others: the demo ranking has a shape.
    strength = {u.code: 0.5 + 1.5 * rng.random() for u in children}
    levels = ["市级", "省级", "中央"] if owner.level == Level.CITY else ["省级", "中央"]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "采用记录"
    sheet.append(
        ["期号", "标题", "级别", "载体", "采用时间", "主报单位", "采用单位", "其他单位", "备注"]
    )
    number = 0
    for year, month in year_months:
        for unit in children:
            for _ in range(rng.randint(0, round(3 * strength[unit.code]))):
                number += 1
                level = rng.choices(levels, weights=[70, 25, 5][: len(levels)])[0]
                others = ""
                if rng.random() < 0.1:
                    others = "、".join(
                        u.short_name for u in rng.sample([c for c in children if c != unit], 2)
                    )
                adopter = {
                    "市级": owner.short_name,
                    "省级": "江川省委组织部",
                    "中央": "中央组织部",
                }[level]
                sheet.append(
                    [
                        f"{year}年第{number}期",
                        f"{unit.short_name.removesuffix('委组织部')}{rng.choice(TOPICS)}",
                        level,
                        rng.choice(KINDS),
                        dt.date(year, month, rng.randint(1, 28)),
                        unit.short_name,
                        adopter,
                        others,
                        "综合稿件" if others else "",
                    ]
                )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def load_demo_scoring() -> int:
    """After the demo items and adoptions: import 2025–2026 history, record a deduction, and
    generate last month's and last quarter's circulars. Returns how many circulars were made."""
    from baosong.scoring import history

    if Circular.objects.exists() or HistoryImport.objects.exists():
        return 0
    schemes = {s.name: s for s in Scheme.objects.select_related("unit")}
    if PROVINCE_SCHEME not in schemes or CITY_SCHEME not in schemes:
        return 0
    people = {
        u.username: u for u in User.objects.filter(username__in=["sheng_bianji", "linjiang_bianji"])
    }
    today = timezone.localdate()
    months = []
    year, month = SINCE.year, SINCE.month
    while (year, month) < (today.year, today.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        for name, login, seed in (
            (CITY_SCHEME, "linjiang_bianji", 7),
            (PROVINCE_SCHEME, "sheng_bianji", 11),
        ):
            scheme = schemes[name]
            data = _history_workbook(scheme.unit, months, seed)
            history.import_history(
                by=people[login], scheme=scheme, file_name="往年采用记录.xlsx", data=data
            )
        city = schemes[CITY_SCHEME]
        late = Unit.objects.filter(parent=city.unit, level=Level.COUNTY).order_by("-code").first()
        if late is not None:
            workflow.decide(
                by=people["linjiang_bianji"],
                scheme=city,
                action=Decision.DEDUCT,
                target=late,
                points=5,
                reason="重要信息迟报（超过规定时限 2 小时）",
            )
        made = 0
        last_month = today.replace(day=1) - dt.timedelta(days=1)
        periods = [("month", f"{last_month.year}-{last_month.month:02d}")]
        quarter = (today.month - 1) // 3
        if quarter:
            periods.append(("quarter", f"{today.year}-Q{quarter}"))
        for name, login in ((CITY_SCHEME, "linjiang_bianji"), (PROVINCE_SCHEME, "sheng_bianji")):
            scheme = schemes[name]
            for grain, key in periods:
                try:
                    workflow.generate_circular(
                        by=people[login],
                        scheme=scheme,
                        parent=scheme.unit,
                        grain=grain,
                        period=rankings.period_for(grain, key),
                    )
                    made += 1
                except ValidationError:
                    continue
        _late_scheme(today)
    return made


def _late_scheme(today: dt.date) -> None:
    """白河市 draws up its scheme in the course of the year, in force from 1 January: adopting it
    rescores the year so far (a record on the scheme's page)."""
    unit = Unit.objects.filter(code=BH).first()
    editor = User.objects.filter(username="baihe_bianji").first()
    if unit is None or editor is None:
        return
    scheme = workflow.create_scheme(
        by=editor, unit=unit, name=LATE_SCHEME, data=engine.scheme_as_data(engine.CITY_HIGHEST)
    )
    workflow.adopt_version(
        by=editor, version=scheme.versions.get(), effective_from=today.replace(month=1, day=1)
    )
