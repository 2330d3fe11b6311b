"""Demo handling at the upper units of 江川省: what the city and the province did with the items
the counties submitted.

Loaded after the demo items (baosong/submissions/demo.py). A dozen more items are written and
reviewed first, so every inbox has work of every kind. Then the editors of 临江市委组织部 and of the
province handle them through workflow.py as themselves: they open, claim, adopt (whole, excerpt,
combined), keep for reference, return and forward items; set up publications and channels; compose,
publish and correct issues; and record leaders' instructions. Idempotent: when a demo publication
exists already nothing is created.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.test.utils import override_settings
from django.utils import timezone

from baosong.lib import demo_clock
from baosong.lib.demo_clock import Clock, Plan
from baosong.orgs.models import Membership, Role, Unit, User
from baosong.publications import workflow
from baosong.publications.models import (
    Adoption,
    AdoptionForm,
    Issue,
    LeaderLevel,
    Publication,
    PublicationKind,
)
from baosong.publications.workflow import InstructionInput, SourceInput
from baosong.submissions import workflow as items
from baosong.submissions.models import ItemType, Kind, Status, Submission
from baosong.submissions.workflow import DraftInput

LJ, PROVINCE, QS, BH = "JC-LJ", "JC", "JC-QS", "JC-BH"

# Publications (unit, name, kind, distribution) ------------------------------------------------

PUBLICATIONS: list[tuple[str, str, str, str]] = [
    (
        LJ,
        "临江组工信息",
        PublicationKind.JOURNAL.value,
        "报：省委组织部\n送：市委各部门\n发：各县（市、区）委组织部",
    ),
    (LJ, "临江组工", PublicationKind.WECHAT.value, ""),
    (
        PROVINCE,
        "江川组工信息",
        PublicationKind.JOURNAL.value,
        "报：中央组织部\n送：省委领导同志，省委各部门\n发：各市委组织部，省委组织部各处室",
    ),
    (
        PROVINCE,
        "组工专报",
        PublicationKind.SPECIAL.value,
        "报：省委书记、副书记，省委常委\n送：省委组织部部务会成员",
    ),
    (PROVINCE, "江川组工网", PublicationKind.WEBSITE.value, ""),
]
PUBLICATION_NAMES = [name for _, name, _, _ in PUBLICATIONS]

# Items the submissions demo left submitted, by unit and title ------------------------------------

ZUTUAN = ("JC-LJ-AP", "安平县“组团式”帮扶推动软弱涣散村党组织转化提升")
LIANGWEI = ("JC-LJ-AP", "安平县完成村（社区）“两委”班子运行情况分析研判")
RENCAI_REPORT = ("JC-LJ-AP", "关于安平县乡村振兴人才队伍建设情况的专题报告")
HEHUOREN = ("JC-LJ-JB", "江北区“社区合伙人”计划吸引120家单位参与基层治理")
ZHIDAOYUAN = ("JC-LJ-QH", "清河县62名乡村振兴指导员全部到村到岗")
DONGXUN = ("JC-LJ-SM", "石门县启动2026—2027年度农村党员冬训")
YESHI = (LJ, "临江市“人才夜市”现场签约项目46个")
MIAOTOU = (LJ, "当前基层干部队伍中值得关注的几个苗头性问题")
JIEXIANG = ("JC-QS-CP", "翠屏区推行“街巷长制”打通服务群众“最后一米”")
WANGGE = ("JC-BH-HD", "河东区“党建＋网格”让矛盾纠纷就地化解")


# More items, written, reviewed and submitted here -------------------------------------------------


@dataclass(frozen=True)
class ExtraItem:
    key: str
    unit: str
    writer: str
    reviewer: str  # the unit's reviewer, who acts on every reviewer stage of its plan
    item_type: str
    kind: str
    title: str
    paragraphs: tuple[str, ...]
    event_date: str
    keywords: str


INFO, NEWS = ItemType.INFO.value, ItemType.NEWS.value

EXTRA_ITEMS: list[ExtraItem] = [
    ExtraItem(
        "lianhu",
        "JC-LJ-QH",
        "qinghe_xinxi",
        "qinghe_shenhe",
        INFO,
        Kind.EXPERIENCE.value,
        "清河县“党员联户”让联系服务群众零距离",
        (
            "今年以来，清河县在全县农村推行“党员联户”制度，每名农村党员就近联系5至10户群众，"
            "全县4600余名农村党员共联系农户3.1万户。",
            "联户党员每月至少走访一次，及时了解群众生产生活困难，能办的马上办，办不了的报村党组织"
            "统筹解决。今年以来共帮助群众解决农资采购、子女就学、就医报销等问题2100余件。",
            "县委组织部把党员联户情况纳入党员积分管理和民主评议党员内容，对群众评价差的党员"
            "由村党组织书记谈话提醒。",
        ),
        "2026-10-25",
        "党员联户 联系群众 农村党员",
    ),
    ExtraItem(
        "liangxin",
        "JC-LJ-JB",
        "jiangbei_xinxi",
        "jiangbei_shenhe",
        INFO,
        Kind.DYNAMIC.value,
        "江北区开展“两新”组织党建“百日攻坚”行动",
        (
            "10月中旬起，江北区在全区非公有制企业和社会组织中开展为期100天的党建“百日攻坚”行动。",
            "行动聚焦党组织覆盖和作用发挥，组建12个党建指导组，逐家走访规模以上企业和重点社会组织，"
            "对具备条件的单独建立党组织，暂不具备条件的通过联合组建、选派党建指导员等方式实现覆盖。",
            "截至11月上旬，全区新建“两新”组织党组织37个，选派党建指导员64名，"
            "“两新”组织党组织覆盖率提高到91%。",
        ),
        "2026-11-06",
        "两新组织 党建覆盖 百日攻坚",
    ),
    ExtraItem(
        "yigangdingxin",
        "JC-LJ-SM",
        "shimen_xinxi",
        "shimen_shenhe",
        INFO,
        Kind.EXPERIENCE.value,
        "石门县“以岗定酬”激发村干部干事热情",
        (
            "石门县改革村干部报酬制度，将村干部报酬分为基本报酬、绩效报酬和集体经济发展创收奖励"
            "三部分，绩效报酬占比提高到40%。",
            "绩效报酬按照“岗位职责＋年度目标”考核发放，由乡镇党委每季度考评一次，考评结果当场反馈。"
            "村集体经营性收入超过10万元的部分，按一定比例奖励村干部。",
            "改革后，全县村干部人均年报酬增长约15%，一批有能力的年轻人主动回村参加竞选。",
        ),
        "2026-11-09",
        "村干部报酬 绩效考核 激励",
    ),
    ExtraItem(
        "guapai",
        "JC-LJ-AP",
        "anping_xinxi",
        "anping_shenhe",
        INFO,
        Kind.DYNAMIC.value,
        "安平县集中清理规范村级组织挂牌和证明事项",
        (
            "近日，安平县对全县186个行政村的村级组织挂牌、证明事项开展集中清理规范。",
            "清理后，每村对外悬挂的牌子统一为村党组织、村民委员会、村务监督委员会、村集体经济组织"
            "4块，共摘除各类牌子1700余块；村级出具证明事项由38项精简为11项，并向社会公布清单。",
            "县委组织部会同县民政局建立村级组织工作事务准入制度，未经审核的事项一律不得派给村级组织。",
        ),
        "2026-11-18",
        "基层减负 挂牌 证明事项",
    ),
    ExtraItem(
        "shuwu",
        "JC-LJ-AP",
        "anping_tongxun",
        "anping_shenhe",
        NEWS,
        "",
        "安平县：农家书屋里的“微党课”",
        (
            "周六上午，城关镇杨柳村的农家书屋里坐满了人，村党支部书记正结合村里修路的事讲一堂"
            "十五分钟的“微党课”。",
            "今年以来，安平县依托全县186个农家书屋开设“微党课”讲堂，由村干部、老党员、返乡"
            "大学生轮流登台，讲政策、讲身边人身边事，累计开讲1100余场。",
            "“时间短、话实在，听得进去。”前来听课的村民说。",
        ),
        "2026-11-11",
        "微党课 农家书屋 党员教育",
    ),
    ExtraItem(
        "tianjian",
        "JC-LJ-QH",
        "qinghe_xinxi",
        "qinghe_shenhe",
        INFO,
        Kind.EXPERIENCE.value,
        "清河县办起“田间学校”培育高素质农民",
        (
            "清河县依托农业龙头企业、合作社和家庭农场，在全县建成“田间学校”28所，"
            "把课堂设在大棚里、果园中。",
            "学校由县农技人员和乡土人才任教，按照农时季节开设蔬菜种植、果树修剪、农产品电商等课程，"
            "学员学完即用、边学边干。今年以来累计培训农民4800余人次，260名学员取得高素质农民证书。",
            "县委组织部将优秀学员纳入村级后备力量人选，已有17名学员进入村“两委”班子。",
        ),
        "2026-11-08",
        "田间学校 高素质农民 人才培育",
    ),
    ExtraItem(
        "wangge",
        "JC-LJ-JB",
        "jiangbei_xinxi",
        "jiangbei_shenhe",
        INFO,
        Kind.DYNAMIC.value,
        "江北区完成新一轮社区网格优化调整",
        (
            "11月中旬，江北区完成新一轮社区网格优化调整，全区网格由680个调整为742个。",
            "调整按照“规模适度、边界清晰、便于管理”的原则，将新建住宅小区、商务楼宇单独划为网格，"
            "每个网格配备一名专职网格员，并明确网格党小组长。",
        ),
        "2026-11-19",
        "网格 社区治理 优化调整",
    ),
    ExtraItem(
        "zoudu",
        "JC-LJ-SM",
        "shimen_xinxi",
        "shimen_shenhe",
        INFO,
        Kind.PROBLEM.value,
        "山区乡镇干部“走读”现象值得关注",
        (
            "近期，石门县委组织部对全县14个乡镇干部在岗情况开展暗访，发现部分山区乡镇干部“走读”"
            "现象仍较突出。",
            "暗访的320名乡镇干部中，有57人工作日晚上不住在乡镇，个别干部每周在乡镇时间不足三天，"
            "群众晚上办事找不到人。",
            "县委组织部已对相关乡镇党委书记进行提醒谈话，下一步将改善乡镇干部周转房条件，"
            "并把在岗情况纳入平时考核。",
        ),
        "2026-11-15",
        "乡镇干部 走读 作风",
    ),
    ExtraItem(
        "leitai",
        "JC-QS-LQ",
        "longquan_xinxi",
        "longquan_shenhe",
        INFO,
        Kind.DYNAMIC.value,
        "龙泉县举办村党组织书记“擂台比武”",
        (
            "11月17日，龙泉县举办首届村党组织书记“擂台比武”，来自全县各乡镇的36名村党组织书记"
            "同台晒实绩、亮思路。",
            "比武设置“述发展”“答难题”“评成效”三个环节，由县乡干部、党员群众代表现场打分，"
            "评出“领头雁”10名，给予一次性奖励并优先推荐参加上级表彰。",
        ),
        "2026-11-17",
        "村党组织书记 擂台比武",
    ),
    ExtraItem(
        "gongxiang",
        "JC-QS-FM",
        "fengming_xinxi",
        "fengming_shenhe",
        INFO,
        Kind.EXPERIENCE.value,
        "凤鸣县“共享村干部”破解村级人才短缺难题",
        (
            "凤鸣县针对部分偏远村懂财务、会电商的村干部紧缺的问题，在乡镇范围内推行“共享村干部”。",
            "乡镇党委把有专长的村干部编入“共享库”，统一调配到相邻的2至3个村兼职服务，"
            "报酬由乡镇统筹。目前全县共有“共享村干部”54名，服务村192个。",
        ),
        "2026-11-12",
        "共享村干部 人才短缺 村级组织",
    ),
    ExtraItem(
        "qingling",
        "JC-BH-LL",
        "liulin_xinxi",
        "liulin_shenhe",
        INFO,
        Kind.DYNAMIC.value,
        "柳林县开展村级集体经济“清零”攻坚",
        (
            "柳林县对全县31个集体经济经营性收入为零的村开展“清零”攻坚。",
            "县委组织部会同县农业农村局逐村制定发展方案，每村安排扶持资金20万元，通过盘活闲置资产、"
            "发展特色种养、开展有偿服务等路子增加收入，力争年底前全部实现“清零”。",
        ),
        "2026-11-16",
        "集体经济 清零 攻坚",
    ),
    ExtraItem(
        "nianling",
        "JC-BH-NP",
        "nanping_xinxi",
        "nanping_shenhe",
        INFO,
        Kind.ANALYSIS.value,
        "关于南坪县基层党组织书记队伍年龄结构的分析",
        (
            "南坪县现有村（社区）党组织书记178名，平均年龄54.6岁，其中60岁以上的41名，占23%；"
            "40岁以下的仅19名，占10.7%。",
            "年龄结构偏大带来两方面问题：一是运用信息化手段开展工作的能力不足；二是部分书记"
            "“船到码头车到站”思想明显，干事劲头不足。",
            "建议结合明年村级组织调整，每个乡镇至少选配2名40岁以下的村党组织书记，"
            "并加大从优秀村党组织书记中考录乡镇公务员的力度。",
        ),
        "2026-11-10",
        "党组织书记 年龄结构 队伍建设",
    ),
]
EXTRA_TITLES = [spec.title for spec in EXTRA_ITEMS]


# What the editors write -------------------------------------------------------------------------

WITHDRAW_REASON = "原稿篇幅较长，误按全文采用，撤销后改为摘编采用。"

ZUTUAN_EXCERPT = (
    "<p>临江市安平县对排查出的11个软弱涣散村党组织实行“组团式”帮扶，每村由一名县级领导牵头，"
    "一个县直部门、一名第一书记、一名乡镇包村干部组成帮扶团队，驻村开展“一村一策”整顿，"
    "逐村分析问题、制定措施、限期销号。</p>"
    "<p>县委组织部每季度督导一次，对整顿不力的帮扶单位进行约谈。年内已有9个村完成整顿转化，"
    "村集体经济收入平均增长18%。</p>"
)

COMBINED_TITLE = "各地党建引领城市基层治理见实效"
COMBINED_BODY = (
    "<p>今年以来，各地坚持党建引领，推动城市基层治理重心下移、力量下沉，"
    "一批管用的做法在基层落地见效。</p>"
    "<p><strong>临江市江北区推行“社区合伙人”计划。</strong>引导辖区120家机关企事业单位、"
    "社会组织与社区结对，认领助老助残、儿童托管、环境整治等服务项目318个，"
    "并把履约情况纳入驻区单位党组织年度考核。</p>"
    "<p><strong>青山市翠屏区推行“街巷长制”。</strong>在全区312条街巷由街道干部担任街巷长，"
    "每天巡查不少于1次，能解决的问题当场解决，不能解决的上报街道统筹处理。</p>"
    "<p><strong>白河市河东区把党支部建在网格上。</strong>全区设立网格党支部216个，每月召开"
    "“网格议事会”分级分类化解矛盾纠纷，今年以来化解率达到96%，信访总量同比下降21%。</p>"
)

LIANGXIN_EXCERPT = (
    "<p>江北区在非公有制企业和社会组织中开展为期100天的党建“百日攻坚”行动，组建12个党建指导组"
    "逐家走访，具备条件的单独建立党组织，暂不具备条件的通过联合组建、选派党建指导员等方式实现覆盖。"
    "截至11月上旬，全区新建“两新”组织党组织37个，覆盖率提高到91%。</p>"
)

GUAPAI_EXCERPT = (
    "<p>安平县对全县186个行政村的挂牌和证明事项集中清理，每村对外挂牌统一为4块，摘除各类牌子"
    "1700余块；村级出具证明事项由38项精简为11项，并建立村级组织工作事务准入制度。</p>"
)

ISSUE_1_NOTE = (
    "今年以来，各县区聚焦抓基层、打基础，在整顿软弱涣散村党组织、推动城市基层治理、"
    "密切党群干群关系等方面探索了不少好做法。本期集中刊发三篇，供各地学习借鉴。"
)
ISSUE_3_NOTE = "基层减负要减到实处。本期刊发石门县、安平县的做法，请各县区结合实际抓好落实。"
PROVINCE_NOTE = (
    "城市基层治理是基层党建的重要阵地。本期综合刊发三个县区的做法，请各地结合实际学习借鉴。"
)

CORRECTION_REASON = "第1篇标题中“冬训”误印为“东训”，予以更正。"


# Loading ----------------------------------------------------------------------------------------

EDITORS = ["linjiang_bianji", "sheng_bianji", "sheng_bianji2", "qingshan_bianji", "baihe_bianji"]
# Acts of the handling story, one clock step each (tested: the story takes exactly these).
STEPS = 125


def _day(text: str) -> dt.date:
    """A date of the handling story: the day it happens on the demo clock (see
    baosong.lib.demo_clock), or the story's own date without one."""
    return demo_clock.today() or dt.date.fromisoformat(text)


def _instructed_on(text: str) -> dt.date:
    """An instruction's date in the demo story, but never after today (the workflow refuses it)."""
    return min(_day(text), timezone.localdate())


def _body(paragraphs: tuple[str, ...]) -> str:
    return "".join(f"<p>{text}</p>" for text in paragraphs)


def _stage_actor(item: Submission, spec: ExtraItem, people: dict[str, User]) -> User:
    """Who acts on the item's current stage in its unit's plan."""
    stage = item.stage or {}
    if stage.get("people"):
        return User.objects.get(pk=stage["people"][0])
    if stage.get("role") == Role.REVIEWER:
        return people[spec.reviewer]
    membership = (
        Membership.objects.current()
        .filter(unit=item.unit, role=stage.get("role"), user__is_active=True)
        .select_related("user")
        .order_by("user__username")
        .first()
    )
    if membership is None:
        raise ValidationError(f"{item.unit.short_name}的“{stage.get('name')}”环节没有办理人。")
    return membership.user


def _write_and_submit(
    spec: ExtraItem, units: dict[str, Unit], people: dict[str, User], tick: Callable[[], object]
) -> None:
    tick()
    item = items.create_draft(
        by=people[spec.writer],
        unit=units[spec.unit],
        data=DraftInput(
            item_type=spec.item_type,
            kind=spec.kind,
            title=spec.title,
            body=_body(spec.paragraphs),
            event_date=dt.date.fromisoformat(spec.event_date),
            keywords=spec.keywords,
        ),
    )
    tick()
    item = items.submit_for_review(by=people[spec.writer], item=item)
    while item.status == Status.IN_REVIEW:
        plan, index = item.stage_plan, item.stage_index
        comment = f"同意，报{plan[index + 1]['name']}。" if index + 1 < len(plan) else "同意报送。"
        tick()
        item = items.approve(by=_stage_actor(item, spec, people), item=item, comment=comment)


def _logins() -> set[str]:
    logins = set(EDITORS)
    for spec in EXTRA_ITEMS:
        logins.update((spec.writer, spec.reviewer))
    return logins


def load_demo_publications(plan: Plan | None = None) -> int:
    """Create the demo handling once, after the demo items; returns how many adoptions were made
    (0 when the demo publications exist already). With `plan`, on its handling day (see
    baosong.lib.demo_clock), otherwise now. Like the items, the demo sends no email."""
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        try:
            if plan is None:
                return _load(None)
            with plan.handling() as clock:
                return _load(clock)
        except (PermissionDenied, Http404, ObjectDoesNotExist, ValidationError) as exc:
            detail = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            raise ValidationError(
                f"演示稿件已被改动，未加载演示采用和刊物（{detail}）。要从头再来，停止服务后删除 "
                "var/baosong.sqlite3*，再运行 make run。"
            ) from exc


@transaction.atomic
def _load(clock: Clock | None) -> int:
    codes = {code for code, _, _, _ in PUBLICATIONS} | {spec.unit for spec in EXTRA_ITEMS}
    if Publication.objects.filter(unit__code__in=codes, name__in=PUBLICATION_NAMES).exists():
        return 0
    units = {unit.code: unit for unit in Unit.objects.filter(code__in=codes)}
    wanted = _logins()
    people = {user.username: user for user in User.objects.filter(username__in=wanted)}
    missing = sorted((wanted - set(people)) | (codes - set(units)))
    if missing:
        raise ValidationError(f"演示单位或人员不完整，未加载演示采用：缺少 {'、'.join(missing)}。")
    story = _Story(units, people, clock)
    for spec in EXTRA_ITEMS:
        _write_and_submit(spec, units, people, story.tick)
    story.forwards(story.city())
    story.province()
    return Adoption.objects.filter(publication__in=story.publications.values()).count()


class _Story:
    """The handling, in the order it happened."""

    def __init__(
        self, units: dict[str, Unit], people: dict[str, User], clock: Clock | None
    ) -> None:
        self.units, self.people = units, people
        self.clock = clock
        self.publications: dict[str, Publication] = {}
        for code, name, kind, distribution in PUBLICATIONS:
            editor = people["linjiang_bianji" if code == LJ else "sheng_bianji"]
            self.tick()
            self.publications[name] = workflow.create_publication(
                by=editor, unit=units[code], name=name, kind=kind, distribution=distribution
            )

    def tick(self) -> None:
        """The next act of the handling day (see baosong.lib.demo_clock)."""
        if self.clock is not None:
            self.clock.step()

    def item(self, ref: tuple[str, str]) -> Submission:
        return Submission.objects.get(unit__code=ref[0], title=ref[1])

    def extra(self, key: str) -> Submission:
        spec = next(spec for spec in EXTRA_ITEMS if spec.key == key)
        return self.item((spec.unit, spec.title))

    def opened(self, login: str, item: Submission) -> Submission:
        self.tick()
        items.mark_opened(by=self.people[login], item=item)
        return item

    def whole(
        self,
        login: str,
        item: Submission,
        name: str,
        issue: Issue | None,
        *,
        title: str = "",
        is_lead: bool = False,
        published_url: str = "",
        published_on: dt.date | None = None,
    ) -> Adoption:
        self.tick()
        return workflow.adopt(
            by=self.people[login],
            sources=[SourceInput(item)],
            publication=self.publications[name],
            form=AdoptionForm.WHOLE,
            title=title or item.title,
            issue=issue,
            is_lead=is_lead,
            published_url=published_url,
            published_on=published_on,
        )

    def excerpt(
        self,
        login: str,
        item: Submission,
        name: str,
        issue: Issue,
        title: str,
        body: str,
        *,
        is_lead: bool = False,
    ) -> Adoption:
        self.tick()
        return workflow.adopt(
            by=self.people[login],
            sources=[SourceInput(item)],
            publication=self.publications[name],
            form=AdoptionForm.EXCERPT,
            title=title,
            body=body,
            issue=issue,
            is_lead=is_lead,
        )

    def compose(self, issue: Issue, note: str) -> Issue:
        self.tick()
        return workflow.update_issue(
            by=issue.created_by,
            issue=issue,
            issue_date=issue.issue_date,
            editor_note=note,
            show_toc=True,
            distribution=issue.distribution,
        )

    # 临江市委组织部 -------------------------------------------------------------------------------

    def city(self) -> Issue:
        """The city's handling; returns its journal's first issue (the forwards name it)."""
        ed = "linjiang_bianji"
        editor = self.people[ed]
        journal = self.publications["临江组工信息"]
        zutuan, hehuoren = self.opened(ed, self.item(ZUTUAN)), self.opened(ed, self.item(HEHUOREN))
        lianhu = self.opened(ed, self.extra("lianhu"))

        # 第1期: three items, the lead moved to the top, an editor's note, published.
        self.tick()
        first = workflow.create_issue(by=editor, publication=journal, issue_date=_day("2026-11-06"))
        placed = [
            self.whole(ed, hehuoren, "临江组工信息", first),
            self.whole(ed, lianhu, "临江组工信息", first),
            self.whole(ed, zutuan, "临江组工信息", first, is_lead=True),
        ]
        self.tick()
        workflow.reorder_issue(
            by=editor, issue=first, adoption_ids=[placed[2].pk, placed[0].pk, placed[1].pk]
        )
        self.tick()
        workflow.publish_issue(by=editor, issue=self.compose(first, ISSUE_1_NOTE))
        self.tick()
        workflow.add_instruction(
            by=editor,
            adoption=placed[2],
            data=InstructionInput(
                leader_name="周明德",
                leader_position="市委书记",
                level=LeaderLevel.CITY,
                text="安平县的做法很实在，请市委组织部督促各县区对照抓好后进村整顿转化。",
                instructed_on=_instructed_on("2026-11-09"),
                is_principal=True,
            ),
        )

        # 公众号: a news item, and one item of 第1期 again (one item, several publications).
        shuwu = self.opened(ed, self.extra("shuwu"))
        self.whole(
            ed,
            shuwu,
            "临江组工",
            None,
            published_url=f"https://mp.jc.example/linjiang/{_day('2026-11-12'):%Y/%m/%d}/weidangke.html",
            published_on=_day("2026-11-12"),
        )
        self.whole(
            ed,
            hehuoren,
            "临江组工",
            None,
            title="社区有了“合伙人”，服务项目认领318个",
            published_url=f"https://mp.jc.example/linjiang/{_day('2026-11-08'):%Y/%m/%d}/hehuoren.html",
            published_on=_day("2026-11-08"),
        )

        # 第2期: published with a typo in a title, then corrected as revision 2.
        dongxun, liangxin = self.item(DONGXUN), self.opened(ed, self.extra("liangxin"))
        self.tick()
        second = workflow.create_issue(
            by=editor, publication=journal, issue_date=_day("2026-11-20")
        )
        typo = self.whole(
            ed, dongxun, "临江组工信息", second, title="石门县启动2026—2027年度农村党员东训"
        )
        self.excerpt(
            ed,
            liangxin,
            "临江组工信息",
            second,
            "江北区“百日攻坚”扩大“两新”组织党建覆盖",
            LIANGXIN_EXCERPT,
        )
        self.tick()
        workflow.publish_issue(by=editor, issue=second)
        self.tick()
        workflow.start_correction(by=editor, issue=second, reason=CORRECTION_REASON)
        self.tick()
        workflow.edit_adopted_text(
            by=editor, adoption=typo, title=dongxun.title, body=typo.body, is_lead=False
        )
        self.tick()
        workflow.publish_issue(by=editor, issue=second)

        # 第3期: being composed, not published.
        self.tick()
        third = workflow.create_issue(by=editor, publication=journal, issue_date=_day("2026-11-27"))
        yigang = self.opened(ed, self.extra("yigangdingxin"))
        guapai = self.opened(ed, self.extra("guapai"))
        self.whole(ed, yigang, "临江组工信息", third, is_lead=True)
        # 撤销采用: first taken whole by mistake, then taken back and used as an excerpt.
        mistaken = self.whole(ed, guapai, "临江组工信息", third)
        self.tick()
        workflow.withdraw_adoption(by=editor, adoption=mistaken, reason=WITHDRAW_REASON)
        self.excerpt(
            ed,
            guapai,
            "临江组工信息",
            third,
            "安平县清理规范村级挂牌和证明事项",
            GUAPAI_EXCERPT,
        )
        self.compose(third, ISSUE_3_NOTE)

        # 仅供参考, 退回, 认领.
        self.tick()
        workflow.keep_for_reference(
            by=editor,
            item=self.opened(ed, self.item(RENCAI_REPORT)),
            comment="专报已同时报送省委组织部，由省里统一处理，市里留存参考。",
        )
        self.tick()
        workflow.return_to_origin(
            by=editor,
            item=self.opened(ed, self.item(ZHIDAOYUAN)),
            comment="请补充指导员到村后开展工作的具体事例和初步成效，并核实到村到岗的时间后再报。",
        )
        self.tick()
        workflow.claim(by=editor, item=self.opened(ed, self.extra("zoudu")))
        return first

    def forwards(self, first: Issue) -> None:
        city = self.people["linjiang_bianji"]
        self.tick()
        workflow.forward(
            by=city,
            item=self.item(ZUTUAN),
            comment=f"已在《临江组工信息》{first.year}年第1期头条刊发，市委书记作了批示，"
            "报省委组织部参阅。",
        )
        self.tick()
        workflow.forward(
            by=city,
            item=self.item(HEHUOREN),
            comment=f"已在《临江组工信息》{first.year}年第1期刊发，报省委组织部参阅。",
        )
        self.tick()
        workflow.forward(
            by=city,
            item=self.opened("linjiang_bianji", self.extra("tianjian")),
            comment="清河县的做法有推广价值，建议省委组织部参阅。",
        )
        self.tick()
        workflow.forward(
            by=self.people["qingshan_bianji"],
            item=self.opened("qingshan_bianji", self.item(JIEXIANG)),
            comment="翠屏区做法较成熟，报省委组织部参阅。",
        )
        self.tick()
        workflow.forward(
            by=self.people["baihe_bianji"],
            item=self.item(WANGGE),
            comment="河东区网格党建经验，报省委组织部参阅。",
        )

    # 江川省委组织部 -------------------------------------------------------------------------------

    def province(self) -> None:
        ed = "sheng_bianji"
        editor = self.people[ed]

        # 《组工专报》: the 临江 lead item as an excerpt; the 省委书记 instructed on it.
        zutuan = self.opened(ed, self.item(ZUTUAN))
        self.tick()
        special = workflow.create_issue(
            by=editor, publication=self.publications["组工专报"], issue_date=_day("2026-11-18")
        )
        excerpt = self.excerpt(
            ed,
            zutuan,
            "组工专报",
            special,
            "安平县“组团式”帮扶推动软弱涣散村党组织整顿见效",
            ZUTUAN_EXCERPT,
            is_lead=True,
        )
        self.tick()
        workflow.publish_issue(by=editor, issue=special)
        self.tick()
        workflow.add_instruction(
            by=editor,
            adoption=excerpt,
            data=InstructionInput(
                leader_name="高立群",
                leader_position="省委书记",
                level=LeaderLevel.PROVINCE,
                text="安平县整顿软弱涣散村党组织的做法抓得实、见效快。请省委组织部总结推广，"
                "推动各地以“组团式”帮扶加快后进村转化提升。",
                instructed_on=_instructed_on("2026-11-21"),
                is_principal=True,
            ),
        )

        # 《江川组工信息》第1期: a combined piece from three districts (lead) and a 研判 whole.
        self.tick()
        journal = workflow.create_issue(
            by=editor,
            publication=self.publications["江川组工信息"],
            issue_date=_day("2026-11-20"),
        )
        sources = [
            SourceInput(self.opened(ed, self.item(HEHUOREN)), 40, True),
            SourceInput(self.opened(ed, self.item(JIEXIANG)), 30),
            SourceInput(self.opened(ed, self.item(WANGGE)), 30),
        ]
        self.tick()
        workflow.adopt(
            by=editor,
            sources=sources,
            publication=self.publications["江川组工信息"],
            issue=journal,
            form=AdoptionForm.COMBINED,
            title=COMBINED_TITLE,
            body=COMBINED_BODY,
            is_lead=True,
        )
        self.whole(ed, self.item(MIAOTOU), "江川组工信息", journal)
        self.tick()
        workflow.publish_issue(by=editor, issue=self.compose(journal, PROVINCE_NOTE))

        # 江川组工网: a news item, with its address and date.
        self.whole(
            ed,
            self.opened(ed, self.item(YESHI)),
            "江川组工网",
            None,
            published_url=f"https://zgw.jc.example/dfdt/{_day('2026-11-19'):%Y%m/t%Y%m%d}_3046.html",
            published_on=_day("2026-11-19"),
        )

        # The second editor is working on the 专报 addressed straight to the province.
        colleague = "sheng_bianji2"
        self.tick()
        workflow.claim(
            by=self.people[colleague], item=self.opened(colleague, self.item(RENCAI_REPORT))
        )
