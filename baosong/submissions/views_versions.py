"""Versions of an item and a side-by-side comparison of any two of them."""

import re
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from baosong.orgs.models import User
from baosong.submissions import access
from baosong.submissions.diff import Row, compare
from baosong.submissions.models import Version
from baosong.submissions.sanitize import plain_text

VERSIONS_PER_PAGE = 50
# Unchanged paragraphs shown around each change; longer unchanged runs fold away.
CONTEXT = 2

_NUMBER = re.compile(r"[0-9]{1,9}")


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@require_GET
def version_list(request: HttpRequest, pk: int) -> HttpResponse:
    item = access.get_submission_for(_user(request), pk)
    versions = (
        Version.objects.filter(submission=item)
        .select_related("created_by")
        .defer("body")
        .order_by("-number")
    )
    page = Paginator(versions, VERSIONS_PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    context = {
        "item": item,
        "page": page,
        "versions": rows,
        "pick_b": rows[0].number if rows else None,
        "pick_a": rows[1].number if len(rows) > 1 else None,
    }
    return render(request, "submissions/version_list.html", context)


@dataclass
class Block:
    """A run of rows: shown, or folded (a long stretch of unchanged paragraphs)."""

    rows: list[Row]
    folded: bool = False


def _blocks(rows: tuple[Row, ...]) -> list[Block]:
    changed = [k for k, row in enumerate(rows) if row.op != "equal"]
    near = {k for c in changed for k in range(c - CONTEXT, c + CONTEXT + 1)}
    blocks: list[Block] = []
    for k, row in enumerate(rows):
        folded = k not in near
        if blocks and blocks[-1].folded == folded:
            blocks[-1].rows.append(row)
        else:
            blocks.append(Block([row], folded))
    # Folding one or two paragraphs saves nothing.
    for block in blocks:
        if block.folded and len(block.rows) <= 2:
            block.folded = False
    return blocks


def _number(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    if not value:
        return None
    if not _NUMBER.fullmatch(value):
        raise Http404("version")
    return int(value)


@require_GET
def version_compare(request: HttpRequest, pk: int) -> HttpResponse:
    item = access.get_submission_for(_user(request), pk)
    b = _number(request, "b") or item.version_number
    a = _number(request, "a")
    if a is None:
        earlier = Version.objects.filter(submission=item, number__lt=b).order_by("-number")
        a = earlier.values_list("number", flat=True).first() or b
    found = {
        v.number: v
        for v in Version.objects.filter(submission=item, number__in={a, b}).select_related(
            "created_by"
        )
    }
    if a not in found or b not in found:
        raise Http404("version")
    old, new = found[a], found[b]
    title = compare(old.title, new.title)
    body = compare(plain_text(old.body), plain_text(new.body))
    same = old.title == new.title and old.body == new.body
    context = {
        "item": item,
        "old": old,
        "new": new,
        "versions_pair": [old, new],
        "title_diff": title,
        "blocks": _blocks(body.rows),
        "same": same,
        # Bold, images or tables changed while every word stayed the same.
        "format_only": not same and not title.changed and not body.changed,
    }
    return render(request, "submissions/version_compare.html", context)
