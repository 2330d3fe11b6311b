"""Browser tests: a real server process (own database, real settings) driven by Debian Chromium.

Locally they skip with a message when Chromium or Playwright is missing; with REQUIRE_BROWSER=1 (CI) they fail instead.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "Browser-Pass-2026!"
# The items the adoption flow starts from (already submitted to 临江 at setup).
ADOPT_FIRST = "平安县建立村级后备干部“育苗库”"
ADOPT_SECOND = "清河县选派年轻干部蹲点调研"

SETUP = f"""
from baosong.orgs import workflow
from baosong.orgs.models import Level, PlatformRole, Role
p = workflow.create_unit(by=None, parent=None, code="JC", name="中共江川省委组织部", short_name="江川省委组织部", level=Level.PROVINCE)
c = workflow.create_unit(by=None, parent=p, code="JC-LJ", name="中共临江市委组织部", short_name="临江市委组织部", level=Level.CITY)
q = workflow.create_unit(by=None, parent=c, code="JC-LJ-QH", name="中共清河县委组织部", short_name="清河县委组织部", level=Level.COUNTY)
workflow.create_unit(by=None, parent=q, code="JC-LJ-QH-01", name="中共清河县城关镇委员会", short_name="城关镇党委", level=Level.TOWNSHIP)
workflow.create_person(by=None, username="ljadmin", real_name="周建国", password="{PASSWORD}", unit=c, role=Role.UNIT_ADMIN)
workflow.create_person(by=None, username="ljbianji", real_name="刘晓燕", password="{PASSWORD}", unit=c, role=Role.EDITOR)
ap = workflow.create_unit(by=None, parent=c, code="JC-LJ-PA", name="中共平安县委组织部", short_name="平安县委组织部", level=Level.COUNTY)
apx = workflow.create_person(by=None, username="apxinxi", real_name="王晓明", password="{PASSWORD}", unit=ap, role=Role.OFFICER)
aps = workflow.create_person(by=None, username="apshenhe", real_name="陈立新", password="{PASSWORD}", unit=ap, role=Role.REVIEWER)
qhx = workflow.create_person(by=None, username="qhxinxi", real_name="赵雅琴", password="{PASSWORD}", unit=q, role=Role.OFFICER)
qhs = workflow.create_person(by=None, username="qhshenhe", real_name="钱国华", password="{PASSWORD}", unit=q, role=Role.REVIEWER)
a = workflow.create_person(by=None, username="auditor", real_name="孙丽华", password="{PASSWORD}")
workflow.set_platform_role(by=None, person=a, platform_role=PlatformRole.AUDIT_ADMIN)

# Two items from two counties, written, approved through the three default stages and submitted
# to 临江市委组织部 (the adoption flow starts from them).
from baosong.submissions import workflow as items
from baosong.submissions.workflow import DraftInput
for unit, officer, reviewer, title, body in [
    (ap, apx, aps, "{ADOPT_FIRST}", "<p>平安县建立村级后备干部育苗库，全县入库人选412名。</p><p>每名人选由一名乡镇班子成员结对培养。</p>"),
    (q, qhx, qhs, "{ADOPT_SECOND}", "<p>清河县选派48名年轻干部到村蹲点调研三个月。</p><p>调研形成报告31篇，推动解决问题96个。</p>"),
]:
    item = items.create_draft(by=officer, unit=unit, data=DraftInput(item_type="info", kind="experience", title=title, body=body))
    items.submit_for_review(by=officer, item=item)
    for _ in range(3):
        items.approve(by=reviewer, item=item, comment="同意。")
"""


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    if not os.path.exists(CHROMIUM):
        return f"Debian Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database_env(tmp: Path) -> tuple[dict[str, str], Any]:
    """A fresh database for the server: a SQLite file, or a new PostgreSQL database when the
    suite runs on PostgreSQL (DATABASE_URL), dropped afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return {"DATABASE_URL": f"sqlite:///{tmp / 'browser.sqlite3'}"}, None
    import psycopg

    name = f"baosong_browser_{uuid.uuid4().hex[:8]}"
    base, _, _ = url.rpartition("/")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return {"DATABASE_URL": f"{base}/{name}"}, drop


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    missing = _browser_missing()
    if missing:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(f"browser tests skipped: {missing}")
    tmp = tmp_path_factory.mktemp("server")
    db_env, drop = _database_env(tmp)
    env = {
        **os.environ,
        **db_env,
        "DEBUG": "1",
        "BAOSONG_HTTPS": "0",
        "BAOSONG_VAR_DIR": str(tmp),
        "PYTHONUNBUFFERED": "1",
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "manage.py", "shell", "-c", SETUP], cwd=ROOT, env=env, check=True)
    port = _free_port()
    log = open(tmp / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError((tmp / "server.log").read_text())
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        if drop is not None:
            drop()


@pytest.fixture(scope="session")
def browser(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


def screenshot_dir() -> Path | None:
    target = os.environ.get("SCREENSHOT_DIR")
    if not target:
        return None
    path = Path(target)
    path.mkdir(parents=True, exist_ok=True)
    return path


__all__ = ["ADOPT_FIRST", "ADOPT_SECOND", "PASSWORD", "screenshot_dir", "shutil"]
