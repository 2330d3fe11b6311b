"""Rich-text sanitizer (nh3 allow-list). Pure: no Django imports.

Applied on save and again on render; idempotent: clean(clean(x)) == clean(x).
"""

import html
import re

import nh3

TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "sub",
    "sup",
    "h1",
    "h2",
    "h3",
    "h4",
    "blockquote",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "caption",
    "a",
    "img",
    "span",
    "div",
    "pre",
    "code",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https", "mailto"}


# The parser drops the first newline after <pre> but the serializer does not write it back, so
# each pass would lose one; leading newlines in <pre> go at once instead.
_PRE_NEWLINES = re.compile(r"<pre>[\r\n]+")


# Images in the text must be the item's own attachments: an outside address would let whoever
# controls it see who opened the item, and when (a tracking pixel).
OWN_IMAGE = re.compile(r"^/items/\d+/attachments/\d+/(\?inline=1)?$")


def _only_own_images(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not OWN_IMAGE.match(value):
        return None
    return value


def _clean_once(value: str) -> str:
    cleaned = nh3.clean(
        value,
        tags=TAGS,
        attributes=ATTRIBUTES,
        attribute_filter=_only_own_images,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return _PRE_NEWLINES.sub("<pre>", cleaned)


# Reparsing sanitized output can change it once more (misnested tags, a carriage return turned
# into a newline); the second pass almost always reaches the fixed point.
_MAX_PASSES = 8


def clean(value: str) -> str:
    """Keep the allowed structure; drop scripts, handlers, styles, SVG, javascript:/data: URLs."""
    if not value:
        return ""
    current = _clean_once(value)
    for _ in range(_MAX_PASSES):
        following = _clean_once(current)
        if following == current:
            break
        current = following
    return current


_BLOCK = re.compile(r"</(p|div|h[1-4]|li|tr|blockquote|pre)>|<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def plain_text(value: str) -> str:
    """Text of sanitized HTML, one line per block, for diffs, search and documents."""
    text = _BLOCK.sub("\n", value or "")
    text = html.unescape(_TAG.sub("", text))
    lines = [line.strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)
