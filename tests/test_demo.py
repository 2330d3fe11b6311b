"""The demo province: `load_demo` builds it through the workflow, once, and its logins work."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

import docx
import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from baosong.audit.models import Event
from baosong.orgs import workflow
from baosong.orgs.demo import (
    DEFAULT_PASSWORD,
    MAIN_LOGINS,
    PASSWORD_ENV,
    PEOPLE,
    UNITS,
    load_demo,
    person_spec,
)
from baosong.orgs.models import Level, Membership, PlatformRole, Role, Unit, User
from baosong.publications import workflow as handling
from baosong.publications.demo import CORRECTION_REASON, EXTRA_ITEMS, load_demo_publications
from baosong.publications.exports import issue_docx
from baosong.publications.models import (
    Action,
    Adoption,
    AdoptionSource,
    Instruction,
    Issue,
    IssueRevision,
    Publication,
)
from baosong.publications.models import Event as HandlingEvent
from baosong.scoring.models import Circular
from baosong.submissions import selectors
from baosong.submissions.demo import ITEMS, load_demo_items
from baosong.submissions.models import (
    Addressee,
    Author,
    EventAction,
    Handling,
    StageConfig,
    Status,
    Submission,
    Version,
    VersionSource,
)
from baosong.submissions.models import Event as ItemEvent

DOCS = Path(__file__).resolve().parent.parent / "docs" / "demo.md"
CHINESE_NAME = re.compile(r"^[\u4e00-\u9fff]{2,3}$")

# The card each kind of account sees on its home page (ids in orgs/home.html).
HOME_CARD: dict[str, str] = {
    PlatformRole.SYSTEM_ADMIN: 'id="unit-tree"',
    PlatformRole.SECURITY_ADMIN: 'id="accounts"',
    PlatformRole.AUDIT_ADMIN: 'id="recent-events"',
    Role.UNIT_ADMIN: 'id="unit-tree"',
    Role.EDITOR: 'id="inbox"',
    Role.REVIEWER: 'id="review-queue"',
    Role.OFFICER: 'id="my-drafts"',
    Role.CORRESPONDENT: 'id="my-drafts"',
}


@pytest.fixture(autouse=True)
def default_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)


def _load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def _counts() -> tuple[int, ...]:
    return (
        Unit.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        Event.objects.count(),
        Submission.objects.count(),
        Version.objects.count(),
        ItemEvent.objects.count(),
    )


def test_loading_the_demo_builds_the_province_with_its_cities_counties_and_townships(
    db: None,
) -> None:
    output = _load()

    posts = sum(len(person.posts) for person in PEOPLE)
    assert output.strip() == (
        f"演示数据已加载：新建单位 {len(UNITS)} 个，人员 {len(PEOPLE)} 名，任职 {posts} 条，"
        f"稿件 {len(ITEMS)} 篇，采用 {Adoption.objects.count()} 篇，"
        f"通报 {Circular.objects.count()} 份。"
    )
    levels = {level: Unit.objects.filter(level=level).count() for level in Level.values}
    assert levels[Level.PROVINCE] == 1
    assert levels[Level.CITY] == 3
    assert levels[Level.COUNTY] == 12
    assert levels[Level.TOWNSHIP] >= 3
    assert levels[Level.INTERNAL] >= 6
    assert levels[Level.CENTRAL] == 0
    province = Unit.objects.get(code="JC")
    assert province.name == "中共江川省委组织部"
    assert Unit.objects.get(code="JC-XXDY").parent == province
    assert Unit.objects.get(code="JC-LJ-AP").parent == Unit.objects.get(code="JC-LJ")
    assert Unit.objects.get(code="JC-LJ-AP-01").short_name == "城关镇党委"
    for unit in Unit.objects.all():
        assert re.fullmatch(r"[A-Z0-9-]{1,32}", unit.code)
        assert unit.path.startswith(province.path)
        assert unit.is_active
    created = Event.objects.filter(action="unit.create")
    assert created.count() == Unit.objects.count()
    assert set(created.values_list("actor_login", flat=True)) == {"system"}


def test_loading_the_demo_creates_about_sixty_people_in_every_role_and_state(db: None) -> None:
    load_demo(DEFAULT_PASSWORD)

    assert 55 <= User.objects.count() <= 70
    for platform_role in [PlatformRole.SYSTEM_ADMIN, PlatformRole.SECURITY_ADMIN]:
        assert User.objects.filter(platform_role=platform_role).count() == 1
    assert User.objects.get(platform_role=PlatformRole.AUDIT_ADMIN).username == "auditor"
    assert User.objects.get(platform_role=PlatformRole.SYSTEM_ADMIN).username == "sysadmin"
    assert User.objects.get(platform_role=PlatformRole.SECURITY_ADMIN).username == "secadmin"
    assert not Membership.objects.filter(user__platform_role__gt="").exists()
    current = Membership.objects.current()
    assert set(current.values_list("role", flat=True)) == set(Role.values)
    assert current.filter(role=Role.EDITOR, unit__code="JC").exists()
    for city in ["JC-LJ", "JC-QS", "JC-BH"]:
        assert current.filter(role=Role.EDITOR, unit__code=city).exists()
        assert current.filter(role=Role.UNIT_ADMIN, unit__code=city).exists()
    assert current.filter(role=Role.OFFICER, unit__level=Level.TOWNSHIP).count() >= 2
    names = list(User.objects.values_list("real_name", flat=True))
    assert all(CHINESE_NAME.match(name) for name in names), names
    assert len(set(names)) == len(names)
    for person in User.objects.all():
        assert re.fullmatch(r"1[358]\d{9}", person.mobile)
        assert person.email == f"{person.username}@jc.example"


def test_the_demo_shows_two_units_an_ended_role_and_a_deactivated_account(db: None) -> None:
    load_demo(DEFAULT_PASSWORD)

    two_units = User.objects.get(username="jiangbei_xinxi")
    assert set(
        Membership.objects.current().filter(user=two_units).values_list("unit__code", flat=True)
    ) == {"JC-LJ-JB", "JC-LJ"}
    moved = User.objects.get(username="linjiang_shenhe")
    ended = Membership.objects.get(user=moved, unit__code="JC-LJ-AP")
    assert (ended.role, str(ended.end)) == (Role.OFFICER, "2025-08-31")
    assert Membership.objects.current().get(user=moved).unit.code == "JC-LJ"
    assert Event.objects.filter(action="membership.end", object_id=str(ended.pk)).exists()
    gone = User.objects.get(username="shimen_tongxun")
    assert not gone.is_active
    assert not Membership.objects.current().filter(user=gone).exists()
    assert Event.objects.get(action="person.deactivate").object_id == str(gone.pk)


def test_a_second_run_creates_nothing_and_says_so(db: None) -> None:
    _load()
    before = _counts()

    output = _load()

    assert output.strip() == "演示数据已存在，未做更改。"
    assert _counts() == before


def test_units_and_logins_that_already_exist_are_left_alone(db: None) -> None:
    province = workflow.create_unit(
        by=None,
        parent=None,
        code="JC",
        name="江川省委组织部（已有）",
        short_name="江川",
        level=Level.PROVINCE,
    )
    workflow.create_person(by=None, username="sheng_bianji", real_name="既有人员", password=None)

    result = load_demo(DEFAULT_PASSWORD)

    assert (result.units_created, result.people_created) == (len(UNITS) - 1, len(PEOPLE) - 1)
    province.refresh_from_db()
    assert province.name == "江川省委组织部（已有）"
    assert Unit.objects.get(code="JC-LJ").parent == province
    existing = User.objects.get(username="sheng_bianji")
    assert existing.real_name == "既有人员"
    assert not existing.memberships.exists()


def test_each_main_demo_login_signs_in_with_the_demo_password_and_sees_its_home_card(
    db: None,
) -> None:
    load_demo(DEFAULT_PASSWORD)

    for login in MAIN_LOGINS:
        spec = person_spec(login)
        client = Client()
        response = client.post("/login/", {"username": login, "password": DEFAULT_PASSWORD})
        assert response.status_code == 302, login
        home = client.get("/")
        assert home.status_code == 200, login
        page = home.content.decode()
        assert spec.name in page
        roles = (
            [spec.platform_role]
            if spec.platform_role
            else [p.role for p in spec.posts if p.end is None]
        )
        for role in roles:
            assert HOME_CARD[role] in page, (login, role)


def test_the_deactivated_demo_account_cannot_sign_in(db: None) -> None:
    load_demo(DEFAULT_PASSWORD)

    response = Client().post(
        "/login/", {"username": "shimen_tongxun", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 200
    assert "登录名或密码不正确" in response.content.decode()


def test_the_demo_password_can_be_overridden_by_the_environment(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "Jiangchuan-Trial-88")

    _load()

    user = User.objects.get(username="sheng_bianji")
    assert user.check_password("Jiangchuan-Trial-88")
    assert not user.check_password(DEFAULT_PASSWORD)
    out = StringIO()
    call_command("demo_accounts", stdout=out)
    assert "演示密码：Jiangchuan-Trial-88" in out.getvalue()
    assert "不一致" not in out.getvalue()


def test_a_weak_override_password_is_refused_before_anything_is_created(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "12345678")

    with pytest.raises(CommandError, match="演示密码不符合密码规则"):
        _load()

    assert _counts() == (0, 0, 0, 0, 0, 0, 0)


def test_demo_accounts_prints_the_address_the_password_and_the_main_logins(db: None) -> None:
    load_demo(DEFAULT_PASSWORD)
    out = StringIO()

    call_command("demo_accounts", stdout=out)

    text = out.getvalue()
    assert "http://127.0.0.1:8000" in text
    assert f"演示密码：{DEFAULT_PASSWORD}" in text
    for login in MAIN_LOGINS:
        assert login in text
    assert "林晓燕" in text
    assert "不一致" not in text


def test_demo_accounts_warns_when_the_password_no_longer_matches(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_demo(DEFAULT_PASSWORD)
    monkeypatch.setenv(PASSWORD_ENV, "Another-Demo-2026")
    out = StringIO()

    call_command("demo_accounts", stdout=out)

    assert "sheng_bianji 的密码与上面的演示密码不一致" in out.getvalue()


def test_demo_accounts_before_loading_says_how_to_load(db: None) -> None:
    out = StringIO()

    call_command("demo_accounts", stdout=out)

    assert "python manage.py load_demo" in out.getvalue()


def test_the_demo_guide_lists_the_password_and_every_demo_account() -> None:
    text = DOCS.read_text(encoding="utf-8")

    assert DEFAULT_PASSWORD in text
    assert PASSWORD_ENV in text
    for person in PEOPLE:
        assert f"`{person.login}`" in text, person.login
        assert person.name in text, person.login
    for unit in UNITS:
        assert unit.code in text, unit.code


# Demo items ---------------------------------------------------------------------------------------

# Reviewers the demo items wait for, and what each one's queue holds at least.
DEMO_QUEUES: dict[str, int] = {
    "anping_shenhe": 3,
    "linjiang_shenhe": 1,
    "linjiang_bianji": 1,
    "linjiang_admin": 1,
    "jiangbei_shenhe": 2,
    "qinghe_shenhe": 1,
    "shimen_shenhe": 1,
    "cuiping_shenhe": 2,
    "taoyuan_shenhe": 1,
    "hedong_shenhe": 1,
}


def _demo_client(login: str) -> Client:
    client = Client()
    response = client.post("/login/", {"username": login, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, login
    return client


def test_the_demo_items_exist_in_every_state_written_by_the_demo_people(
    db: None, mailoutbox: list[Any]
) -> None:
    _load()

    items = Submission.objects.filter(title__in=[spec.title for spec in ITEMS])
    assert items.count() == len(ITEMS) >= 40
    by_status = {s: items.filter(status=s).count() for s in Status.values}
    assert all(n >= 3 for n in by_status.values()), by_status
    assert {spec.item_type for spec in ITEMS} == {"info", "news", "special"}
    assert set(items.exclude(kind="").values_list("kind", flat=True)) == {
        "dynamic",
        "experience",
        "problem",
        "analysis",
    }
    assert items.values("unit").distinct().count() >= 10
    for item in items:
        assert "<p>" in item.body and item.keywords
        assert item.event_date is not None
        assert (item.event_date.year, item.event_date.month) in {(2026, 10), (2026, 11)}
        first = item.events.first()
        assert first is not None and first.action == EventAction.CREATE
        assert first.by.username == next(s.writer for s in ITEMS if s.title == item.title)
    # Every change left an audit event by a real demo person, none by the platform (the upper
    # units' handling of these items is audited as publication.* events).
    item_audit = Event.objects.filter(
        object_type="submission",
        object_id__in=[str(pk) for pk in items.values_list("pk", flat=True)],
    ).exclude(action__startswith="publication.")
    assert item_audit.count() == ItemEvent.objects.filter(submission__in=items).count()
    assert not item_audit.filter(actor_login="system").exists()
    # The demo sends no email (the console would fill up); in-app notifications are there.
    assert mailoutbox == []
    tongxun = User.objects.get(username="anping_tongxun")
    assert selectors.nav_counts(tongxun)["returned"] == 1
    assert tongxun.notifications.filter(kind="returned").exists()


def test_the_demo_items_show_versions_returns_rejections_withdrawals_and_opening(db: None) -> None:
    _load()

    several = Submission.objects.filter(status=Status.DRAFT, version_number__gte=3)
    assert several.exists()
    assert Version.objects.filter(source=VersionSource.AUTOSAVE).exists()
    returned = ItemEvent.objects.filter(action=EventAction.RETURN)
    assert returned.count() >= 4
    for event in returned:
        assert event.version_number is not None
        version = Version.objects.get(submission=event.submission, number=event.version_number)
        assert event.anchor and event.anchor in version.body and event.comment
    revised = Submission.objects.get(title="安平县“组团式”帮扶推动软弱涣散村党组织转化提升")
    assert revised.status == Status.SUBMITTED
    assert "效果非常明显" not in revised.body and "9个村" in revised.body
    assert [e.action for e in revised.events.all()].count(EventAction.SUBMIT_FOR_REVIEW) == 2
    assert ItemEvent.objects.filter(action=EventAction.REJECT).exclude(comment="").count() >= 3
    withdrawn = ItemEvent.objects.filter(action=EventAction.WITHDRAW)
    assert {e.from_status for e in withdrawn} == {Status.IN_REVIEW, Status.SUBMITTED}
    assert all(e.submission.status == Status.DRAFT for e in withdrawn)
    submitted = Addressee.objects.filter(submission__status=Status.SUBMITTED)
    assert submitted.filter(opened_at__isnull=False, unit__code="JC-LJ").exists()
    assert submitted.filter(opened_at__isnull=True, unit__code="JC-LJ").exists()
    assert submitted.filter(unit__code="JC").count() >= 3


def test_the_city_reviews_in_its_own_stages_and_its_proofreader_edited_the_text(
    db: None,
) -> None:
    _load()

    stages = StageConfig.objects.filter(unit__code="JC-LJ", item_type="")
    assert [(s.name, s.role, s.can_edit) for s in stages] == [
        ("初审", Role.REVIEWER, False),
        ("校对", Role.REVIEWER, True),
        ("终审", Role.UNIT_ADMIN, False),
    ]
    assert [p.username for p in stages[1].people.all()] == ["linjiang_bianji"]
    assert Event.objects.filter(action="review_stages.set", actor_login="linjiang_admin").exists()
    edited = Version.objects.filter(source=VersionSource.REVIEW_EDIT)
    assert edited.count() >= 2
    assert {v.created_by.username for v in edited} == {"linjiang_bianji"}
    report = Submission.objects.get(title="关于临江市年轻干部队伍建设情况的调研报告")
    assert report.status == Status.IN_REVIEW and report.stage is not None
    assert report.stage["name"] == "终审"
    assert "从校门到机关门" in report.body
    assert report.events.filter(action=EventAction.REVIEW_EDIT).exists()


def test_every_demo_items_author_shares_sum_to_100(db: None) -> None:
    _load()

    items = Submission.objects.filter(title__in=[spec.title for spec in ITEMS])
    for item in items:
        shares = list(Author.objects.filter(submission=item).values_list("share", flat=True))
        assert sum(shares) == 100, item.title
    assert Author.objects.filter(submission__in=items, share=40).count() >= 3
    assert Author.objects.filter(submission__in=items, share=60).count() >= 2


def test_each_demo_reviewer_has_work_waiting_in_the_queue(db: None) -> None:
    _load()

    for login, at_least in DEMO_QUEUES.items():
        user = User.objects.get(username=login)
        assert selectors.review_queue(user).count() >= at_least, login
    page = _demo_client("anping_shenhe").get("/review/").content.decode()
    assert "部分村级后备干部培养存在“断档”现象" in page
    inbox = _demo_client("linjiang_bianji").get("/inbox/").content.decode()
    assert "安平县完成村（社区）“两委”班子运行情况分析研判" in inbox


def test_the_demo_items_open_for_their_writer(db: None) -> None:
    _load()
    client = _demo_client("anping_xinxi")

    mine = client.get("/items/?tab=all")

    assert mine.status_code == 200
    for spec in ITEMS:
        if spec.writer != "anping_xinxi":
            continue
        item = Submission.objects.get(title=spec.title)
        assert spec.title in mine.content.decode()
        assert client.get(f"/items/{item.pk}/").status_code == 200


def test_demo_items_are_added_to_a_province_loaded_before_them(db: None) -> None:
    load_demo(DEFAULT_PASSWORD)

    output = _load()

    assert output.strip() == (
        f"演示数据已加载：新建单位 0 个，人员 0 名，任职 0 条，稿件 {len(ITEMS)} 篇，"
        f"采用 {Adoption.objects.count()} 篇，通报 {Circular.objects.count()} 份。"
    )
    assert _load().strip() == "演示数据已存在，未做更改。"


# Demo handling at the upper units --------------------------------------------------------------


def _handling_counts() -> tuple[int, ...]:
    return (
        Publication.objects.count(),
        Issue.objects.count(),
        IssueRevision.objects.count(),
        Adoption.objects.count(),
        AdoptionSource.objects.count(),
        Instruction.objects.count(),
        HandlingEvent.objects.count(),
        Submission.objects.count(),
        Addressee.objects.count(),
    )


def _issue(publication: str, number: int) -> Issue:
    return Issue.objects.get(publication__name=publication, year=2026, number=number)


def test_the_demo_publications_issues_adoptions_and_instructions_exist(db: None) -> None:
    _load()

    kinds = {(p.unit.code, p.name): p.kind for p in Publication.objects.select_related("unit")}
    assert kinds == {
        ("JC-LJ", "临江组工信息"): "journal",
        ("JC-LJ", "临江组工"): "wechat",
        ("JC", "江川组工信息"): "journal",
        ("JC", "组工专报"): "special",
        ("JC", "江川组工网"): "website",
    }
    # 第1期: published once, several items with the lead on top, an editor's note, 报/送/发.
    first = _issue("临江组工信息", 1)
    assert (first.status, first.revision, first.total_number) == ("published", 1, 1)
    placed = list(first.adoptions.order_by("position"))
    assert len(placed) >= 3
    assert placed[0].is_lead and not any(a.is_lead for a in placed[1:])
    assert first.editor_note and first.show_toc
    assert [line[:2] for line in first.distribution.splitlines()] == ["报：", "送：", "发："]
    assert "报：省委组织部" in first.distribution
    assert HandlingEvent.objects.filter(action=Action.PUBLISH, issue=first).exists()
    # 第2期: published, then corrected with a reason; both revisions are kept.
    second = _issue("临江组工信息", 2)
    assert (second.status, second.revision) == ("published", 2)
    revisions = list(second.revisions.order_by("revision"))
    assert [r.revision for r in revisions] == [1, 2]
    assert revisions[0].reason == "" and revisions[1].reason == CORRECTION_REASON
    assert "东训" in revisions[0].snapshot["items"][0]["title"]
    assert "冬训" in revisions[1].snapshot["items"][0]["title"]
    correct = HandlingEvent.objects.get(action=Action.CORRECT, issue=second)
    assert correct.comment == CORRECTION_REASON and correct.by.username == "linjiang_bianji"
    # 第3期: still being composed.
    third = _issue("临江组工信息", 3)
    assert third.status == "draft" and third.revision == 0 and third.adoptions.count() >= 2
    # Channels: an address and a date instead of an issue.
    channel = Adoption.objects.filter(publication_kind__in=["wechat", "website"])
    assert {a.publication.name for a in channel} == {"临江组工", "江川组工网"}
    for adoption in channel:
        assert adoption.issue is None and adoption.published_on is not None
        assert adoption.published_url.startswith("https://")
    # The province adopted the 临江 lead item as an excerpt into 《组工专报》, credited to 安平县
    # and to 临江 as forwarder; the 省委书记 instructed on it.
    excerpt = Adoption.objects.get(publication__name="组工专报")
    assert excerpt.form == "excerpt" and excerpt.unit_level == "province"
    source = excerpt.sources.get()
    assert (source.origin_unit.code, source.forwarded_by.code if source.forwarded_by else "") == (
        "JC-LJ-AP",
        "JC-LJ",
    )
    assert excerpt.body != source.submission.body
    instruction = excerpt.instructions.get()
    assert (instruction.level, instruction.is_principal) == ("province", True)
    event = HandlingEvent.objects.get(action=Action.INSTRUCT, instruction=instruction)
    assert event.facts["instruction_level"] == "province" and event.facts["principal"] is True
    assert Instruction.objects.filter(level="city").exists()
    # A combined piece from three districts of three cities: 40/30/30 with one 主报.
    combined = Adoption.objects.get(form="combined")
    rows = list(combined.sources.select_related("origin_unit", "forwarded_by"))
    assert sorted(r.share for r in rows) == [30, 30, 40]
    assert [r.share for r in rows if r.is_lead_source] == [40]
    assert {r.origin_unit.code for r in rows} == {"JC-LJ-JB", "JC-QS-CP", "JC-BH-HD"}
    assert {r.forwarded_by.code for r in rows if r.forwarded_by} == {"JC-LJ", "JC-QS", "JC-BH"}
    assert HandlingEvent.objects.filter(action=Action.ADOPT, adoption=combined).count() == 3
    # One item adopted at two levels and in two of the city's publications.
    hehuoren = Submission.objects.get(title="江北区“社区合伙人”计划吸引120家单位参与基层治理")
    assert set(hehuoren.adoption_sources.values_list("adoption__publication__name", flat=True)) == {
        "临江组工信息",
        "临江组工",
        "江川组工信息",
    }
    # Everything was done by the demo editors themselves, and audited.
    assert set(HandlingEvent.objects.values_list("by__username", flat=True)) <= {
        "linjiang_bianji",
        "sheng_bianji",
        "sheng_bianji2",
        "qingshan_bianji",
        "baihe_bianji",
    }
    audited = Event.objects.filter(action__startswith="publication.")
    assert audited.count() >= HandlingEvent.objects.count()
    assert not audited.filter(actor_login="system").exists()


def test_every_receipt_state_appears_and_every_inbox_has_unread_work(db: None) -> None:
    _load()

    receipts = Addressee.objects.all()
    assert set(receipts.values_list("state", flat=True)) == set(Handling.values)
    for code in ["JC", "JC-LJ", "JC-QS", "JC-BH"]:
        unread = receipts.filter(
            unit__code=code,
            state=Handling.PENDING,
            opened_at__isnull=True,
            submission__status=Status.SUBMITTED,
        )
        assert unread.count() >= 2, code
    claimed = receipts.filter(claimed_by__isnull=False, state=Handling.PENDING)
    assert {(r.unit.code, r.claimed_by.username) for r in claimed if r.claimed_by} == {
        ("JC-LJ", "linjiang_bianji"),
        ("JC", "sheng_bianji2"),
    }
    # Returned to the origin with a comment: the item is back with its authors.
    returned = receipts.get(state=Handling.RETURNED)
    assert returned.unit.code == "JC-LJ"
    assert returned.submission.status == Status.RETURNED
    assert returned.submission.events.filter(
        action=EventAction.RETURN_FROM_UPPER, comment__contains="具体事例"
    ).exists()
    reference = receipts.get(state=Handling.REFERENCE)
    assert HandlingEvent.objects.get(
        action=Action.REFERENCE, submission=reference.submission
    ).comment
    forwarded = receipts.filter(forwarded_from__isnull=False)
    assert {r.forwarded_from.code for r in forwarded if r.forwarded_from} == {
        "JC-LJ",
        "JC-QS",
        "JC-BH",
    }
    assert set(forwarded.values_list("unit__code", flat=True)) == {"JC"}
    assert forwarded.count() == HandlingEvent.objects.filter(action=Action.FORWARD).count() == 5
    # The extra items went through each unit's own review stages, approved by its reviewer.
    for spec in EXTRA_ITEMS:
        item = Submission.objects.get(title=spec.title)
        approvals = item.events.filter(action=EventAction.APPROVE)
        assert approvals.count() == len(item.stage_plan), spec.title
        assert {e.by.username for e in approvals} == {spec.reviewer}
        assert item.events.filter(action=EventAction.SUBMIT).exists()


def test_loading_the_demo_again_leaves_the_handling_unchanged(db: None) -> None:
    _load()
    before = _handling_counts()

    assert _load().strip() == "演示数据已存在，未做更改。"
    assert load_demo_publications() == 0

    assert _handling_counts() == before


def test_the_published_demo_issue_exports_as_a_word_document(db: None) -> None:
    _load()
    issue = _issue("临江组工信息", 1)

    data = issue_docx(issue)

    document = docx.Document(BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    lead = issue.adoptions.get(is_lead=True)
    assert lead.title in text
    assert "临江组工信息" in text
    assert "报：省委组织部" in text
    assert text.index(lead.title) < text.index(issue.adoptions.order_by("position")[1].title)


def test_demo_editors_and_officers_see_the_handling_in_their_pages(db: None) -> None:
    _load()

    city = _demo_client("linjiang_bianji")
    inbox = city.get("/inbox/").content.decode()
    assert "江北区完成新一轮社区网格优化调整" in inbox and "未读" in inbox
    assert "杨帆处理中" in inbox
    assert "临江组工信息" in city.get("/publications/").content.decode()
    draft = city.get(f"/issues/{_issue('临江组工信息', 3).pk}/")
    assert draft.status_code == 200
    province = _demo_client("sheng_bianji").get("/inbox/").content.decode()
    assert "马骏处理中" in province and "由临江市委组织部转报" in province
    officer = _demo_client("anping_xinxi")
    zutuan = Submission.objects.get(title="安平县“组团式”帮扶推动软弱涣散村党组织转化提升")
    outcomes = officer.get(f"/items/{zutuan.pk}/outcomes/").content.decode()
    assert "组工专报" in outcomes and "高立群" in outcomes
    feedback = officer.get("/feedback/")
    assert feedback.status_code == 200
    assert "临江组工信息" in feedback.content.decode()


def test_handling_is_skipped_with_a_warning_when_a_demo_item_was_handled_by_hand(
    db: None,
) -> None:
    load_demo(DEFAULT_PASSWORD)
    load_demo_items()
    item = Submission.objects.get(title="安平县“组团式”帮扶推动软弱涣散村党组织转化提升")
    handling.forward(by=User.objects.get(username="linjiang_bianji"), item=item)
    out, err = StringIO(), StringIO()

    call_command("load_demo", stdout=out, stderr=err)

    assert "演示稿件已被改动，未加载演示采用和刊物" in err.getvalue()
    assert out.getvalue().strip() == "演示数据已存在，未做更改。"
    assert not Publication.objects.exists() and not Adoption.objects.exists()
    assert Submission.objects.count() == len(ITEMS)


# Demo scoring ----------------------------------------------------------------------------------


def test_demo_scores_are_recorded_as_they_happen_and_a_full_recompute_agrees(db: None) -> None:
    import datetime as dt

    from django.utils import timezone

    from baosong.scoring import ledger, rankings
    from baosong.scoring import workflow as scoring
    from baosong.scoring.models import (
        HistoricAdoption,
        LedgerEntry,
        Recompute,
        Scheme,
        VersionStatus,
    )

    _load()

    *schemes, late = list(Scheme.objects.select_related("unit").order_by("pk"))
    assert [s.unit.code for s in schemes] == ["JC", "JC-LJ"]
    # 白河市 adopted its scheme late in the year, from 1 January: the year so far was rescored
    # at once (the demo is small), as its page records.
    job = Recompute.objects.get(version__scheme=late)
    assert (late.unit.code, job.status, job.background) == ("JC-BH", "done", False)
    assert job.facts > 0 and job.corrected == LedgerEntry.objects.filter(scheme=late).count()
    assert HistoricAdoption.objects.exists()
    assert Circular.objects.count() >= 2
    for scheme in schemes:
        versions = list(scheme.versions.order_by("number"))
        assert versions[0].status == VersionStatus.ADOPTED and versions[0].used_at is not None
        # Every line the demo's events wrote one by one is exactly what a full replay gives.
        start = dt.datetime(2025, 1, 1, tzinfo=ledger.local_tz())
        stats = scoring.recompute(versions[0], start, timezone.now() + dt.timedelta(seconds=1))
        assert stats["facts"] > 100 and stats["corrected"] == 0
        ranking = rankings.unit_ranking(scheme, scheme.unit, rankings.current_period("year"))
        assert len(ranking) >= 3 and ranking[0].figures.points > 0
    assert Scheme.objects.get(unit__code="JC-LJ").versions.filter(status="draft").exists()
    assert LedgerEntry.objects.filter(item__isnull=False, category="adopt").exists()


def test_the_demo_is_told_over_the_last_working_days_in_office_hours(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every step of the demo's stories has its own moment: the items' over the working days
    before their handling, the handling (adoptions, issues, forwards) after them, all in office
    hours and before now, in the order they were told (ids grow with time); an item is written
    after the event it reports, and an issue is dated the day it was made."""
    import datetime as dt

    from django.utils import timezone

    from baosong.lib import demo_clock
    from baosong.publications import demo as handling_demo

    clocks: list[demo_clock.Clock] = []
    running = demo_clock._running

    @contextmanager
    def kept(clock: demo_clock.Clock) -> Iterator[demo_clock.Clock]:
        clocks.append(clock)
        with running(clock) as c:
            yield c

    monkeypatch.setattr(demo_clock, "_running", kept)
    real_now = timezone.now
    started = timezone.now()
    _load()
    assert timezone.now is real_now  # the clock is gone once the demo is loaded
    # The handling story takes exactly the steps its plan made room for.
    assert [c.steps for c in clocks][1] == handling_demo.STEPS

    def local(moment: dt.datetime) -> dt.datetime:
        return timezone.localtime(moment)

    items = list(ItemEvent.objects.order_by("id").values_list("at", flat=True))
    handled = list(HandlingEvent.objects.order_by("id").values_list("at", flat=True))
    assert items == sorted(items) and handled == sorted(handled)
    assert handled[-1] < started and items[-1] < started
    stories = Submission.objects.filter(title__in=[spec.title for spec in ITEMS])
    written = sorted(stories.values_list("created_at", flat=True))
    assert len({local(at).date() for at in written}) >= 5  # over several days, not one minute
    for at in items + handled + written:
        moment = local(at)
        assert demo_clock._working(moment.date())
        assert demo_clock.OPEN <= moment.time() <= dt.time(18, 0)
    for item in stories:
        assert item.event_date is not None and local(item.created_at).date() > item.event_date
    # The handling took a few days, after the items' stories; each issue is dated its day.
    days = sorted({local(at).date() for at in handled})
    assert len(days) >= 2 and days[0] > local(written[-1]).date()
    assert {issue.issue_date for issue in Issue.objects.all()} <= set(days)
    # Receipts show when each item arrived, not one minute for all.
    received = Addressee.objects.values_list("received_at", flat=True)
    assert len({local(at).replace(second=0, microsecond=0) for at in received if at}) > 10


def test_the_demo_clock_gives_way_to_the_real_one_even_when_a_story_fails() -> None:
    from django.utils import timezone

    from baosong.lib import demo_clock

    real_now = timezone.now
    plan = demo_clock.Plan(10, 5)
    with pytest.raises(RuntimeError), plan.items() as clock:
        first = clock.step()
        assert timezone.now() > first and timezone.now() < plan.handling_start
        raise RuntimeError("故事讲到一半")
    assert timezone.now is real_now
    assert plan.items_start < plan.handling_start < plan.now


def test_the_demo_clock_keeps_chinas_calendar_and_weekdays_beyond_it() -> None:
    """Holidays and the weekends worked in their place (调休) where the calendar knows the year;
    Monday to Friday for a year it does not know yet (chinese-calendar 1.11 stops at 2026)."""
    import datetime as dt

    from baosong.lib import demo_clock

    assert not demo_clock._working(dt.date(2026, 10, 1))  # 国庆节, a Thursday
    assert demo_clock._working(dt.date(2026, 10, 10))  # a Saturday worked for it
    assert demo_clock._working(dt.date(2027, 1, 4))  # Monday, a year past the calendar
    assert not demo_clock._working(dt.date(2027, 1, 9))  # Saturday
