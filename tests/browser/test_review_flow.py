"""An item from draft to the upper unit: an officer writes it with an image and autosave, the
reviewer returns it with a comment, the officer revises, three stages approve, the city's editor
opens it in the incoming list and downloads the approval form."""

import re
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
    """Uncaught exceptions and console errors of a page; any of them fails the test."""

    def __init__(self, page: Any) -> None:
        self.seen: list[str] = []
        page.on("pageerror", lambda exc: self.seen.append(f"pageerror on {page.url}: {exc}"))
        page.on("console", self._console)
        page.on("requestfailed", lambda r: self.seen.append(f"request failed: {r.url} {r.failure}"))
        page.on(
            "response",
            lambda r: r.status >= 400 and self.seen.append(f"HTTP {r.status}: {r.url}"),
        )
        self.page = page

    def _console(self, message: Any) -> None:
        source = message.location.get("url", "")
        # The site has no favicon yet (base.html links none); the browser asks for one anyway.
        if message.type == "error" and not source.endswith("/favicon.ico"):
            self.seen.append(f"console error on {self.page.url}: {message.text} ({source})")

    def check(self) -> None:
        assert self.seen == [], "\n".join(self.seen)


class Shots:
    def __init__(self, page: Any) -> None:
        self.page, self.dir, self.n = page, screenshot_dir(), 0

    def take(self, name: str) -> None:
        if self.dir is not None:
            self.n += 1
            self.page.screenshot(
                path=str(self.dir / f"review-{self.n:02d}-{name}.png"), full_page=True
            )


def sign_in(page: Any, base: str, login: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", login)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def sign_out(page: Any, base: str) -> None:
    page.click("header button:text('退出')")
    page.wait_for_url(f"{base}/login/")


def small_png(tmp_path: Path) -> Path:
    from PIL import Image, ImageDraw

    path = tmp_path / "网格员走访.png"
    image = Image.new("RGB", (120, 80), (200, 30, 30))
    ImageDraw.Draw(image).rectangle((20, 20, 100, 60), fill=(255, 220, 0))
    image.save(path)
    return path


def type_in_editor(page: Any, text: str) -> None:
    """Put the caret at the end of the Jodit editing area and type like a person."""
    area = page.locator(".jodit-wysiwyg")
    area.click()
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


def test_officer_writes_reviewer_returns_then_approves_three_stages_and_editor_receives(
    server: str, page: Any, tmp_path: Path
) -> None:
    errors = BrowserErrors(page)
    shots = Shots(page)

    # The officer writes a draft.
    sign_in(page, server, "apxinxi")
    page.click("nav.mainnav >> text=我的稿件")
    page.click("main a:text-is('写稿件')")
    page.fill("#id_title", TITLE)
    page.select_option("#id_item_type", "info")
    page.select_option("#id_kind", "experience")
    page.wait_for_selector(".jodit-wysiwyg")
    type_in_editor(page, FIRST)
    shots.take("new-draft")
    page.click("#item-form button:text-is('保存')")
    page.wait_for_url(re.compile(r"/items/\d+/edit/$"))
    pk = int(re.search(r"/items/(\d+)/edit/", page.url).group(1))  # type: ignore[union-attr]
    assert "草稿已保存" in page.inner_text(".messages")
    assert FIRST in page.inner_text(".jodit-wysiwyg")
    assert version_in_status(page) == 1

    # An image goes up as an attachment and into the text.
    page.set_input_files(f"#attachment-file-{pk}", str(small_png(tmp_path)))
    page.click(f"#attachments-{pk} button:text-is('上传')")
    insert = page.locator(f"#attachments-{pk} [data-insert-image]")
    insert.wait_for()
    assert "网格员走访.png" in page.inner_text(f"#attachments-{pk}")
    insert.click()
    page.wait_for_selector(".jodit-wysiwyg img")

    # Typing more text autosaves a new version (a few seconds after typing or on blur).
    before = version_in_status(page) if "已自动保存" in page.inner_text("#autosave-status") else 1
    type_in_editor(page, SECOND)
    page.wait_for_function(
        """(before) => {
            const m = document.getElementById('autosave-status').textContent
                .match(/已自动保存 \\d\\d:\\d\\d:\\d\\d（第 (\\d+) 版）/);
            return m && Number(m[1]) > before;
        }""",
        arg=before,
        timeout=10_000,
    )
    saved = version_in_status(page)
    shots.take("autosaved")

    # The server has the text and the image: a reload shows them, with nothing to restore.
    page.reload()
    page.wait_for_selector(".jodit-wysiwyg img")
    text = page.inner_text(".jodit-wysiwyg")
    assert FIRST in text and SECOND in text
    src = page.get_attribute(".jodit-wysiwyg img", "src")
    assert src and src.startswith(f"/items/{pk}/attachments/") and "inline=1" in src
    page.wait_for_function("document.querySelector('.jodit-wysiwyg img').naturalWidth === 120")
    assert version_in_status(page) == saved
    assert page.locator("#restore-banner").is_hidden()

    page.click("#item-form button:text-is('保存并提交审核')")
    page.wait_for_url(f"{server}/items/{pk}/")
    assert "已提交审核" in page.inner_text(".messages")
    assert "审核中" in page.inner_text("h1")
    assert "初审" in page.inner_text("h1")
    errors.check()
    sign_out(page, server)

    # The reviewer returns it with a comment on a passage.
    sign_in(page, server, "apshenhe")
    open_from_list(page, "审核")
    assert page.locator("#item-body img").count() == 1
    page.fill("#id_comment", COMMENT)
    page.locator("#item-body p", has_text="326").first.click(click_count=3)
    anchor = page.input_value("#id_anchor")
    assert "326" in anchor, anchor
    shots.take("review-return")
    page.click("#decision button:text-is('退回修改')")
    page.wait_for_url(f"{server}/review/")
    assert "已退回作者修改" in page.inner_text(".messages")
    errors.check()
    sign_out(page, server)

    # The officer sees it returned with the comment, revises and submits again.
    sign_in(page, server, "apxinxi")
    page.click("nav.mainnav >> text=我的稿件")
    page.click("nav.tabs >> text=被退回")
    page.click(f"#item-rows a:text-is('{TITLE}')")
    page.wait_for_selector(f"h1:has-text('{TITLE}')")
    assert "退回修改" in page.inner_text("h1")
    timeline = page.inner_text(".timeline")
    assert COMMENT in timeline and "326" in page.inner_text(".timeline blockquote.anchor")
    shots.take("returned")
    page.click(".page-head a:text-is('修改')")
    page.wait_for_url(f"{server}/items/{pk}/edit/")
    type_in_editor(page, REVISION)
    page.click("#item-form button:text-is('保存并提交审核')")
    page.wait_for_url(f"{server}/items/{pk}/")
    assert "已提交审核" in page.inner_text(".messages")
    assert REVISION in page.inner_text("#item-body")
    errors.check()
    sign_out(page, server)

    # Three stages approve; the last one submits it to the city.
    sign_in(page, server, "apshenhe")
    for stage, button in (("初审", "通过"), ("复审", "通过"), ("终审", "通过并报送")):
        open_from_list(page, "审核")
        assert stage in page.inner_text("#decision h2")
        page.fill("#id_comment", f"{stage}同意。")
        if stage == "终审":
            shots.take("final-stage")
        page.click(f"#decision button:text-is('{button}')")
        page.wait_for_url(f"{server}/review/")
    assert "已报送上级单位" in page.inner_text(".messages")
    assert page.locator(f"#item-rows a:text-is('{TITLE}')").count() == 0
    errors.check()
    sign_out(page, server)

    # Until the city opens it, the officer may still withdraw it.
    sign_in(page, server, "apxinxi")
    page.goto(f"{server}/items/{pk}/")
    assert "已报送" in page.inner_text("h1")
    assert page.locator(".page-head button:text-is('撤回')").count() == 1
    sign_out(page, server)

    # The city's editor finds it in the incoming list and opens it.
    sign_in(page, server, "ljbianji")
    page.click("nav.mainnav >> text=收件箱")
    assert "平安县委组织部" in page.inner_text("#item-rows")
    shots.take("incoming")
    page.click(f"#item-rows a:text-is('{TITLE}')")
    page.wait_for_selector(f"h1:has-text('{TITLE}')")
    assert "已阅" in page.inner_text(".facts")
    assert page.locator("#decision").count() == 0

    # The approval form, on screen and as a Word file.
    page.click(".page-head a:text-is('审批表')")
    page.wait_for_url(f"{server}/items/{pk}/approval-form/")
    sheet = page.inner_text("main.sheet")
    assert "审批表" in sheet and REVIEWER in sheet
    shots.take("approval-form")
    with page.expect_download() as info:
        page.click(".print-bar a:text-is('下载 Word')")
    download = info.value
    assert download.suggested_filename.endswith(".docx")
    assert "审批表" in download.suggested_filename
    target = tmp_path / "approval.docx"
    download.save_as(target)
    check_docx(target)
    errors.check()
    sign_out(page, server)

    # Once opened upstream, the officer can no longer withdraw it.
    sign_in(page, server, "apxinxi")
    page.goto(f"{server}/items/{pk}/")
    assert "已报送" in page.inner_text("h1")
    assert page.locator(".page-head button:text-is('撤回')").count() == 0
    assert "已阅" in page.inner_text(".facts")
    errors.check()


def check_docx(path: Path) -> None:
    import docx

    document = docx.Document(str(path))
    assert "审批表" in document.paragraphs[0].text
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    text = "\n".join(cells)
    for stage in ("初审", "复审", "终审"):
        assert stage in cells, (stage, text)
    assert REVIEWER in cells
    assert TITLE in text
    assert COMMENT in text
    assert "网格员走访.png" in text
