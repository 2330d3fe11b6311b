"""An item from draft to the upper unit: an officer writes it with an image and autosave, the
reviewer returns it with a comment, the officer revises, three stages approve, the city's editor
opens it in the incoming list and downloads the approval form."""

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, screenshot_dir

pytestmark = pytest.mark.browser

TITLE = "平安县推行“党建+网格”治理模式"
FIRST = "平安县以网格为单元整合党员力量，全县划分网格326个。"
SECOND = "群众反映的问题平均办结时间缩短到两天。"
REVISION = "下一步将总结经验在全县推广。"
COMMENT = "请补充具体数据来源。"
REVIEWER = "陈立新"


class BrowserErrors:
    """Uncaught exceptions, console errors and failed requests of the pages; any fails the test."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def watch(self, page: Any) -> None:
        page.on("pageerror", lambda exc: self.seen.append(f"pageerror on {page.url}: {exc}"))
        page.on("console", lambda message: self._console(page, message))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, page: Any, message: Any) -> None:
        source = message.location.get("url", "")
        # The site has no favicon yet (base.html links none); the browser asks for one anyway.
        if message.type == "error" and not source.endswith("/favicon.ico"):
            self.seen.append(f"console error on {page.url}: {message.text} ({source})")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.seen.append(f"HTTP {response.status}: {response.url}")

    def _failed(self, request: Any) -> None:
        # A link that turns into a download ends its navigation as ERR_ABORTED, and a page left
        # while its icon is still loading aborts that request: neither is a fault of the page.
        if request.failure == "net::ERR_ABORTED" and (
            request.resource_type == "document" or request.url.endswith("/static/favicon.svg")
        ):
            return
        self.seen.append(f"request failed: {request.url} {request.failure}")

    def check(self) -> None:
        assert self.seen == [], "\n".join(self.seen)


class Shots:
    def __init__(self) -> None:
        self.dir, self.n = screenshot_dir(), 0

    def take(self, page: Any, name: str) -> None:
        if self.dir is not None:
            self.n += 1
            page.screenshot(path=str(self.dir / f"review-{self.n:02d}-{name}.png"), full_page=True)


def sign_in(page: Any, base: str, login: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", login)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def small_png(tmp_path: Path) -> Path:
    from PIL import Image, ImageDraw

    path = tmp_path / "网格员走访.png"
    image = Image.new("RGB", (120, 80), (200, 30, 30))
    ImageDraw.Draw(image).rectangle((20, 20, 100, 60), fill=(255, 220, 0))
    image.save(path)
    return path


def type_in_editor(page: Any, text: str) -> None:
    """Put the caret at the end of the Jodit editing area and type like a person."""
    page.locator(".jodit-wysiwyg").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def version_in_status(page: Any) -> int:
    match = re.search(r"第 (\d+) 版", page.inner_text("#autosave-status"))
    assert match, page.inner_text("#autosave-status")
    return int(match.group(1))


def open_from_list(page: Any, nav_label: str) -> None:
    page.click(f"nav.mainnav >> text={nav_label}")
    page.click(f"#item-rows a:text-is('{TITLE}')")
    page.wait_for_selector(f"h1:has-text('{TITLE}')")


@pytest.fixture
def people(browser: Any, server: str) -> Iterator[Callable[[str], Any]]:
    """A signed-in page per person, each in its own browser context (as on their own machines)."""
    contexts: list[Any] = []

    def open_as(login: str) -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, server, login)
        return page

    yield open_as
    for context in contexts:
        context.close()


def test_officer_writes_reviewer_returns_then_approves_three_stages_and_editor_receives(
    server: str, people: Callable[[str], Any], tmp_path: Path
) -> None:
    errors, shots = BrowserErrors(), Shots()

    # The officer writes a draft.
    officer = people("apxinxi")
    errors.watch(officer)
    officer.click("nav.mainnav >> text=我的稿件")
    officer.click("main a:text-is('写稿件')")
    officer.fill("#id_title", TITLE)
    officer.select_option("#id_item_type", "info")
    officer.select_option("#id_kind", "experience")
    officer.wait_for_selector(".jodit-wysiwyg")
    type_in_editor(officer, FIRST)
    shots.take(officer, "new-draft")
    officer.click("#item-form button:text-is('保存')")
    officer.wait_for_url(re.compile(r"/items/\d+/edit/$"))
    found = re.search(r"/items/(\d+)/edit/", officer.url)
    assert found, officer.url
    pk = int(found.group(1))
    assert "草稿已保存" in officer.inner_text(".messages")
    assert FIRST in officer.inner_text(".jodit-wysiwyg")
    assert version_in_status(officer) == 1

    # An image goes up as an attachment and into the text.
    officer.set_input_files(f"#attachment-file-{pk}", str(small_png(tmp_path)))
    officer.click(f"#attachments-{pk} button:text-is('上传')")
    insert = officer.locator(f"#attachments-{pk} [data-insert-image]")
    insert.wait_for()
    assert "网格员走访.png" in officer.inner_text(f"#attachments-{pk}")
    insert.click()
    # No caret in the text yet: the image becomes a paragraph of its own at the end.
    officer.wait_for_selector(".jodit-wysiwyg > p:last-child > img[alt='网格员走访']")

    # Typing more text autosaves a new version (a few seconds after typing, or on blur).
    before = version_in_status(officer)
    type_in_editor(officer, SECOND)
    officer.wait_for_function(
        """(before) => {
            const m = document.getElementById('autosave-status').textContent
                .match(/已自动保存 \\d\\d:\\d\\d:\\d\\d（第 (\\d+) 版）/);
            return m && Number(m[1]) > before;
        }""",
        arg=before,
        timeout=10_000,
    )
    saved = version_in_status(officer)
    shots.take(officer, "autosaved")

    # The server has the text and the image: a reload shows them, with nothing to restore.
    officer.reload()
    officer.wait_for_selector(".jodit-wysiwyg img")
    text = officer.inner_text(".jodit-wysiwyg")
    assert FIRST in text and SECOND in text
    src = officer.get_attribute(".jodit-wysiwyg img", "src")
    assert src and src.startswith(f"/items/{pk}/attachments/") and "inline=1" in src
    officer.wait_for_function("document.querySelector('.jodit-wysiwyg img').naturalWidth === 120")
    assert version_in_status(officer) == saved
    assert officer.locator("#restore-banner").is_hidden()

    officer.click("#item-form button:text-is('保存并提交审核')")
    officer.wait_for_url(f"{server}/items/{pk}/")
    assert "已提交审核" in officer.inner_text(".messages")
    assert "审核中" in officer.inner_text("h1") and "初审" in officer.inner_text("h1")
    errors.check()

    # The reviewer returns it with a comment on a passage.
    reviewer = people("apshenhe")
    errors.watch(reviewer)
    open_from_list(reviewer, "审核")
    assert reviewer.locator("#item-body img").count() == 1
    reviewer.fill("#id_comment", COMMENT)
    reviewer.locator("#item-body p", has_text="326").first.click(click_count=3)
    anchor = reviewer.input_value("#id_anchor")
    assert "326" in anchor, anchor
    shots.take(reviewer, "review-return")
    reviewer.click("#decision button:text-is('退回修改')")
    reviewer.wait_for_url(f"{server}/review/")
    assert "已退回作者修改" in reviewer.inner_text(".messages")
    errors.check()

    # The officer sees it returned with the comment, revises and submits again; typing and
    # at once clicking the button (the autosave on blur and the form must not collide).
    officer.click("nav.mainnav >> text=我的稿件")
    officer.click("nav.tabs >> text=被退回")
    officer.click(f"#item-rows a:text-is('{TITLE}')")
    officer.wait_for_selector(f"h1:has-text('{TITLE}')")
    assert "退回修改" in officer.inner_text("h1")
    assert COMMENT in officer.inner_text(".timeline")
    assert "326" in officer.inner_text(".timeline blockquote.anchor")
    shots.take(officer, "returned")
    officer.click(".page-head a:text-is('修改')")
    officer.wait_for_url(f"{server}/items/{pk}/edit/")
    type_in_editor(officer, REVISION)
    officer.click("#item-form button:text-is('保存并提交审核')")
    officer.wait_for_url(f"{server}/items/{pk}/")
    assert "已提交审核" in officer.inner_text(".messages")
    assert REVISION in officer.inner_text("#item-body")
    errors.check()

    # Three stages approve; the last one submits it to the city.
    for stage, button in (("初审", "通过"), ("复审", "通过"), ("终审", "通过并报送")):
        open_from_list(reviewer, "审核")
        assert stage in reviewer.inner_text("#decision h2")
        reviewer.fill("#id_comment", f"{stage}同意。")
        if stage == "终审":
            shots.take(reviewer, "final-stage")
        reviewer.click(f"#decision button:text-is('{button}')")
        reviewer.wait_for_url(f"{server}/review/")
    assert "已报送上级单位" in reviewer.inner_text(".messages")
    assert reviewer.locator(f"#item-rows a:text-is('{TITLE}')").count() == 0
    errors.check()

    # Until the city opens it, the officer may still withdraw it.
    officer.goto(f"{server}/items/{pk}/")
    assert "已报送" in officer.inner_text("h1")
    assert officer.locator(".page-head button:text-is('撤回')").count() == 1

    # The city's editor finds it in the incoming list and opens it.
    editor = people("ljbianji")
    errors.watch(editor)
    assert editor.locator("nav.mainnav >> text=收件箱").count() == 1
    # The editors' inbox lists the submitted item; opening it marks it read upstream.
    editor.click("nav >> text=收件箱")
    editor.wait_for_url(f"{server}/inbox/")
    rows = editor.inner_text("#inbox-rows")
    assert "平安县委组织部" in rows and TITLE in rows
    shots.take(editor, "inbox")
    editor.goto(f"{server}/items/{pk}/")
    editor.wait_for_selector(f"h1:has-text('{TITLE}')")
    assert "已阅" in editor.inner_text(".facts")
    assert editor.locator("#decision").count() == 0

    # The approval form, on screen and as a Word file.
    editor.click(".page-head a:text-is('审批表')")
    editor.wait_for_url(f"{server}/items/{pk}/approval-form/")
    sheet = editor.inner_text("main.sheet")
    assert "审批表" in sheet and REVIEWER in sheet
    shots.take(editor, "approval-form")
    with editor.expect_download() as info:
        editor.click(".print-bar a:text-is('下载 Word')")
    download = info.value
    assert download.suggested_filename.endswith(".docx")
    assert "审批表" in download.suggested_filename
    target = tmp_path / "approval.docx"
    download.save_as(target)
    check_docx(target)
    errors.check()

    # Once opened upstream, the officer can no longer withdraw it.
    officer.reload()
    assert "已报送" in officer.inner_text("h1")
    assert officer.locator(".page-head button:text-is('撤回')").count() == 0
    assert "已阅" in officer.inner_text(".facts")
    errors.check()


def check_docx(path: Path) -> None:
    import docx

    document = docx.Document(str(path))
    assert "审批表" in document.paragraphs[0].text
    section = document.sections[0]
    width, height = section.page_width, section.page_height
    assert width is not None and height is not None
    assert (round(width.mm), round(height.mm)) == (210, 297)  # A4
    rows = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    text = "\n".join("|".join(row) for row in rows)
    decisions = {row[0]: row for row in rows if row[1] == REVIEWER}
    for stage in ("初审", "复审", "终审"):
        assert stage in decisions, (stage, text)
        assert f"{stage}同意。" in "".join(r[2] for r in rows if r[0] == stage), text
    assert any(row[0] == "初审" and COMMENT in row[2] for row in rows), text
    assert TITLE in text and "网格员走访.png" in text
