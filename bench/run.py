"""Foundation benchmarks: server-side render time of the busiest list pages at province scale.

Builds (once, cached under var/bench/) 2,000 units, 20,000 people with 24,000 memberships and 500,000 audit
events, then renders each page repeatedly through Django's test client and prints p50/p95 beside the floor:
a bare page (/healthz) that runs one trivial query. Set BENCH_DATABASE_URL to run on PostgreSQL.
"""

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DIR = ROOT / "var" / "bench"
BENCH_DIR.mkdir(parents=True, exist_ok=True)
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", f"sqlite:///{BENCH_DIR / 'bench.sqlite3'}"
)


from bench.db import ensure_postgres_database  # noqa: E402 (no side effects)

ensure_postgres_database(os.environ["DATABASE_URL"])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "baosong.settings")
os.environ["BAOSONG_VAR_DIR"] = str(BENCH_DIR)

import django  # noqa: E402

django.setup()

import datetime as dt  # noqa: E402

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from baosong.audit.models import Event  # noqa: E402
from baosong.orgs.models import Level, Membership, PlatformRole, Role, Unit, User  # noqa: E402

CITIES, COUNTIES, TOWNSHIPS = 19, 10, 9  # 1 + 19 + 190 + 1,710 ≈ 1,920 units + sections
PEOPLE = 20_000
EVENTS = 500_000
PASSWORD = "Bench-Pass-2026!"


def build() -> None:
    if Unit.objects.exists():
        return
    print("building the bench database (once)…", flush=True)
    started = time.perf_counter()
    units: list[Unit] = []
    next_id = 1

    def add(parent: Unit | None, level: str, name: str) -> Unit:
        nonlocal next_id
        pk = next_id
        next_id += 1
        path = f"{parent.path if parent else '/'}{pk}/"
        unit = Unit(
            id=pk,
            code=f"U{pk:05d}",
            name=name,
            short_name=name[:40],
            level=level,
            parent=parent,
            path=path,
            depth=(parent.depth + 1) if parent else 0,
            sort_order=pk,
        )
        units.append(unit)
        return unit

    province = add(None, Level.PROVINCE, "中共江川省委组织部")
    for s in range(5):
        add(province, Level.INTERNAL, f"省委组织部第{s + 1}处")
    for c in range(CITIES):
        city = add(province, Level.CITY, f"中共第{c + 1}市委组织部")
        for k in range(COUNTIES):
            county = add(city, Level.COUNTY, f"中共第{c + 1}市第{k + 1}县委组织部")
            for t in range(TOWNSHIPS):
                add(county, Level.TOWNSHIP, f"第{c + 1}市第{k + 1}县第{t + 1}镇党委")
    with transaction.atomic():
        Unit.objects.bulk_create(units, batch_size=2000)
        hashed = User(username="x")
        hashed.set_password(PASSWORD)
        people = [
            User(
                username=f"p{i:05d}",
                real_name=f"人员{i:05d}",
                mobile=f"139{i:08d}",
                password=hashed.password,
            )
            for i in range(PEOPLE)
        ]
        User.objects.bulk_create(people, batch_size=2000)
        people = list(User.objects.order_by("id"))
        roles = [Role.OFFICER, Role.CORRESPONDENT, Role.REVIEWER, Role.EDITOR]
        start = dt.date(2024, 1, 1)
        memberships = [
            Membership(user=p, unit=units[i % len(units)], role=roles[i % 4], start=start)
            for i, p in enumerate(people)
        ]
        memberships += [
            Membership(
                user=people[i], unit=units[(i * 7) % len(units)], role=Role.UNIT_ADMIN, start=start
            )
            for i in range(0, PEOPLE, 5)
        ]
        Membership.objects.bulk_create(memberships, batch_size=5000)
        for role in (
            PlatformRole.SYSTEM_ADMIN,
            PlatformRole.SECURITY_ADMIN,
            PlatformRole.AUDIT_ADMIN,
        ):
            User.objects.create_user(
                role.value, password=PASSWORD, real_name=role.label, platform_role=role.value
            )
        Membership.objects.create(
            user=User.objects.create_user("cityadmin", password=PASSWORD, real_name="市管理员"),
            unit=units[6],
            role=Role.UNIT_ADMIN,
            start=start,
        )
    now = timezone.now()
    batch: list[Event] = []
    for i in range(EVENTS):
        unit = units[i % len(units)]
        batch.append(
            Event(
                action=["unit.update", "person.update", "auth.login", "membership.create"][i % 4],
                actor_login=f"p{i % PEOPLE:05d}",
                actor_role="unit_admin",
                ip="10.0.0.1",
                object_type="unit",
                object_id=str(unit.pk),
                object_repr=unit.name,
                unit_path=unit.path,
                after={"name": unit.name},
            )
        )
        if len(batch) == 20_000:
            Event.objects.bulk_create(batch)
            batch = []
    Event.objects.bulk_create(batch)
    # bulk_create bypasses auto_now_add order; spread times for realistic date filters.
    del now
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)


def client_for(login: str) -> Client:
    client = Client()
    response = client.post("/login/", {"username": login, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def measure(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def page(client: Client, url: str) -> Callable[[], object]:
    def get() -> object:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return get


def main() -> None:
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    build()
    vendor = connection.vendor
    print(
        f"\nBaosong foundation benchmark on {vendor}: {Unit.objects.count():,} units, "
        f"{User.objects.count():,} people, {Membership.objects.count():,} memberships, "
        f"{Event.objects.count():,} audit events"
    )
    anon = Client()
    sysadmin, secadmin, auditor, cityadmin = (
        client_for(x) for x in ("system_admin", "security_admin", "audit_admin", "cityadmin")
    )
    floor = measure(page(anon, "/healthz"), 200)
    rows = [
        ("floor: /healthz (one trivial query)", floor),
        ("unit tree, whole province (system admin)", measure(page(sysadmin, "/units/"), 20)),
        ("unit tree, one city (its unit admin)", measure(page(cityadmin, "/units/"), 50)),
        ("people list page 1 (security admin)", measure(page(secadmin, "/people/"), 50)),
        ("people list filtered by name", measure(page(secadmin, "/people/?q=人员1234"), 50)),
        ("people list of one city (unit admin)", measure(page(cityadmin, "/people/"), 50)),
        ("audit log page 1 (audit admin)", measure(page(auditor, "/audit/"), 50)),
        ("audit log filtered by action", measure(page(auditor, "/audit/?action=unit.update"), 50)),
    ]
    print(f"{'page':48} {'p50 ms':>8} {'p95 ms':>8} {'p95/floor':>10}")
    for name, (p50, p95) in rows:
        print(f"{name:48} {p50:8.1f} {p95:8.1f} {p95 / floor[1]:10.1f}")


if __name__ == "__main__":
    main()
