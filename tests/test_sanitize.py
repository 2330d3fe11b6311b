"""The rich-text sanitizer: an XSS corpus, idempotence, allowed formatting, and the way user HTML
reaches the database and the pages."""

import html
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from baosong.audit.models import Event as AuditEvent
from baosong.submissions import workflow
from baosong.submissions.models import Event, Version
from baosong.submissions.sanitize import TAGS, clean, plain_text
from baosong.submissions.workflow import DraftInput
from conftest import client_for

XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=x OnErRoR=alert(1)>",
    '<img src=x onerror="&#97;&#108;&#101;&#114;&#116;(1)">',
    "<img src=x onerror=alert(1)//",
    '<img """><script>alert(1)</script>">',
    '<img src="javascript:alert(1)">',
    '<img src="/media/a.png" srcset="javascript:alert(1) 1x">',
    '<a href="javascript:alert(1)">点我</a>',
    '<a href="JaVaScRiPt:alert(1)">点我</a>',
    '<a href="  javascript:alert(1)">点我</a>',
    '<a href="java\tscript:alert(1)">点我</a>',
    '<a href="javascript&#58;alert(1)">点我</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">点我</a>',
    '<a href="&#x6A;avascript&colon;alert(1)">点我</a>',
    '<a href="vbscript:msgbox(1)">点我</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">点我</a>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<a href="https://example.com/" onclick="alert(1)" target="_blank">链接</a>',
    "<svg onload=alert(1)><circle r=10></circle></svg>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text y="20">点我</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    '<math href="javascript:alert(1)">x</math>',
    '<iframe src="https://evil.example/"></iframe>',
    '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<p style="background:url(javascript:alert(1))">文字</p>',
    '<div style="width: expression(alert(1))">文字</div>',
    '<span style="behavior:url(x.htc)">文字</span>',
    '<a href="https://ok.example/" style="position:fixed;top:0;left:0;width:100%">ok</a>',
    '<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">提交</button></form>',
    "<input autofocus onfocus=alert(1)>",
    "<body onload=alert(1)>正文</body>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    "<!--[if gte IE 4]><script>alert(1)</script><![endif]-->",
    "<!--<img src=x onerror=alert(1)>-->",
    "<template><img src=x onerror=alert(1)></template>",
    "<details open ontoggle=alert(1)>x</details>",
    "<video><source onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)>",
    '<p onclick="alert(1)" onmouseover="alert(1)">文字</p>',
    '<div id="x" class="evil" data-x="y" onpointerenter=alert(1)>x</div>',
    '<table background="javascript:alert(1)"><tr><td>1</td></tr></table>',
    '<td background="javascript:alert(1)">x</td>',
    '<isindex action="javascript:alert(1)" type=image>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<xmp><img src=x onerror=alert(1)></xmp>",
    "<textarea><img src=x onerror=alert(1)></textarea>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<plaintext><script>alert(1)</script>",
    '<object data="data:text/html,<script>alert(1)</script>"></object>',
    '<a href="//evil.example/%0aalert(1)">x</a>',
]

DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "srcset"}


class Collect(HTMLParser):
    """Tags, attributes and script contents of an HTML text, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((tag, name, value or "") for name, value in attrs)
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def parsed(text: str) -> Collect:
    parser = Collect()
    parser.feed(text)
    parser.close()
    return parser


def scheme_of(url: str) -> str:
    squeezed = re.sub(r"[\x00-\x20]", "", html.unescape(url)).lower()
    return squeezed.split(":", 1)[0] + ":" if ":" in squeezed.split("/", 1)[0] else ""


def assert_harmless(cleaned: str, *, strict: bool = True) -> None:
    """No dangerous element, attribute or URL; `strict` also refuses the words as escaped text,
    which holds for the corpus (random mixes can leave "javascript:" as harmless text)."""
    lowered = cleaned.lower()
    for marker in ("<script", "<svg", "<math", "<iframe", "<object", "<embed", "<style", "<form"):
        assert marker not in lowered, cleaned
    for word in ("javascript:", "vbscript:", "data:"):
        assert not strict or word not in lowered, cleaned
    # As text, "onerror=" may stand escaped inside an attribute's value (title="&lt;img
    # onerror=…"), which is harmless: the parsed attributes below are what counts.
    assert not strict or not re.search(r"<[^>]*\son[a-z]+\s*=", lowered), cleaned
    doc = parsed(cleaned)
    assert set(doc.tags) <= TAGS, cleaned
    for _tag, name, value in doc.attrs:
        assert not name.startswith("on"), cleaned
        assert name not in ("style", "srcdoc", "srcset", "formaction", "action"), cleaned
        if name in URL_ATTRIBUTES:
            assert scheme_of(value) in ("", "http:", "https:", "mailto:"), cleaned


def test_the_corpus_has_at_least_thirty_payloads() -> None:
    assert len(set(XSS)) == len(XSS) >= 30


@pytest.mark.parametrize("payload", XSS)
def test_a_payload_comes_out_harmless_and_stable(payload: str) -> None:
    cleaned = clean(payload)
    assert_harmless(cleaned)
    assert clean(cleaned) == cleaned


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "<p>段落<strong>加粗</strong><em>强调</em></p>",
            "<p>段落<strong>加粗</strong><em>强调</em></p>",
        ),
        ("<ul><li>一</li><li>二</li></ul><ol><li>三</li></ol>", None),
        (
            '<table><thead><tr><th colspan="2">表头</th></tr></thead>'
            '<tbody><tr><td>1</td><td rowspan="2">2</td></tr></tbody></table>',
            None,
        ),
        (
            '<a href="https://www.gov.cn/" title="中国政府网">链接</a>',
            '<a href="https://www.gov.cn/" title="中国政府网" rel="noopener noreferrer">链接</a>',
        ),
        ('<img src="/items/3/attachments/7/" alt="图片" width="300">', None),
        ('<img src="/items/3/attachments/8/?inline=1">', None),
        ("<h2>小标题</h2><blockquote>引用</blockquote><p>一<br>二</p><hr>", None),
    ],
)
def test_allowed_formatting_survives(source: str, expected: str | None) -> None:
    assert clean(source) == (expected or source)


def test_plain_text_keeps_one_line_per_block() -> None:
    assert plain_text(clean("<p>第一段</p><p>第二段&amp;<b>加粗</b></p><ul><li>一</li></ul>")) == (
        "第一段\n第二段&加粗\n一"
    )


@pytest.mark.parametrize(
    "source",
    [
        "<pre><select>\n\n",  # found by hypothesis: each pass dropped a newline after <pre>
        "<pre>" + "\n" * 20 + "x</pre>",
        "<pre>&#13;&#10;\r\nx</pre>",
        "<p><select><p>",
        "a&#13;b",
        '<a title="<pre>\n\nx">y</a>',
    ],
)
def test_cleaning_reaches_a_fixed_point_on_known_tricky_inputs(source: str) -> None:
    once = clean(source)
    assert clean(once) == once


TAG_NAMES = sorted(
    {
        *TAGS,
        *[
            "select",
            "option",
            "textarea",
            "xmp",
            "noscript",
            "template",
            "svg",
            "math",
            "mtext",
            "mglyph",
            "style",
            "script",
        ],
        *[
            "iframe",
            "form",
            "button",
            "object",
            "frameset",
            "plaintext",
            "title",
            "html",
            "body",
            "head",
            "image",
        ],
    }
)
ATTRIBUTES = [
    "",
    ' href="javascript:alert(1)"',
    " href=https://a.cn/",
    " src=a.png",
    " onerror=alert(1)",
    ' title="<pre>\n"',
    ' style="x:expression(1)"',
    " colspan=2",
    " alt='&#13;'",
]
fragments = st.one_of(
    st.builds(lambda t, a: f"<{t}{a}>", st.sampled_from(TAG_NAMES), st.sampled_from(ATTRIBUTES)),
    st.sampled_from(TAG_NAMES).map(lambda t: f"</{t}>"),
    st.sampled_from(
        ["文字", "x", " ", "\n", "\r", "&#13;", "&lt;", "<", ">", "&", "<!--", "-->", "<!", "\x00"]
    ),
    st.text(max_size=4),
)
html_ish = st.lists(fragments, max_size=30).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html_ish)
def test_cleaning_twice_changes_nothing(source: str) -> None:
    once = clean(source)
    assert clean(once) == once


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(XSS), html_ish), max_size=5).map("".join))
@example(  # found by CI: the payload's tail ends up escaped in a title attribute
    '<img src=x onerror=alert(1)//<noscript><p title="</noscript><img src=x onerror=alert(1)>">'
    "</noscript>"
)
def test_any_mix_of_payloads_comes_out_harmless(source: str) -> None:
    assert_harmless(clean(source), strict=False)


# Through the workflow and onto the pages ---------------------------------------------------------


def test_every_payload_is_stored_clean_by_create_draft_and_save_content(world: Any) -> None:
    item = workflow.create_draft(
        by=world.officer_county_a,
        unit=world.county_a,
        data=DraftInput(
            item_type="info", kind="dynamic", title="标题", body=XSS[0] + "<p>正文</p>"
        ),
    )
    assert item.body == "<p>正文</p>"
    assert Event.objects.filter(submission=item, action="create").count() == 1
    assert AuditEvent.objects.filter(action="item.create", object_id=str(item.pk)).exists()
    base = item.version_number
    for payload in XSS:
        result = workflow.save_content(
            by=world.officer_county_a,
            item=item,
            base_version=base,
            title="标题",
            body=f"<p>前</p>{payload}<p>后</p>",
        )
        base = result.item.version_number
        assert not result.conflict
    item.refresh_from_db()
    stored = [item.body, *Version.objects.filter(submission=item).values_list("body", flat=True)]
    for body in stored:
        assert_harmless(body)
        assert clean(body) == body


def payload_item(world: Any, title: str, body: str) -> Any:
    return workflow.create_draft(
        by=world.officer_county_a,
        unit=world.county_a,
        data=DraftInput(item_type="info", kind="dynamic", title=title, body=body),
    )


def assert_page_adds_nothing_executable(page: str, baseline: str) -> None:
    """The page with the payloads runs exactly the scripts and handlers of a harmless page."""
    doc, base = parsed(page), parsed(baseline)
    assert doc.scripts == base.scripts
    handlers = sorted((t, n, v) for t, n, v in doc.attrs if n.startswith("on"))
    assert handlers == sorted((t, n, v) for t, n, v in base.attrs if n.startswith("on"))
    assert not any(n == "onerror" for _, n, _ in doc.attrs)
    assert "<script>alert" not in page.lower()
    for tag in ("svg", "math", "iframe", "object", "embed", "style", "base", "meta http-equiv"):
        assert page.lower().count(f"<{tag}") == baseline.lower().count(f"<{tag}"), tag
    for _, name, value in doc.attrs:
        if name in URL_ATTRIBUTES:
            assert scheme_of(value) not in DANGEROUS_SCHEMES, (name, value)


def test_the_item_page_shows_the_corpus_only_through_the_sanitizer(world: Any) -> None:
    harmless = payload_item(world, "普通标题", "<p>正文</p>")
    item = payload_item(world, "<script>alert(1)</script>标题", "<p>正文</p>" + "".join(XSS))
    client = client_for(world.officer_county_a)
    baseline = client.get(reverse("items_detail", args=[harmless.pk])).content.decode()
    response = client.get(reverse("items_detail", args=[item.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;标题" in page  # the title is text, escaped
    assert '<a href="https://example.com/" rel="noopener noreferrer">链接</a>' in page
    assert_page_adds_nothing_executable(page, baseline)


def test_the_compare_page_shows_the_corpus_only_as_escaped_text(world: Any) -> None:
    item = payload_item(world, "<img src=x onerror=alert(1)>标题", "<p>正文</p>")
    workflow.save_content(
        by=world.officer_county_a,
        item=item,
        base_version=1,
        title="<script>alert(1)</script>标题",
        body="<p>正文</p><p>&lt;script&gt;x</p>" + "".join(f"<p>{p}</p>" for p in XSS),
    )
    client = client_for(world.officer_county_a)
    url = reverse("items_compare", args=[item.pk])
    baseline = client.get(url + "?a=1&b=1").content.decode()
    response = client.get(url + "?a=1&b=2")
    assert response.status_code == 200
    page = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;script&gt;x" in page
    assert_page_adds_nothing_executable(page, baseline)


@pytest.mark.parametrize(
    ("src", "kept"),
    [
        ("/items/12/attachments/34/?inline=1", True),
        ("/items/12/attachments/34/", True),
        ("https://tracker.example/pixel.gif", False),
        ("//tracker.example/pixel.gif", False),
        ("/items/12/attachments/34/?inline=1&u=1", False),
        ("/static/../items/1/attachments/2/", False),
    ],
)
def test_images_may_only_point_at_the_items_own_attachments(src: str, kept: bool) -> None:
    cleaned = clean(f'<p><img src="{src}" alt="图"></p>')
    assert (f'src="{src.replace("&", "&amp;")}"' in cleaned) is kept
