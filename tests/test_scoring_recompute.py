"""Recomputes asked for by adopting a version from a past day (重算记录): a small one runs in the
request, a large one in the background after the adoption commits; failures and interruptions
are recorded and may be restarted by the scheme's managers; rankings and circulars say when the
scores are being recomputed. The background thread itself is tested committing, on PostgreSQL."""

import datetime as dt
import json
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from baosong.audit.models import Event as AuditEvent
from baosong.orgs import workflow as orgs_workflow
from baosong.orgs.models import User
from baosong.publications import workflow as pubs
from baosong.publications.models import AdoptionForm, PublicationKind
from baosong.publications.workflow import SourceInput
from baosong.scoring import engine, jobs, rankings, workflow
from baosong.scoring.models import LedgerEntry, Recompute, RecomputeStatus, Scheme
from tests.test_publication_scenarios import submitted
from tests.test_scoring_ledger import assert_rollup_equals_ledger

D = Decimal
JAN_1 = dt.date(2026, 1, 1)
API = "/api/v1"


def unit_sums(scheme: Scheme) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for code, points in LedgerEntry.objects.filter(scheme=scheme, person__isnull=True).values_list(
        "unit__code", "points"
    ):
        sums[code] = sums.get(code, D(0)) + points
    return sums


@dataclass
class Scene:
    world: Any
    live: Scheme  # in force before anything happened: every event recorded as it came
    late: Scheme  # its first version still a draft, to be adopted from 1 January


@pytest.fixture
def scene(world: Any) -> Scene:
    def scheme(name: str) -> Scheme:
        return workflow.create_scheme(
            by=world.editor_city,
            unit=world.city_a,
            name=name,
            data=engine.scheme_as_data(engine.CITY_HIGHEST),
        )

    live = scheme("临江市计分办法（年初启用）")
    workflow.adopt_version(by=world.editor_city, version=live.versions.get(), effective_from=JAN_1)
    late = scheme("临江市计分办法（年底补启用）")
    items = [
        submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, f"补算稿{n}")
        for n in range(3)
    ]
    journal = pubs.create_publication(
        by=world.editor_city, unit=world.city_a, name="临江组工信息", kind=PublicationKind.JOURNAL
    )
    pubs.adopt(
        by=world.editor_city,
        sources=[SourceInput(items[0])],
        publication=journal,
        form=AdoptionForm.WHOLE,
        title=items[0].title,
        is_lead=True,
    )
    return Scene(world, live, late)


def adopt_late(scene: Scene) -> Recompute:
    workflow.adopt_version(
        by=scene.world.editor_city, version=scene.late.versions.get(), effective_from=JAN_1
    )
    return Recompute.objects.get(version__scheme=scene.late)


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_a_small_recompute_runs_at_once_and_is_recorded(scene: Scene) -> None:
    job = adopt_late(scene)
    # Three submissions (5 each under 只计最高级别) and one city adoption, lead (10 × 1.5 = 15):
    # four events, each a line for the county and one for its author.
    assert (job.status, job.background, job.facts, job.corrected) == ("done", False, 4, 8)
    assert unit_sums(scene.late) == unit_sums(scene.live) == {"CA1": D("30.00")}
    assert job.started_at is not None and job.finished_at is not None
    assert job.reason == "启用第 1 版（自 2026-01-01 起生效）"
    assert AuditEvent.objects.filter(action="scoring.recompute", object_id=str(job.pk)).exists()
    # The scheme adopted from 1 January before anything happened had nothing to replay.
    assert not Recompute.objects.filter(version__scheme=scene.live).exists()
    assert workflow.pending_recompute(scene.late) is None
    assert_rollup_equals_ledger(scene.late)


def test_a_large_recompute_waits_for_the_commit_then_runs_in_the_background(
    scene: Scene,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.BAOSONG_RECOMPUTE_INLINE_ITEMS = 2  # three items touched since 1 January
    started: list[int] = []
    monkeypatch.setattr(jobs, "start", started.append)
    with django_capture_on_commit_callbacks(execute=True):
        job = adopt_late(scene)
        assert started == []  # not before the adoption has committed
    assert started == [job.pk]
    job.refresh_from_db()
    assert (job.status, job.background) == ("queued", True)
    assert unit_sums(scene.late) == {}  # nothing replayed yet
    assert workflow.pending_recompute(scene.late) == job
    # While it is pending: no circular (it would archive numbers about to change) …
    with pytest.raises(ValidationError, match="计分正在重算"):
        workflow.generate_circular(
            by=scene.world.editor_city,
            scheme=scene.late,
            parent=scene.world.city_a,
            grain="month",
            period=rankings.current_period("month"),
        )
    # … nor another version put in force (the pending replay's range would change) …
    draft = workflow.new_version(by=scene.world.editor_city, scheme=scene.late)
    with pytest.raises(ValidationError, match="请在重算完成后再启用新版本"):
        workflow.adopt_version(by=scene.world.editor_city, version=draft, effective_from=JAN_1)
    # … and the ranking and the circulars page say so.
    editor = signed_in("editor_city")
    page = editor.get(reverse("ranking_home"), {"scheme": scene.late.pk}).content.decode()
    assert "计分正在重算：启用第 1 版（自 2026-01-01 起生效）。2026-01-01 以来" in page
    assert (
        "计分正在重算"
        in editor.get(reverse("circular_list", args=[scene.late.pk])).content.decode()
    )
    # The scheme page polls the record while it is pending.
    panel = editor.get(reverse("scheme_recomputes", args=[scene.late.pk])).content.decode()
    assert 'hx-trigger="every 3s"' in panel and "等待开始" in panel

    done = workflow.run_recompute(job.pk)
    assert done is not None
    assert (done.status, done.facts, done.corrected) == ("done", 4, 8)
    assert done.end >= done.started_at  # type: ignore[operator]  # replayed up to its start
    assert unit_sums(scene.late) == unit_sums(scene.live)
    assert_rollup_equals_ledger(scene.late)
    assert workflow.run_recompute(job.pk) is None  # taken once only
    assert AuditEvent.objects.filter(action="scoring.recompute", object_id=str(job.pk)).exists()
    panel = editor.get(reverse("scheme_recomputes", args=[scene.late.pk])).content.decode()
    assert "hx-trigger" not in panel and "重放事件 4 个，更正记录 8 条" in panel
    assert "计分正在重算" not in (
        editor.get(reverse("ranking_home"), {"scheme": scene.late.pk}).content.decode()
    )


def test_a_failed_recompute_is_recorded_and_a_manager_restarts_it(
    scene: Scene,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.BAOSONG_RECOMPUTE_INLINE_ITEMS = 0
    started: list[int] = []
    monkeypatch.setattr(jobs, "start", started.append)
    job = adopt_late(scene)
    real = workflow.recompute

    def broken(*args: Any) -> dict[str, int]:
        raise RuntimeError("数据库连接中断")

    monkeypatch.setattr(workflow, "recompute", broken)
    failed = workflow.run_recompute(job.pk)
    assert failed is not None
    assert (failed.status, failed.error) == ("failed", "数据库连接中断")
    assert unit_sums(scene.late) == {}
    assert workflow.pending_recompute(scene.late) is None
    assert AuditEvent.objects.filter(action="scoring.recompute_failed").count() == 1
    monkeypatch.setattr(workflow, "recompute", real)

    page = signed_in("editor_city").get(reverse("scheme_detail", args=[scene.late.pk]))
    assert "数据库连接中断" in page.content.decode()
    assert reverse("recompute_restart", args=[job.pk]) in page.content.decode()
    assert "hx-trigger" not in page.content.decode()  # nothing pending: no polling
    # Only the scheme's managers may restart; a county officer cannot (and sees no button).
    officer = signed_in("officer_county_a")
    seen = officer.get(reverse("scheme_detail", args=[scene.late.pk])).content.decode()
    assert "数据库连接中断" in seen and reverse("recompute_restart", args=[job.pk]) not in seen
    assert officer.post(reverse("recompute_restart", args=[job.pk])).status_code == 403
    assert Recompute.objects.filter(version__scheme=scene.late).count() == 1

    response = signed_in("editor_city").post(reverse("recompute_restart", args=[job.pk]))
    assert response.status_code == 302
    again = Recompute.objects.filter(version__scheme=scene.late).exclude(pk=job.pk).get()
    assert (again.status, again.background, again.reason) == (
        "queued",
        True,
        "重新开始：启用第 1 版（自 2026-01-01 起生效）",
    )
    # The first one cannot be restarted twice.
    with pytest.raises(ValidationError, match="已有更新的重算"):
        workflow.restart_recompute(by=scene.world.editor_city, job=job)
    # (jobs.start ran on commit in a real request; here the test runs it.)
    finished = workflow.run_recompute(again.pk)
    assert finished is not None and finished.status == "done"
    assert unit_sums(scene.late) == unit_sums(scene.live)


def test_a_recompute_whose_process_went_away_is_taken_as_interrupted(
    scene: Scene, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.BAOSONG_RECOMPUTE_INLINE_ITEMS = 0
    monkeypatch.setattr(jobs, "start", lambda pk: None)
    job = adopt_late(scene)
    with pytest.raises(ValidationError, match="只有未完成或已中断"):
        workflow.restart_recompute(by=scene.world.editor_city, job=job)  # still queued
    two_hours_ago = timezone.now() - dt.timedelta(hours=2)
    Recompute.objects.filter(pk=job.pk).update(
        status=RecomputeStatus.RUNNING, started_at=two_hours_ago, requested_at=two_hours_ago
    )
    job.refresh_from_db()
    assert workflow.interrupted(job)
    assert workflow.pending_recompute(scene.late) == job  # its scores are still not up to date
    page = signed_in("editor_city").get(reverse("scheme_detail", args=[scene.late.pk]))
    assert 'data-status="interrupted"' in page.content.decode()
    again = workflow.restart_recompute(by=scene.world.editor_city, job=job)
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "已中断（处理进程已退出）")
    assert again.status == "queued"


def test_the_command_runs_queued_recomputes(
    scene: Scene,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings.BAOSONG_RECOMPUTE_INLINE_ITEMS = 0
    monkeypatch.setattr(jobs, "start", lambda pk: None)  # as if the process stopped at once
    job = adopt_late(scene)
    call_command("recompute_scores", "--pending")
    assert "运行了 1 个排队中的重算" in capsys.readouterr().out
    job.refresh_from_db()
    assert (job.status, job.facts) == ("done", 4)
    assert unit_sums(scene.late) == unit_sums(scene.live)


def test_the_api_lists_and_restarts_recomputes(
    scene: Scene, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.BAOSONG_RECOMPUTE_INLINE_ITEMS = 0
    monkeypatch.setattr(jobs, "start", lambda pk: None)
    job = adopt_late(scene)

    def api(user: Any) -> Client:
        token = orgs_workflow.create_api_token(by=user, name="测试")[1]
        return Client(headers={"Authorization": f"Bearer {token}"})

    editor, officer = api(scene.world.editor_city), api(scene.world.officer_county_a)
    listed = editor.get(f"{API}/scoring/schemes/{scene.late.pk}/recomputes").json()
    assert [(r["id"], r["status"], r["background"]) for r in listed] == [(job.pk, "queued", True)]
    version = editor.get(f"{API}/scoring/versions/{job.version_id}").json()
    assert version["recompute"]["status_label"] == "排队中"
    restart = f"{API}/scoring/recomputes/{job.pk}/restart"
    answer = editor.post(restart, data=json.dumps({}), content_type="application/json")
    assert answer.status_code == 422 and "只有未完成或已中断" in answer.content.decode()
    workflow.run_recompute(job.pk)
    assert officer.post(restart).status_code == 403
    assert editor.get(f"{API}/scoring/schemes/{scene.late.pk}/recomputes").json()[0]["facts"] == 4
    outsider = api(scene.world.outsider)
    assert outsider.get(f"{API}/scoring/schemes/{scene.late.pk}/recomputes").status_code == 404


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="内存中的 SQLite 测试库不能在另一线程的连接上读到：在 PostgreSQL 上测试",
)
@pytest.mark.django_db(transaction=True)
def test_the_background_thread_runs_the_recompute_on_its_own_connection(
    scene: Scene, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.BAOSONG_RECOMPUTE_INLINE_ITEMS = 0
    job = adopt_late(scene)  # committed: the thread started as the adoption's commit ran
    deadline = time.monotonic() + 60
    while job.status != "done" and time.monotonic() < deadline:
        time.sleep(0.05)
        job.refresh_from_db()
    assert (job.status, job.facts) == ("done", 4)
    for thread in threading.enumerate():
        if thread.name == f"recompute-{job.pk}":
            thread.join(timeout=10)  # it closes its own connection as it ends
    assert unit_sums(scene.late) == unit_sums(scene.live)
