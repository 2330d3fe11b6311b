"""The demo province 江川省: its unit tree, about sixty people, and `load_demo` that builds it.

Everything is created through workflow.py with by=None (the platform itself), so the demo leaves
the same audit trail as real work. Loading is idempotent: a unit whose code or a person whose
login already exists is left alone, so a second run creates nothing.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from baosong.lib.env import env_str
from baosong.orgs import workflow
from baosong.orgs.models import Level, PlatformRole, Role, Unit, User

DEFAULT_PASSWORD = "Baosong-Demo-2026"
PASSWORD_ENV = "BAOSONG_DEMO_PASSWORD"
DEMO_URL = "http://127.0.0.1:8000"
EMAIL_DOMAIN = "jc.example"
# Mainland mobile prefixes (13x, 15x, 18x); the numbers built on them are made up.
MOBILE_PREFIXES = [f"1{a}{b}" for a in "358" for b in "356789"]


def demo_password() -> str:
    """The demo password: BAOSONG_DEMO_PASSWORD when set and not blank, else the default."""
    return env_str(PASSWORD_ENV).strip() or DEFAULT_PASSWORD


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    short_name: str
    level: str
    parent: str | None
    sort_order: int


@dataclass(frozen=True)
class Post:
    """A role in a unit from a start date; with an end date it becomes history."""

    unit: str
    role: str
    start: dt.date
    end: dt.date | None = None


@dataclass(frozen=True)
class PersonSpec:
    login: str
    name: str
    posts: tuple[Post, ...] = ()
    platform_role: str = ""
    active: bool = True

    @property
    def email(self) -> str:
        return f"{self.login}@{EMAIL_DOMAIN}"

    @property
    def mobile(self) -> str:
        """A fake but well-formed mobile number, the same on every run."""
        digest = hashlib.sha256(self.login.encode()).hexdigest()
        prefix = MOBILE_PREFIXES[int(digest[:4], 16) % len(MOBILE_PREFIXES)]
        return prefix + f"{int(digest[4:16], 16) % 10**8:08d}"


@dataclass(frozen=True)
class DemoResult:
    units_created: int
    people_created: int
    memberships_created: int

    @property
    def changed(self) -> bool:
        return bool(self.units_created or self.people_created or self.memberships_created)

    def summary(self) -> str:
        if not self.changed:
            return "演示数据已存在，未做更改。"
        return (
            f"演示数据已加载：新建单位 {self.units_created} 个，人员 {self.people_created} 名，"
            f"任职 {self.memberships_created} 条。"
        )


# The unit tree --------------------------------------------------------------------------------

PROVINCE_SECTIONS = [
    ("BGS", "办公室"),
    ("ZZ1", "组织一处"),
    ("GB1", "干部一处"),
    ("RC", "人才工作处"),
    ("XXDY", "信息调研处"),
    ("XJ", "宣传教育处"),
]

# (code, city name, sections, counties); each county is (code, name, 县/区, townships).
CITIES: list[tuple[str, str, list[tuple[str, str]], list[tuple[str, str, str, list[str]]]]] = [
    (
        "LJ",
        "临江",
        [("BGS", "办公室"), ("XXK", "信息科")],
        [
            ("AP", "安平", "县", ["城关镇", "桥头镇", "柏树乡"]),
            ("JB", "江北", "区", []),
            ("QH", "清河", "县", []),
            ("SM", "石门", "县", []),
        ],
    ),
    (
        "QS",
        "青山",
        [("XXK", "信息科")],
        [
            ("CP", "翠屏", "区", []),
            ("TY", "桃源", "县", ["梅溪镇"]),
            ("LQ", "龙泉", "县", []),
            ("FM", "凤鸣", "县", []),
        ],
    ),
    (
        "BH",
        "白河",
        [("BGS", "办公室"), ("XXK", "信息科")],
        [
            ("HD", "河东", "区", []),
            ("YX", "云溪", "县", ["白沙镇"]),
            ("LL", "柳林", "县", []),
            ("NP", "南坪", "县", []),
        ],
    ),
]


def _build_units() -> list[UnitSpec]:
    """Parents before children, siblings numbered in the order listed."""
    units = [UnitSpec("JC", "中共江川省委组织部", "江川省委组织部", Level.PROVINCE, None, 1)]
    for order, (code, section) in enumerate(PROVINCE_SECTIONS, start=1):
        units.append(
            UnitSpec(
                f"JC-{code}", f"中共江川省委组织部{section}", section, Level.INTERNAL, "JC", order
            )
        )
    for city_order, (city, city_name, sections, counties) in enumerate(CITIES, start=1):
        city_code = f"JC-{city}"
        dept = f"{city_name}市委组织部"
        units.append(UnitSpec(city_code, f"中共{dept}", dept, Level.CITY, "JC", 100 + city_order))
        for order, (code, section) in enumerate(sections, start=1):
            units.append(
                UnitSpec(
                    f"{city_code}-{code}",
                    f"中共{dept}{section}",
                    f"{dept}{section}",
                    Level.INTERNAL,
                    city_code,
                    order,
                )
            )
        for county_order, (county, county_name, suffix, townships) in enumerate(counties, start=1):
            county_code = f"{city_code}-{county}"
            county_dept = f"{county_name}{suffix}委组织部"
            units.append(
                UnitSpec(
                    county_code,
                    f"中共{county_dept}",
                    county_dept,
                    Level.COUNTY,
                    city_code,
                    100 + county_order,
                )
            )
            for town_order, town in enumerate(townships, start=1):
                units.append(
                    UnitSpec(
                        f"{county_code}-{town_order:02d}",
                        f"中共{county_name}{suffix}{town}委员会",
                        f"{town}党委",
                        Level.TOWNSHIP,
                        county_code,
                        100 + town_order,
                    )
                )
    return units


UNITS: list[UnitSpec] = _build_units()


# People ---------------------------------------------------------------------------------------

OFF, COR, REV, EDT, ADM = (
    Role.OFFICER,
    Role.CORRESPONDENT,
    Role.REVIEWER,
    Role.EDITOR,
    Role.UNIT_ADMIN,
)


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _p(login: str, name: str, unit: str, role: str, start: str) -> PersonSpec:
    return PersonSpec(login, name, (Post(unit, role, _d(start)),))


PEOPLE: list[PersonSpec] = [
    # 三员分立: three platform admins, none of them holds a unit role.
    PersonSpec("sysadmin", "郑国栋", platform_role=PlatformRole.SYSTEM_ADMIN),
    PersonSpec("secadmin", "孙丽华", platform_role=PlatformRole.SECURITY_ADMIN),
    PersonSpec("auditor", "钱雅琴", platform_role=PlatformRole.AUDIT_ADMIN),
    # 江川省委组织部: the editors, reviewer and officer sit in 信息调研处 but act for the whole
    # department, so their roles are held in JC, where lower units' items arrive.
    _p("sheng_admin", "周建国", "JC", ADM, "2024-01-02"),
    _p("sheng_bianji", "林晓燕", "JC", EDT, "2024-03-01"),
    _p("sheng_bianji2", "马骏", "JC", EDT, "2025-07-01"),
    _p("sheng_shenhe", "许文博", "JC", REV, "2024-01-02"),
    _p("sheng_xinxi", "唐思雨", "JC", OFF, "2024-09-02"),
    _p("sheng_xuanjiao_tongxun", "韩雪", "JC-XJ", COR, "2025-03-03"),
    _p("sheng_zuzhi_xinxi", "邓志刚", "JC-ZZ1", OFF, "2024-05-06"),
    _p("sheng_ganbu_xinxi", "曹丽娟", "JC-GB1", OFF, "2024-05-06"),
    # 临江市
    _p("linjiang_admin", "陈立新", "JC-LJ", ADM, "2024-02-19"),
    _p("linjiang_bianji", "杨帆", "JC-LJ", EDT, "2024-03-11"),
    # Transferred from 安平县 to the city in September 2025: the ledger keeps both rows.
    PersonSpec(
        "linjiang_shenhe",
        "王志强",
        (
            Post("JC-LJ-AP", OFF, _d("2024-03-01"), _d("2025-08-31")),
            Post("JC-LJ", REV, _d("2025-09-01")),
        ),
    ),
    _p("linjiang_xinxi", "黄静", "JC-LJ", OFF, "2024-06-03"),
    _p("anping_admin", "罗建华", "JC-LJ-AP", ADM, "2024-03-01"),
    _p("anping_shenhe", "李秀英", "JC-LJ-AP", REV, "2024-03-01"),
    _p("anping_xinxi", "张伟", "JC-LJ-AP", OFF, "2025-09-01"),
    _p("anping_tongxun", "蒋欣怡", "JC-LJ-AP", COR, "2024-10-08"),
    _p("chengguan_xinxi", "崔小龙", "JC-LJ-AP-01", OFF, "2025-04-01"),
    _p("qiaotou_xinxi", "康梦瑶", "JC-LJ-AP-02", OFF, "2025-11-03"),
    _p("jiangbei_shenhe", "彭俊杰", "JC-LJ-JB", REV, "2024-04-08"),
    # Works for 江北区 and, since March 2026, also writes news drafts for the city.
    PersonSpec(
        "jiangbei_xinxi",
        "郭婷",
        (
            Post("JC-LJ-JB", OFF, _d("2024-04-08")),
            Post("JC-LJ", COR, _d("2026-03-02")),
        ),
    ),
    _p("jiangbei_tongxun", "潘浩", "JC-LJ-JB", COR, "2025-02-17"),
    _p("qinghe_shenhe", "沈国庆", "JC-LJ-QH", REV, "2024-05-13"),
    _p("qinghe_xinxi", "苏晓梅", "JC-LJ-QH", OFF, "2024-05-13"),
    _p("shimen_shenhe", "曾宪文", "JC-LJ-SM", REV, "2024-04-15"),
    _p("shimen_xinxi", "田甜", "JC-LJ-SM", OFF, "2025-06-16"),
    # Left in mid-2026: the role ended and the account is deactivated, both kept as history.
    PersonSpec(
        "shimen_tongxun",
        "刘洋",
        (Post("JC-LJ-SM", COR, _d("2024-04-15"), _d("2026-06-30")),),
        active=False,
    ),
    # 青山市
    _p("qingshan_admin", "吴海峰", "JC-QS", ADM, "2024-02-26"),
    _p("qingshan_bianji", "刘婷婷", "JC-QS", EDT, "2024-03-04"),
    _p("qingshan_shenhe", "赵明", "JC-QS", REV, "2024-03-04"),
    _p("qingshan_xinxi", "徐佳怡", "JC-QS", OFF, "2025-01-06"),
    _p("cuiping_admin", "袁正", "JC-QS-CP", ADM, "2024-04-01"),
    _p("cuiping_shenhe", "卢美玲", "JC-QS-CP", REV, "2024-04-01"),
    _p("cuiping_xinxi", "蔡文涛", "JC-QS-CP", OFF, "2024-07-15"),
    _p("cuiping_tongxun", "魏晨", "JC-QS-CP", COR, "2025-05-06"),
    _p("taoyuan_shenhe", "薛红梅", "JC-QS-TY", REV, "2024-04-22"),
    _p("taoyuan_xinxi", "叶子轩", "JC-QS-TY", OFF, "2024-04-22"),
    _p("taoyuan_tongxun", "夏雨", "JC-QS-TY", COR, "2025-09-15"),
    _p("meixi_xinxi", "秦海波", "JC-QS-TY-01", OFF, "2025-03-17"),
    _p("longquan_shenhe", "钟德明", "JC-QS-LQ", REV, "2024-05-20"),
    _p("longquan_xinxi", "汪静怡", "JC-QS-LQ", OFF, "2024-11-04"),
    _p("fengming_shenhe", "姜涛", "JC-QS-FM", REV, "2024-06-11"),
    _p("fengming_xinxi", "范晓玲", "JC-QS-FM", OFF, "2026-02-24"),
    # 白河市
    _p("baihe_admin", "胡永刚", "JC-BH", ADM, "2024-03-04"),
    _p("baihe_bianji", "宋雨桐", "JC-BH", EDT, "2024-03-18"),
    _p("baihe_shenhe", "谢卫东", "JC-BH", REV, "2024-03-18"),
    _p("baihe_xinxi", "冯琳", "JC-BH", OFF, "2024-08-05"),
    _p("hedong_admin", "方建军", "JC-BH-HD", ADM, "2024-04-07"),
    _p("hedong_shenhe", "石慧", "JC-BH-HD", REV, "2024-04-07"),
    _p("hedong_xinxi", "姚磊", "JC-BH-HD", OFF, "2024-09-09"),
    _p("hedong_tongxun", "谭诗涵", "JC-BH-HD", COR, "2026-04-13"),
    _p("yunxi_shenhe", "廖志勇", "JC-BH-YX", REV, "2024-05-06"),
    _p("yunxi_xinxi", "邹丽", "JC-BH-YX", OFF, "2024-05-06"),
    _p("yunxi_tongxun", "熊伟民", "JC-BH-YX", COR, "2025-10-20"),
    _p("liulin_shenhe", "金凤", "JC-BH-LL", REV, "2024-06-03"),
    _p("liulin_xinxi", "陆子豪", "JC-BH-LL", OFF, "2025-08-18"),
    _p("nanping_shenhe", "孔祥林", "JC-BH-NP", REV, "2024-06-17"),
    _p("nanping_xinxi", "白玉兰", "JC-BH-NP", OFF, "2024-12-02"),
]

# The logins that `demo_accounts` prints, in this order (all of them are in docs/demo.md).
MAIN_LOGINS: list[str] = [
    "sysadmin",
    "secadmin",
    "auditor",
    "sheng_admin",
    "linjiang_admin",
    "anping_admin",
    "sheng_bianji",
    "linjiang_bianji",
    "anping_shenhe",
    "linjiang_shenhe",
    "anping_xinxi",
    "anping_tongxun",
    "chengguan_xinxi",
    "jiangbei_xinxi",
]


def person_spec(login: str) -> PersonSpec:
    return next(p for p in PEOPLE if p.login == login)


def unit_spec(code: str) -> UnitSpec:
    return next(u for u in UNITS if u.code == code)


def role_label(person: PersonSpec) -> str:
    if person.platform_role:
        return str(PlatformRole(person.platform_role).label)
    current = [post for post in person.posts if post.end is None] or list(person.posts)
    return "、".join(str(Role(post.role).label) for post in current)


def unit_label(person: PersonSpec) -> str:
    current = [post for post in person.posts if post.end is None] or list(person.posts)
    return "、".join(unit_spec(post.unit).short_name for post in current) or "—"


# Loading --------------------------------------------------------------------------------------


def check_demo_password(password: str) -> None:
    """Refuse a demo password the platform's own password rules would refuse."""
    try:
        validate_password(password)
    except ValidationError as exc:
        raise ValidationError(
            f"演示密码不符合密码规则：{'；'.join(m.rstrip('。.') for m in exc.messages)}。"
            f"请用环境变量 {PASSWORD_ENV} 另设一个。"
        ) from exc


@transaction.atomic
def load_demo(password: str) -> DemoResult:
    """Create the demo units and people that do not exist yet; the whole load is one transaction."""
    check_demo_password(password)
    units_created = 0
    units: dict[str, Unit] = {
        u.code: u for u in Unit.objects.filter(code__in=[s.code for s in UNITS])
    }
    for spec in UNITS:
        if spec.code in units:
            continue
        units[spec.code] = workflow.create_unit(
            by=None,
            parent=units[spec.parent] if spec.parent else None,
            code=spec.code,
            name=spec.name,
            short_name=spec.short_name,
            level=spec.level,
            sort_order=spec.sort_order,
        )
        units_created += 1

    existing = {login.lower() for login in User.objects.values_list("username", flat=True)}
    people_created = memberships_created = 0
    today = timezone.localdate()
    for person in PEOPLE:
        if person.login.lower() in existing:
            continue
        user = workflow.create_person(
            by=None,
            username=person.login,
            real_name=person.name,
            mobile=person.mobile,
            email=person.email,
            password=password,
        )
        people_created += 1
        if person.platform_role:
            workflow.set_platform_role(by=None, person=user, platform_role=person.platform_role)
        for post in person.posts:
            start = min(post.start, today)
            membership = workflow.add_membership(
                by=None, person=user, unit=units[post.unit], role=post.role, start=start
            )
            memberships_created += 1
            if post.end is not None:
                workflow.end_membership(
                    by=None, membership=membership, end=max(min(post.end, today), start)
                )
        if not person.active:
            workflow.set_person_active(by=None, person=user, active=False)
    return DemoResult(units_created, people_created, memberships_created)
