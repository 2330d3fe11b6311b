"""The demo province: `load_demo` builds it through the workflow, once, and its logins work."""

import re
from io import StringIO
from pathlib import Path
from typing import Any

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
from baosong.submissions import selectors
from baosong.submissions.demo import ITEMS
from baosong.submissions.models import (
    Addressee,
    Author,
    EventAction,
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
        f"稿件 {len(ITEMS)} 篇。"
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
    # Every change left an audit event by a real demo person, none by the platform.
    item_audit = Event.objects.filter(object_type="submission")
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
    assert "江北区“社区合伙人”计划吸引120家单位参与基层治理" in inbox


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
        f"演示数据已加载：新建单位 0 个，人员 0 名，任职 0 条，稿件 {len(ITEMS)} 篇。"
    )
    assert _load().strip() == "演示数据已存在，未做更改。"
