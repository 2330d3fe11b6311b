"""The city's editor adopts two county items (one whole as lead item, one as an excerpt), composes
an issue of a new journal, reorders it, writes the editor's note, previews, publishes and downloads
the .docx; the origin officers then see where their items went. Then a correction reopens the issue
and the excerpt is withdrawn (撤销采用); its county sees that too."""

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ADOPT_FIRST, ADOPT_SECOND, screenshot_dir
from tests.browser.test_review_flow import BrowserErrors, sign_in

pytestmark = pytest.mark.browser

JOURNAL = "临江组工信息"
DISTRIBUTION = "报：江川省委组织部\n发：各县（市、区）委组织部"
EXCERPT = "清河县选派48名年轻干部到村蹲点调研，推动解决群众急难愁盼问题96个。"
NOTE = "本期介绍两个县在年轻干部培养上的做法，供各地参考。"
CITY = "临江市委组织部"
WITHDRAWN = "与上期所采稿件内容重复"


class Shots:
    def __init__(self) -> None:
        self.dir, self.n = screenshot_dir(), 0

    def take(self, page: Any, name: str) -> None:
        if self.dir is not None:
            self.n += 1
            page.screenshot(
                path=str(self.dir / f"adoption-{self.n:02d}-{name}.png"), full_page=True
            )


@pytest.fixture
def people(browser: Any, server: str) -> Iterator[Callable[[str], Any]]:
    """A signed-in page per person, each in its own browser context."""
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


def inbox_row(page: Any, title: str) -> Any:
    return page.locator("#inbox-rows tbody tr", has_text=title)


def pk_in(url: str, pattern: str) -> int:
    found = re.search(pattern, url)
    assert found, url
    return int(found.group(1))


def issue_titles(page: Any) -> list[str]:
    titles = page.locator("#issue-items .issue-item .item-title").all_inner_texts()
    return [t.replace("头条", "").strip() for t in titles]


def test_editor_adopts_two_items_composes_publishes_and_origin_sees_feedback(
    server: str, people: Callable[[str], Any], tmp_path: Path
) -> None:
    errors, shots = BrowserErrors(), Shots()
    editor = people("ljbianji")
    errors.watch(editor)

    # The editor sets up the city's journal and opens its first issue.
    editor.click("nav.mainnav >> text=刊物")
    editor.wait_for_url(f"{server}/publications/")
    editor.fill("#new-publication #id_name", JOURNAL)
    assert editor.input_value("#new-publication #id_kind") == "journal"
    editor.fill("#new-publication #id_distribution", DISTRIBUTION)
    editor.click("#new-publication button:text-is('创建')")
    editor.wait_for_url(re.compile(r"/publications/\d+/$"))
    publication = pk_in(editor.url, r"/publications/(\d+)/")
    assert f"刊物“{JOURNAL}”已创建。" in editor.inner_text(".messages")
    editor.click("#issues button:text-is('新建一期')")
    editor.wait_for_url(re.compile(r"/issues/\d+/$"))
    issue = pk_in(editor.url, r"/issues/(\d+)/")
    heading = editor.inner_text("h1")
    number = re.search(r"(\d{4})年第(\d+)期", heading)
    assert number and JOURNAL in heading and "编辑中" in heading, heading
    label = number.group(0)
    errors.check()

    # Both items wait in the inbox, unread and pending.
    editor.click("nav.mainnav >> text=收件箱")
    editor.wait_for_url(f"{server}/inbox/")
    for title, origin in ((ADOPT_FIRST, "平安县委组织部"), (ADOPT_SECOND, "清河县委组织部")):
        row = inbox_row(editor, title)
        assert row.count() == 1, title
        text = row.inner_text()
        assert "未读" in text and "待处理" in text and origin in text, text
    shots.take(editor, "inbox")

    # The first: claimed, then adopted whole into the issue as the lead item.
    inbox_row(editor, ADOPT_FIRST).locator(f"a:has-text('{ADOPT_FIRST}')").click()
    editor.wait_for_url(re.compile(r"/inbox/\d+/$"))
    first = pk_in(editor.url, r"/inbox/(\d+)/")
    # The side panel with the item's way so far loads by htmx; let it land before acting.
    editor.wait_for_selector(f"#outcomes-{first}")
    # Claiming and adopting come back to the same address: wait for the new page, not the URL.
    with editor.expect_navigation():
        editor.click(".page-head button:text-is('认领')")
    editor.wait_for_selector(f"#outcomes-{first}")
    assert "已认领" in editor.inner_text(".messages")
    assert "我正在处理" in editor.inner_text(".page-head")
    assert editor.eval_on_selector("#id_adopt-publication", "s => s.selectedOptions[0].text") == (
        f"《{JOURNAL}》（信息刊物）"
    )
    editor.select_option("#id_adopt-issue", str(issue))
    assert editor.is_checked("#adopt input[name='adopt-form'][value='whole']")
    editor.check("#id_adopt-is_lead")
    shots.take(editor, "adopt-whole")
    with editor.expect_navigation():
        editor.click("#adopt button:text-is('采用')")
    assert editor.url == f"{server}/inbox/{first}/"
    editor.wait_for_selector(f"#outcomes-{first}")
    assert f"已采用到《{JOURNAL}》{label}（全文）" in editor.inner_text(".messages")
    assert "已采用" in editor.inner_text("h1")
    adopted = editor.inner_text("#adoptions")
    assert JOURNAL in adopted and label in adopted and "头条" in adopted, adopted
    errors.check()

    # The second: adopted as an excerpt with a text of the editor's own, not yet in an issue.
    editor.click(".breadcrumb a:text-is('收件箱')")
    editor.wait_for_url(f"{server}/inbox/")
    # Adopted, the first has left the pending tab.
    assert inbox_row(editor, ADOPT_FIRST).count() == 0
    assert "已采用 1" in editor.inner_text("#inbox-rows nav.tabs")
    editor.click(f"#inbox-rows a:has-text('{ADOPT_SECOND}')")
    editor.wait_for_url(re.compile(r"/inbox/\d+/$"))
    second = pk_in(editor.url, r"/inbox/(\d+)/")
    editor.wait_for_selector(f"#outcomes-{second}")
    assert "暂不编入" in editor.eval_on_selector(
        "#id_adopt-issue", "s => s.selectedOptions[0].text"
    )
    editor.check("#adopt input[name='adopt-form'][value='excerpt']")
    # The adopted text is edited in the rich-text editor (Jodit) that replaces the textarea.
    editor.wait_for_function("() => window.baosongEditor !== undefined")
    editor.evaluate("text => { window.baosongEditor.value = text; }", f"<p>{EXCERPT}</p>")
    with editor.expect_navigation():
        editor.click("#adopt button:text-is('采用')")
    assert editor.url == f"{server}/inbox/{second}/"
    editor.wait_for_selector(f"#outcomes-{second}")
    assert f"已采用到《{JOURNAL}》（待编期）（摘编）" in editor.inner_text(".messages")
    errors.check()

    # The journal lists the excerpt as waiting for an issue; the issue takes it in.
    editor.click("nav.mainnav >> text=刊物")
    editor.click(f"main a[href='/publications/{publication}/']")
    editor.wait_for_url(f"{server}/publications/{publication}/")
    assert ADOPT_SECOND in editor.inner_text("#unplaced")
    editor.click(f"#issues a:has-text('{label}')")
    editor.wait_for_url(f"{server}/issues/{issue}/")
    assert issue_titles(editor) == [ADOPT_FIRST]
    editor.locator("#add label", has_text=ADOPT_SECOND).locator("input").check()
    editor.click("#add button:text-is('编入本期')")
    editor.wait_for_url(f"{server}/issues/{issue}/#items")
    assert "已编入 1 篇。" in editor.inner_text(".messages")
    assert issue_titles(editor) == [ADOPT_FIRST, ADOPT_SECOND]
    assert (
        editor.locator(f"#issue-items .issue-item:has-text('{ADOPT_FIRST}') .badge").inner_text()
        == "头条"
    )
    shots.take(editor, "compose")

    # ↓ on the first moves it after the second; the order holds after a reload.
    with editor.expect_navigation():
        editor.click(f"#issue-items button[aria-label='下移《{ADOPT_FIRST}》']")
    assert issue_titles(editor) == [ADOPT_SECOND, ADOPT_FIRST]
    editor.reload()
    assert issue_titles(editor) == [ADOPT_SECOND, ADOPT_FIRST]
    numbers = editor.locator("#issue-items .item-no").all_inner_texts()
    assert numbers == ["1", "2"]
    assert editor.is_disabled(f"#issue-items button[aria-label='上移《{ADOPT_SECOND}》']")
    assert editor.is_disabled(f"#issue-items button[aria-label='下移《{ADOPT_FIRST}》']")

    # The editor's note and the table of contents.
    editor.fill("#settings #id_editor_note", NOTE)
    editor.check("#settings #id_show_toc")
    editor.click("#settings button:text-is('保存设置')")
    editor.wait_for_url(f"{server}/issues/{issue}/#settings")
    assert "本期设置已保存。" in editor.inner_text(".messages")
    assert editor.input_value("#settings #id_editor_note") == NOTE
    errors.check()

    # The preview (a new tab) shows the red masthead, the note and both titles in the new order.
    with editor.context.expect_page() as opened:
        editor.click(".page-head a:text-is('预览')")
    preview = opened.value
    errors.watch(preview)
    preview.wait_for_load_state()
    assert preview.url == f"{server}/issues/{issue}/preview/"
    assert preview.inner_text(".masthead .pub-name") == JOURNAL
    assert (
        preview.eval_on_selector(".pub-name", "e => getComputedStyle(e).color") == "rgb(238, 0, 0)"
    )
    assert (
        preview.eval_on_selector(".red-rule", "e => getComputedStyle(e).borderTopColor")
        == "rgb(238, 0, 0)"
    )
    assert label in preview.inner_text(".masthead") and "未印发" in preview.inner_text(".masthead")
    assert NOTE in preview.inner_text(".editor-note")
    assert preview.locator(".toc li").all_inner_texts() == [ADOPT_SECOND, ADOPT_FIRST]
    assert preview.locator("article.piece h2").all_inner_texts() == [ADOPT_SECOND, ADOPT_FIRST]
    pieces = preview.locator("article.piece")
    assert (
        EXCERPT in pieces.nth(0).inner_text() and "蹲点调研三个月" not in pieces.nth(0).inner_text()
    )
    assert (
        "412名" in pieces.nth(1).inner_text() and "平安县委组织部报送" in pieces.nth(1).inner_text()
    )
    assert "报：江川省委组织部" in preview.inner_text("footer.record")
    shots.take(preview, "preview")
    preview.close()
    errors.check()

    # 印发, after the confirmation; the issue is frozen.
    dialogs: list[str] = []

    def accept(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    editor.once("dialog", accept)
    editor.click(".page-head button:text-is('印发')")
    editor.wait_for_selector(".page-head h1 .badge:text-is('已印发')")
    assert dialogs and "印发后本期冻结" in dialogs[0], dialogs
    assert f"{label}（总第1期）已印发（第 1 版）。" in editor.inner_text(".messages")
    assert editor.locator("#issue-items .move-up, #issue-items .move-down").count() == 0
    assert issue_titles(editor) == [ADOPT_SECOND, ADOPT_FIRST]
    shots.take(editor, "published")

    # The Word file in the official layout.
    with editor.expect_download() as info:
        editor.click(".page-head a:text-is('下载 Word')")
    download = info.value
    assert download.suggested_filename == f"《{JOURNAL}》{label}.docx"
    target = tmp_path / "issue.docx"
    download.save_as(target)
    check_docx(target, label)
    errors.check()

    # The officer of the first item sees where it went: the city, the journal's issue, lead item.
    officer = people("apxinxi")
    errors.watch(officer)
    officer.goto(f"{server}/items/{first}/")
    officer.wait_for_selector(f"h1:has-text('{ADOPT_FIRST}')")
    outcomes = officer.locator(f"#outcomes-{first}")
    outcomes.locator("table >> text=头条").wait_for()
    row = outcomes.locator("tbody tr").first.inner_text()
    assert CITY in row and f"《{JOURNAL}》{label}" in row and "全文" in row and "头条" in row, row
    assert "编辑中" not in row
    steps = outcomes.locator(".events").inner_text()
    assert "采用" in steps and JOURNAL in steps, steps
    shots.take(officer, "officer-feedback")

    # The unit's feedback page counts one adoption, as lead item.
    officer.click("nav.mainnav >> text=采用反馈")
    officer.wait_for_url(f"{server}/feedback/")
    assert officer.inner_text("[data-stat=adopted]") == "1"
    assert officer.inner_text("[data-stat=lead]") == "1"
    assert ADOPT_FIRST in officer.inner_text("main")
    errors.check()

    # The other county's officer sees the excerpt, without the lead mark, and not the first item.
    other = people("qhxinxi")
    errors.watch(other)
    other.goto(f"{server}/items/{second}/")
    other_outcomes = other.locator(f"#outcomes-{second}")
    other_outcomes.locator("table >> text=摘编").wait_for()
    row = other_outcomes.locator("tbody tr").first.inner_text()
    assert f"《{JOURNAL}》{label}" in row and "头条" not in row, row
    errors.check()

    # 撤销采用: a correction reopens the issue, and the excerpt, taken in error, is withdrawn.
    editor.goto(f"{server}/issues/{issue}/")
    editor.fill("#correct textarea[name=reason]", "清河县稿件误采，撤下后重印")
    with editor.expect_navigation():
        editor.click("#correct button:text-is('发起更正')")
    editor.wait_for_selector(".notice:has-text('正在更正')")
    editor.click(f"#issue-items .issue-item:has-text('{ADOPT_SECOND}') a:text-is('编辑')")
    editor.wait_for_url(re.compile(r"/adoptions/\d+/edit/$"))
    editor.fill("#withdraw textarea[name=reason]", WITHDRAWN)
    dialogs.clear()
    editor.once("dialog", accept)
    with editor.expect_navigation():
        editor.click("#withdraw button:text-is('撤销采用')")
    assert dialogs and "确定撤销这条采用吗" in dialogs[0], dialogs
    assert editor.url == f"{server}/publications/{publication}/"
    assert f"已撤销对《{ADOPT_SECOND}》的采用" in editor.inner_text(".messages")
    shots.take(editor, "withdrawn")
    editor.goto(f"{server}/issues/{issue}/")
    assert issue_titles(editor) == [ADOPT_FIRST]
    # Pending again in the city's inbox.
    editor.click("nav.mainnav >> text=收件箱")
    assert "待处理" in inbox_row(editor, ADOPT_SECOND).inner_text()
    errors.check()
    # The county sees both steps and the reason.
    other.reload()
    other_outcomes.locator(".events >> text=撤销采用").wait_for()
    steps = other_outcomes.locator(".events").inner_text()
    assert "（已撤销）" in steps and WITHDRAWN in steps, steps
    assert "暂未被采用" in other_outcomes.inner_text()
    errors.check()


def check_docx(path: Path, label: str) -> None:
    import docx

    document = docx.Document(str(path))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == JOURNAL, texts[:3]
    assert label in texts[1], texts[:3]
    section = document.sections[0]
    width, height = section.page_width, section.page_height
    assert width is not None and height is not None
    assert (round(width.mm), round(height.mm)) == (210, 297)  # A4
    red = document.paragraphs[0].runs[0].font.color.rgb
    assert str(red) in ("FF0000", "EE0000", "E00000"), red
    assert any(NOTE in t for t in texts), texts
    second, first = texts.index(ADOPT_SECOND, 2), texts.index(ADOPT_FIRST, 2)
    # The titles in the table of contents, then the pieces in the new order.
    assert [t for t in texts if t.endswith(ADOPT_SECOND) or t.endswith(ADOPT_FIRST)][:2] == [
        f"1. {ADOPT_SECOND}",
        f"2. {ADOPT_FIRST}",
    ]
    assert second < first
    assert any(EXCERPT in t for t in texts[second:first])
    assert any("412名" in t for t in texts[first:])
