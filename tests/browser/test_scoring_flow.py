"""The city's editor revises the scoring scheme: edits the draft v2, saves it, tries it over last
month beside the ranking in force (the order of the two counties flips), then generates last
month's circular and downloads the .docx.

Its own server and database: the scored items must lie in the previous month, so the setup runs
with the clock set to the 12th of that month (the people's memberships start then too, so they
hold today as well). Under the demo "highest level only" rules (v1, in force since 1 January):
    平安县 (PA): 1 info item submitted, adopted whole in the city journal: 5 + 10 × 1 × 1 = 15
    清河县 (QH): 2 info items submitted, none adopted:                     5 + 5       = 10
The draft v2 lowers the city's adoption base from 10 to 2: PA 5 + 2 = 7, QH still 10, so the
what-if ranks QH first (↑1) and PA second (↓1). The circular keeps the ranking in force.
"""

import datetime as dt
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import (
    PASSWORD,
    ROOT,
    _browser_missing,
    _database_env,
    _free_port,
    screenshot_dir,
)
from tests.browser.test_review_flow import BrowserErrors, sign_in

pytestmark = pytest.mark.browser

SCHEME = "临江市委组织部信息工作计分办法"
JOURNAL = "临江组工信息"
FIRST_COUNTY, SECOND_COUNTY = "平安县委组织部", "清河县委组织部"
NOTE = "降低市级采用基础分，鼓励多报送"

SETUP = f"""
import datetime as dt
import time_machine
from baosong.orgs import workflow
from baosong.orgs.models import Level, Role
from baosong.publications import workflow as pubs
from baosong.publications.models import AdoptionForm, PublicationKind
from baosong.publications.workflow import SourceInput
from baosong.scoring import workflow as scoring
from baosong.scoring.ledger import local_tz
from baosong.submissions import workflow as items
from baosong.submissions.workflow import DraftInput

today = dt.datetime.now(local_tz()).date()
last_month = today.replace(day=1) - dt.timedelta(days=1)
moment = dt.datetime.combine(last_month.replace(day=12), dt.time(10), tzinfo=local_tz())

def submitted(unit, officer, reviewer, title):
    item = items.create_draft(by=officer, unit=unit, data=DraftInput(
        item_type="info", kind="dynamic", title=title, body=f"<p>{{title}}。</p>"))
    items.submit_for_review(by=officer, item=item)
    for _ in range(3):
        items.approve(by=reviewer, item=item, comment="同意。")
    return item

with time_machine.travel(moment):
    p = workflow.create_unit(by=None, parent=None, code="JC", name="中共江川省委组织部", short_name="江川省委组织部", level=Level.PROVINCE)
    c = workflow.create_unit(by=None, parent=p, code="JC-LJ", name="中共临江市委组织部", short_name="临江市委组织部", level=Level.CITY)
    pa = workflow.create_unit(by=None, parent=c, code="JC-LJ-PA", name="中共平安县委组织部", short_name="{FIRST_COUNTY}", level=Level.COUNTY)
    qh = workflow.create_unit(by=None, parent=c, code="JC-LJ-QH", name="中共清河县委组织部", short_name="{SECOND_COUNTY}", level=Level.COUNTY)
    editor = workflow.create_person(by=None, username="ljbianji", real_name="刘晓燕", password="{PASSWORD}", unit=c, role=Role.EDITOR)
    pax = workflow.create_person(by=None, username="apxinxi", real_name="王晓明", password="{PASSWORD}", unit=pa, role=Role.OFFICER)
    pas = workflow.create_person(by=None, username="apshenhe", real_name="陈立新", password="{PASSWORD}", unit=pa, role=Role.REVIEWER)
    qhx = workflow.create_person(by=None, username="qhxinxi", real_name="赵雅琴", password="{PASSWORD}", unit=qh, role=Role.OFFICER)
    qhs = workflow.create_person(by=None, username="qhshenhe", real_name="钱国华", password="{PASSWORD}", unit=qh, role=Role.REVIEWER)
    scheme = scoring.create_scheme(by=editor, unit=c, name="{SCHEME}")
    scoring.adopt_version(by=editor, version=scheme.versions.get(), effective_from=dt.date(moment.year, 1, 1))
    adopted = submitted(pa, pax, pas, "平安县建立村级后备干部育苗库")
    submitted(qh, qhx, qhs, "清河县选派年轻干部蹲点调研")
    submitted(qh, qhx, qhs, "清河县开展党员冬训")
    journal = pubs.create_publication(by=editor, unit=c, name="{JOURNAL}", kind=PublicationKind.JOURNAL)
    pubs.adopt(by=editor, sources=[SourceInput(adopted)], publication=journal, form=AdoptionForm.WHOLE, title=adopted.title)

# The revision under discussion, drafted today.
scoring.new_version(by=editor, scheme=scheme)
"""


def last_month() -> str:
    today = dt.datetime.now(ZoneInfo(os.environ.get("TIME_ZONE", "Asia/Shanghai"))).date()
    return (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


@pytest.fixture(scope="module")
def scoring_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server like the shared one (tests/browser/conftest.py), on a database of its own."""
    missing = _browser_missing()
    if missing:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(f"browser tests skipped: {missing}")
    tmp = tmp_path_factory.mktemp("scoring-server")
    db_env, drop = _database_env(tmp)
    env = {
        **os.environ,
        **db_env,
        "DEBUG": "1",
        "BAOSONG_HTTPS": "0",
        "BAOSONG_VAR_DIR": str(tmp),
        "PYTHONUNBUFFERED": "1",
        # The three items of the setup make a large recompute here: it runs in the background.
        "BAOSONG_RECOMPUTE_INLINE_ITEMS": "1",
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "manage.py", "shell", "-c", SETUP], cwd=ROOT, env=env, check=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with open(tmp / "server.log", "w") as log:
        proc = subprocess.Popen(
            [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
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
            if drop is not None:
                drop()


@pytest.fixture
def signed_in(browser: Any, scoring_server: str) -> Iterator[Callable[[str], Any]]:
    """A signed-in page per person, each in its own context of the session's Chromium (one
    Playwright per process: a second sync_playwright() inside the first one fails)."""
    contexts: list[Any] = []

    def open_as(login: str) -> Any:
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, scoring_server, login)
        return page

    yield open_as
    for context in contexts:
        context.close()


class Shots:
    def __init__(self) -> None:
        self.dir, self.n = screenshot_dir(), 0

    def take(self, page: Any, name: str) -> None:
        if self.dir is not None:
            self.n += 1
            page.screenshot(path=str(self.dir / f"scoring-{self.n:02d}-{name}.png"), full_page=True)


def whatif_rows(page: Any) -> list[dict[str, str]]:
    """The what-if table, one dict per row keyed by the cells' labels."""
    rows = []
    for row in page.locator("table.whatif tbody tr").all():
        cells = row.locator("td")
        rows.append(
            {
                cells.nth(i).get_attribute("data-label") or str(i): cells.nth(i).inner_text()
                for i in range(cells.count())
            }
        )
    return rows


def test_editor_revises_the_scheme_tries_it_and_publishes_last_months_circular(
    scoring_server: str, signed_in: Callable[[str], Any], tmp_path: Path
) -> None:
    server, month = scoring_server, last_month()
    errors, shots = BrowserErrors(), Shots()
    editor = signed_in("ljbianji")
    errors.watch(editor)

    # The scheme list: v1 in force, v2 a draft the editor may edit.
    editor.goto(f"{server}/scoring/schemes/")
    card = editor.locator("section.scheme-card", has_text=SCHEME)
    assert card.count() == 1
    versions = card.locator("table.versions-table tbody tr").all_inner_texts()
    assert len(versions) == 2 and "第 1 版" in versions[0] and "第 2 版" in versions[1], versions
    assert "草稿" in versions[1], versions
    shots.take(editor, "schemes")

    # The draft's page, then its form: the city's adoption base 10 → 2.
    card.locator("table.versions-table a:text-is('第 2 版')").click()
    editor.wait_for_url(re.compile(r"/scoring/versions/\d+/$"))
    draft = int(re.findall(r"/versions/(\d+)/", editor.url)[0])
    assert "第 2 版" in editor.inner_text("h1")
    editor.click(".page-head a:text-is('编辑草稿')")
    editor.wait_for_url(f"{server}/scoring/versions/{draft}/edit/")
    assert editor.input_value("#id_base_city") == "10"
    editor.fill("#id_base_city", "2")
    editor.fill("#id_note", NOTE)
    shots.take(editor, "edit-draft")
    editor.click("form.scheme-form button:text-is('保存草稿')")
    editor.wait_for_url(f"{server}/scoring/versions/{draft}/")
    assert "草稿已保存。" in editor.inner_text(".messages")
    assert NOTE in editor.inner_text("main")
    errors.check()

    # What-if over last month, from the draft's page.
    editor.click(".page-head a:text-is('试算')")
    editor.wait_for_url(re.compile(r"/scoring/schemes/\d+/whatif/"))
    editor.select_option("#id_version", str(draft))
    editor.select_option("#id_grain", "month")
    editor.fill("#id_key", month)
    editor.select_option("#id_parent", label="临江市委组织部")
    editor.click("form.whatif-form button:text-is('试算')")
    editor.wait_for_selector("table.whatif")
    heading = editor.inner_text("main section.card h2")
    assert month in heading and "第 2 版试算" in heading, heading
    assert "第 1 版" in editor.inner_text("main section.card p.muted"), "the version in force"
    rows = whatif_rows(editor)
    assert [
        (r["试算名次"], r["单位"], r["现行名次"], r["现行得分"], r["试算得分"], r["名次变化"])
        for r in rows
    ] == [
        ("1", SECOND_COUNTY, "2", "10.00", "10.00", "↑1"),
        ("2", FIRST_COUNTY, "1", "15.00", "7.00", "↓1"),
    ], rows
    shots.take(editor, "whatif")
    errors.check()

    # Last month's circular, generated from the ranking page's 通报 and downloaded as Word.
    editor.click("nav.mainnav >> text=计分排名")
    editor.wait_for_url(re.compile(r"/scoring/"))
    editor.click(".page-head a:text-is('通报')")
    editor.wait_for_url(re.compile(r"/scoring/\d+/circulars/$"))
    assert editor.input_value("#generate input[name=key]") == month
    assert editor.input_value("#generate select[name=grain]") == "month"
    editor.click("#generate button:text-is('生成并归档')")
    editor.wait_for_url(re.compile(r"/scoring/\d+/circulars/$"))
    year, number = (int(part) for part in month.split("-"))
    title = f"关于{year}年{number}月全市信息工作情况的通报"
    assert f"已生成并归档：{title}" in editor.inner_text(".messages")
    row = editor.locator("table.circulars tbody tr[data-circular]")
    assert row.count() == 1 and title in row.inner_text()
    shots.take(editor, "circulars")
    with editor.expect_download() as info:
        row.locator("a:text-is('Word')").click()
    download = info.value
    assert download.suggested_filename == f"{title}.docx"
    target = tmp_path / "circular.docx"
    download.save_as(target)
    check_docx(target, title)
    errors.check()


def check_docx(path: Path, title: str) -> None:
    import docx

    document = docx.Document(str(path))
    texts = [p.text for p in document.paragraphs]
    assert title in texts, texts[:6]
    assert document.core_properties.title == title
    table = document.tables[0]
    header = [cell.text for cell in table.rows[0].cells]
    assert header[:4] == ["排名", "单位", "报送", "采用"], header
    body = [[cell.text for cell in row.cells] for row in table.rows[1:]]
    # The ranking in force (v1), not the draft tried above: rank, unit, submitted, adopted, points.
    assert [(r[0], r[1], r[2], r[3], r[8]) for r in body] == [
        ("1", FIRST_COUNTY, "1", "1", "15"),
        ("2", SECOND_COUNTY, "2", "0", "10"),
    ], body


LATE_SCHEME = "临江市委组织部信息工作计分办法（年中补定）"


def test_a_scheme_adopted_from_new_year_is_recomputed_in_the_background(
    scoring_server: str, signed_in: Callable[[str], Any]
) -> None:
    """Runs after the flow above (its ranking shows the first scheme). The editor draws up a
    second scheme and puts it in force from 1 January: the year's four events (three items
    submitted, one adopted) are replayed in a background thread of the server; the scheme's page
    follows the record until it is done, without a reload."""
    server = scoring_server
    errors = BrowserErrors()
    editor = signed_in("ljbianji")
    errors.watch(editor)
    editor.goto(f"{server}/scoring/schemes/")
    editor.fill("#id_name", LATE_SCHEME)
    editor.click("#new-scheme button[type=submit]")
    editor.wait_for_url(re.compile(r"/scoring/versions/\d+/edit/$"))
    version = int(re.findall(r"/versions/(\d+)/", editor.url)[0])
    editor.goto(f"{server}/scoring/versions/{version}/")
    # The setup's events happened last month: from 1 January of that month's year.
    year = int(last_month()[:4])
    editor.fill("#id_effective_from", f"{year}-01-01")
    editor.click("#adopt button[type=submit]")
    editor.wait_for_url(f"{server}/scoring/versions/{version}/")
    assert "正在后台重算得分" in editor.inner_text(".messages")
    record = editor.locator("#recomputes li").first
    assert record.get_attribute("data-status") in ("queued", "running", "done")
    # The section polls every 3 s and replaces itself: no reload of the page.
    editor.evaluate("window.__same_page = true")
    editor.wait_for_selector("#recomputes li[data-status='done']", timeout=60_000)
    assert editor.evaluate("window.__same_page") is True
    text = editor.locator("#recomputes li").first.inner_text()
    assert "重放事件 4 个" in text and "后台进行" in text, text
    # The ranking under the new scheme, over that year: 平安县 5 + 10 = 15, 清河县 5 + 5 = 10,
    # as under the first scheme, and nothing says a recompute is pending any more.
    editor.goto(f"{server}/scoring/schemes/")
    card = editor.locator("section.scheme-card", has_text=LATE_SCHEME)
    href = card.locator("a:text-is('排名')").get_attribute("href")
    editor.goto(f"{server}{href}&grain=year&key={year}")
    rows = editor.locator("table.ranking-table tbody tr").all_inner_texts()
    assert len(rows) == 2 and FIRST_COUNTY in rows[0] and "15.00" in rows[0], rows
    assert SECOND_COUNTY in rows[1] and "10.00" in rows[1], rows
    assert editor.locator("[data-recompute-notice]").count() == 0
    errors.check()
