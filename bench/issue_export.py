"""Issue export benchmark: a 30-item issue composed and exported to .docx in the official layout.

Builds in an in-memory SQLite database (through the real workflow) one city with two counties,
30 submitted items of 800-1,500 characters (a few paragraphs and a heading each), adopts them
into one journal issue, then times over 20 runs: reading the issue (its snapshot), building the
.docx, the whole `issue_docx(issue)`, and setting the issue's order (reorder_issue). The floor is
python-docx alone writing a bare document with the same number of paragraphs and no styling.
Target: issue_docx under 500 ms at the 95th percentile.
"""

import datetime as dt
import io
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = "sqlite://:memory:"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "baosong.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from docx import Document  # noqa: E402

from baosong.orgs import workflow as orgs  # noqa: E402
from baosong.orgs.models import Level, Role, Unit, User  # noqa: E402
from baosong.publications import exports  # noqa: E402
from baosong.publications import workflow as publications  # noqa: E402
from baosong.publications.models import AdoptionForm, Issue, PublicationKind  # noqa: E402
from baosong.publications.workflow import SourceInput, issue_snapshot  # noqa: E402
from baosong.submissions import workflow as items  # noqa: E402
from baosong.submissions.workflow import DraftInput  # noqa: E402

ITEMS = 30
RUNS = 20
TARGET_MS = 500
SEED = 20261120

SENTENCES = [
    "今年以来，县委组织部坚持把党建引领贯穿基层治理全过程，推动组织优势转化为治理效能",
    "全县选派第一书记和驻村工作队员一百二十名，实现脱贫村、软弱涣散村全覆盖",
    "聚焦村级组织换届后的能力提升，分层分类开展村干部轮训，累计培训二千三百余人次",
    "建立“村事村办、难事联办”工作机制，推动一批群众急难愁盼问题就地解决",
    "探索推行党员积分制管理，将志愿服务、政策宣讲、矛盾调解等纳入积分内容",
    "坚持把发展壮大村级集体经济作为重要抓手，培育特色产业项目三十八个",
    "各乡镇党委书记带头领办基层党建项目，形成一批可复制、可推广的经验做法",
    "注重从返乡创业青年、致富带头人中发展党员，优化党员队伍结构",
    "下一步，将持续深化抓党建促乡村振兴，不断夯实党在农村的执政基础",
    "通过“支部+合作社+农户”模式，带动周边群众户均增收四千余元",
]
HEADINGS = ["一、强化政治引领", "二、建强基层组织", "三、激发内生动力", "四、健全长效机制"]


def body(rng: random.Random) -> str:
    """800-1,500 characters: a lead paragraph, a heading, then three to five paragraphs."""
    target = rng.randint(800, 1500)
    paragraphs: list[str] = []
    length = 0
    while length < target:
        text = "；".join(rng.sample(SENTENCES, rng.randint(2, 4))) + "。"
        if len(paragraphs) == 2 and rng.random() < 0.5:
            text = f"<strong>{text[:20]}</strong>{text[20:]}"
        paragraphs.append(f"<p>{text}</p>")
        length += len(text)
    paragraphs.insert(1, f"<h2>{rng.choice(HEADINGS)}</h2>")
    return "".join(paragraphs)


def build() -> Issue:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)

    def unit(parent: Unit | None, code: str, level: str, name: str) -> Unit:
        return orgs.create_unit(
            by=None, parent=parent, code=code, name=name, short_name=name, level=level
        )

    def person(username: str, where: Unit, role: str) -> User:
        return orgs.create_person(
            by=None,
            username=username,
            real_name=username,
            password="Bench-Pass-2026!",
            unit=where,
            role=role,
        )

    province = unit(None, "P", Level.PROVINCE, "江川省委组织部")
    city = unit(province, "C", Level.CITY, "临江市委组织部")
    counties = [
        unit(city, "C1", Level.COUNTY, "安平县委组织部"),
        unit(city, "C2", Level.COUNTY, "青石县委组织部"),
    ]
    editor = person("editor", city, Role.EDITOR)
    writers = [
        (person(f"officer{i}", c, Role.OFFICER), person(f"reviewer{i}", c, Role.REVIEWER))
        for i, c in enumerate(counties)
    ]
    journal = publications.create_publication(
        by=editor,
        unit=city,
        name="临江组工信息",
        kind=PublicationKind.JOURNAL,
        masthead="中共临江市委组织部",
        distribution="报：省委组织部\n送：市委各部门\n发：各县（区）委组织部",
    )
    issue = publications.create_issue(
        by=editor, publication=journal, issue_date=dt.date(2026, 11, 20)
    )
    for n in range(ITEMS):
        officer, reviewer = writers[n % 2]
        title = f"{counties[n % 2].short_name}抓党建促乡村振兴工作纪实之{n + 1}"
        item = items.create_draft(
            by=officer,
            unit=counties[n % 2],
            data=DraftInput(item_type="info", kind="experience", title=title, body=body(rng)),
        )
        items.submit_for_review(by=officer, item=item)
        for _ in range(3):
            items.approve(by=reviewer, item=item)
        publications.adopt(
            by=editor,
            sources=[SourceInput(item)],
            publication=journal,
            form=AdoptionForm.WHOLE,
            title=title,
            is_lead=n == 0,
            issue=issue,
        )
    publications.update_issue(
        by=editor,
        issue=issue,
        issue_date=issue.issue_date,
        editor_note="本期集中刊发各县抓党建促乡村振兴的做法，供学习借鉴。",
        show_toc=True,
        distribution=issue.distribution,
    )
    return issue


def measure(fn: Callable[[], object], runs: int = RUNS) -> tuple[float, float]:
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    started = time.perf_counter()
    issue = build()
    editor = User.objects.get(username="editor")
    print(f"built a {ITEMS}-item issue in {time.perf_counter() - started:.1f} s")

    def fresh() -> Issue:
        return Issue.objects.select_related("publication__unit").get(pk=issue.pk)

    snapshot = issue_snapshot(fresh())
    chars = sum(len(i["body"]) for i in snapshot["items"])
    data = exports.issue_docx(fresh())
    paragraphs = len(Document(io.BytesIO(data)).paragraphs)
    print(
        f"{ITEMS} items, {chars:,} characters of HTML, {paragraphs} paragraphs, "
        f".docx {len(data) / 1024:.0f} KiB"
    )

    def floor() -> bytes:
        document = Document()
        for n in range(paragraphs):
            document.add_paragraph(f"第{n}段")
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()

    order = list(issue.adoptions.order_by("position").values_list("pk", flat=True))

    def reorder() -> None:
        order.reverse()
        publications.reorder_issue(by=editor, issue=issue, adoption_ids=order)

    def compose_and_export() -> bytes:
        reorder()
        return exports.issue_docx(fresh())

    bulletin = exports.bulletin_from_snapshot(snapshot, masthead="中共临江市委组织部")
    rows = [
        ("floor: python-docx, bare paragraphs", measure(floor)),
        ("read the issue (snapshot, DB)", measure(lambda: issue_snapshot(fresh()))),
        ("build the .docx from the snapshot", measure(lambda: exports.bulletin_docx(bulletin))),
        ("issue_docx(issue): read + build", measure(lambda: exports.issue_docx(fresh()))),
        ("compose: reorder_issue (30 items)", measure(reorder)),
        ("compose + export", measure(compose_and_export)),
    ]
    floor_p95 = rows[0][1][1]
    print(f"\n{'step':40} {'p50 ms':>8} {'p95 ms':>8} {'p95/floor':>10}")
    for name, (p50, p95) in rows:
        print(f"{name:40} {p50:8.1f} {p95:8.1f} {p95 / floor_p95:10.1f}")
    p95 = rows[-1][1][1]
    verdict = "met" if p95 < TARGET_MS else "MISSED"
    print(f"\ntarget: compose + export under {TARGET_MS} ms at p95 — {verdict} ({p95:.0f} ms)")


if __name__ == "__main__":
    main()
