"""Inbox benchmark: the incoming list (收件箱) of a unit that has received 200,000 items.

Issue 4's target: the incoming list with 200,000 items renders in under 100 ms of server time at
the 95th percentile, on SQLite and PostgreSQL. Builds on the data of bench/items.py (same cached
database, under var/bench/ or BENCH_DATABASE_URL) and, once, tops the province up to 200,000
receipts (Addressee rows): items from the cities, addressed directly, and from the counties,
forwarded by their city (so the city holds a 已转报 receipt too), in every handling state, some
claimed, most opened, received over three years. Like bench/items.py it writes these rows with
COPY (PostgreSQL) or executemany (SQLite), bypassing the workflow because it is scaffolding: items,
one author each and receipts only (no versions or timeline). The busy county's city is left out so
that bench/items.py keeps measuring its own inbox (it sees about 300,000 items from then on).
Then one editor of the province opens the inbox in its usual variants; p50/p95 of wall and CPU
time (CPU includes the PostgreSQL backend), the ratio to the floor (/healthz, one trivial query)
and the query count of one request. BENCH_RUNS sets the runs per page (50).
"""

import datetime as dt
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.items import (  # noqa: E402 (sets up Django)
    BODIES,
    HEADER,
    KIND_BY_INDEX,
    PLACES,
    TOPICS,
    People,
    build_items,
    busy_unit,
    insert,
    measure_page,
    pad,
    queries,
    row,
)
from bench.run import build, client_for  # noqa: E402

# isort: split

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Max, Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from baosong.orgs.models import Level, Role, Unit, User  # noqa: E402
from baosong.submissions.models import Addressee, Author, Handling, Status, Submission  # noqa: E402
from baosong.submissions.workflow import DEFAULT_STAGES  # noqa: E402

RECEIPTS = int(os.environ.get("BENCH_INBOX_RECEIPTS", "200000"))
RUNS = int(os.environ.get("BENCH_RUNS", "50"))
SEED = 20261124
MARK = "收件箱基准"  # the keywords of the items added here

# Handling at the province of the added items (returned ones are back with their authors).
STATE_MIX: list[tuple[str, int]] = [
    (Handling.PENDING.value, 20),
    (Handling.ADOPTED.value, 30),
    (Handling.REFERENCE.value, 42),
    (Handling.FORWARDED.value, 3),
    (Handling.RETURNED.value, 5),
]


def _ts(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def top_up(target: Unit, people: People) -> None:
    """Add items until the target unit holds RECEIPTS receipts."""
    have = Addressee.objects.filter(unit=target).count()
    missing = RECEIPTS - have
    if missing <= 0:
        return
    print(f"adding {missing:,} items received by {target.code} (once)…", flush=True)
    started = time.perf_counter()
    rng = random.Random(SEED)
    city_of_busy = busy_unit(people).parent_id
    assert city_of_busy is not None
    writers_of = {
        pk: people.get(pk, Role.OFFICER, Role.CORRESPONDENT)
        for pk in Unit.objects.values_list("id", flat=True)
    }
    paths: dict[int, str] = dict(Unit.objects.values_list("id", "path"))
    units = [
        (pk, parent, level)
        for pk, parent, level in Unit.objects.filter(
            level__in=[Level.CITY, Level.COUNTY], path__startswith=target.path
        )
        .exclude(pk=city_of_busy)
        .exclude(parent_id=city_of_busy)
        .values_list("id", "parent_id", "level")
        if writers_of[pk]
    ]
    editors = people.get(target.pk, Role.EDITOR)
    plan = json.dumps([dict(stage) for stage in DEFAULT_STAGES], ensure_ascii=False)
    now = timezone.now()
    next_id = (Submission.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    items: list[tuple[Any, ...]] = []
    authors: list[tuple[Any, ...]] = []
    receipts: list[tuple[Any, ...]] = []
    for n in range(missing):
        pk = next_id + n
        unit_id, parent_id, level = rng.choice(units)
        writer = rng.choice(writers_of[unit_id])
        state = rng.choices([s for s, _ in STATE_MIX], weights=[w for _, w in STATE_MIX])[0]
        topic = rng.randrange(len(TOPICS))
        item_type = rng.choices(["info", "news", "special"], weights=[80, 15, 5])[0]
        submitted = now - dt.timedelta(seconds=rng.randrange(3 * 365 * 86400))
        created = submitted - dt.timedelta(seconds=rng.randrange(10 * 86400))
        title = f"{PLACES[rng.randrange(len(PLACES))]}{TOPICS[topic]}"
        status = Status.RETURNED if state == Handling.RETURNED else Status.SUBMITTED
        items.append(
            (
                pk,
                unit_id,
                item_type,
                KIND_BY_INDEX[topic % 4] if item_type == "info" else "",
                title,
                BODIES[pk % len(BODIES)],
                created.date(),
                MARK,
                status.value,
                plan,
                2,
                "",
                False,
                1,
                writer,
                _ts(created),
                _ts(submitted),
                _ts(submitted),
            )
        )
        authors.append((pk, writer, 100, 0))
        opened = state != Handling.PENDING or rng.random() < 0.5
        claimed = state == Handling.PENDING and editors and rng.random() < 0.1
        forwarded_from = forwarded_by = None
        if level == Level.COUNTY:
            city_editors = people.get(parent_id, Role.EDITOR)
            forwarded_from, forwarded_by = parent_id, (city_editors or [writer])[0]
            opened_at = _ts(submitted - dt.timedelta(hours=rng.randrange(1, 72)))
            receipts.append(
                (pk, parent_id, opened_at, opened_at, forwarded_by, Handling.FORWARDED.value)
                + (None,) * 4
                + (title, paths[unit_id])
            )
        receipts.append(
            (
                pk,
                target.pk,
                _ts(submitted),
                _ts(submitted + dt.timedelta(hours=rng.randrange(1, 48))) if opened else None,
                rng.choice(editors) if opened and editors else None,
                state,
                rng.choice(editors) if claimed else None,
                _ts(submitted + dt.timedelta(hours=1)) if claimed else None,
                forwarded_from,
                forwarded_by,
                title,
                paths[unit_id],
            )
        )
    with transaction.atomic():
        insert(
            Submission,
            [
                "id",
                "unit_id",
                "item_type",
                "kind",
                "title",
                "body",
                "event_date",
                "keywords",
                "status",
                "stage_plan",
                "stage_index",
                "stage_role",
                "stage_named",
                "version_number",
                "created_by_id",
                "created_at",
                "updated_at",
                "submitted_at",
            ],
            items,
        )
        insert(Author, ["submission_id", "user_id", "share", "position"], authors)
        insert(
            Addressee,
            [
                "submission_id",
                "unit_id",
                "received_at",
                "opened_at",
                "opened_by_id",
                "state",
                "claimed_by_id",
                "claimed_at",
                "forwarded_from_id",
                "forwarded_by_id",
                "sort_title",
                "origin_path",
            ],
            receipts,
        )
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(
                no_style(), [Submission, Author, Addressee]
            ):
                cursor.execute(sql)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"added in {time.perf_counter() - started:.0f} s", flush=True)


def main() -> None:
    settings.ALLOWED_HOSTS = ["testserver"]
    connection.settings_dict["CONN_MAX_AGE"] = None
    call_command("migrate", verbosity=0)
    build()
    build_items()
    people = People()
    province = Unit.objects.get(level=Level.PROVINCE)
    top_up(province, people)
    editor = User.objects.get(pk=people.get(province.pk, Role.EDITOR)[0])
    receipts = Addressee.objects.filter(unit=province)
    by_state = dict(receipts.values_list("state").annotate(n=Count("id")))
    shown = receipts.filter(
        Q(submission__status=Status.SUBMITTED) | Q(state=Handling.RETURNED)
    ).count()
    city = (
        Unit.objects.filter(level=Level.CITY, parent=province)
        .annotate(n=Count("submissions"))
        .order_by("-n")
        .first()
    )
    assert city is not None
    print(
        f"\nBaosong inbox benchmark on {connection.vendor}: {Submission.objects.count():,} items; "
        f"{receipts.count():,} receipts at {province.code} ({shown:,} in its inbox)\n"
        f"  handling: {', '.join(f'{k} {v:,}' for k, v in sorted(by_state.items()))}\n"
        f"  editor {editor.username}; load average before: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"(2 cores; wall times stretch when the machine is shared, CPU times do not)"
    )
    anon, client = Client(), client_for(editor.username)
    pages = [
        ("待处理 (default tab)", "/inbox/"),
        ("全部 (tab=all)", "/inbox/?tab=all"),
        ("全部, page 5", "/inbox/?tab=all&page=5"),
        ("待处理, page 5", "/inbox/?page=5"),
        ("全部, filtered 信息·经验类", "/inbox/?tab=all&item_type=info&kind=experience"),
        ("待处理, filtered by origin city", f"/inbox/?origin={city.pk}"),
        ("全部, keyword 人才", "/inbox/?tab=all&q=人才"),
        ("全部, received in 2025", "/inbox/?tab=all&start=2025-01-01&end=2025-12-31"),
        ("全部, sorted 最早收到", "/inbox/?tab=all&sort=received"),
        ("全部, sorted 标题", "/inbox/?tab=all&sort=title"),
        ("全部, sorted 报送单位", "/inbox/?tab=all&sort=origin"),
        ("全部, sorted 报送单位, page 5", "/inbox/?tab=all&sort=origin&page=5"),
        ("仅供参考, htmx rows partial", "/inbox/?tab=reference"),
    ]
    floor = measure_page(anon, "/healthz", 200)
    print(f"\n{pad(f'page (ms; {RUNS} runs each)', 44)} {HEADER} {'queries':>8}")
    print(row("floor: /healthz (one trivial query)", floor, floor, "1"))
    for name, url in pages:
        htmx = "htmx" in name
        target = client
        if htmx:
            target = Client(headers={"HX-Request": "true"})
            target.cookies = client.cookies
        print(row(name, measure_page(target, url, RUNS), floor, str(queries(target, url))))
    print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
