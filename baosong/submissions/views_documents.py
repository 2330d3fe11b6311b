"""The approval form (审批表) of an item: a print page and a .docx download."""

import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from baosong.lib.http import attachment
from baosong.orgs.models import User
from baosong.submissions import access
from baosong.submissions.exports import approval_form_docx as build_docx
from baosong.submissions.exports import form_data

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _file_title(title: str) -> str:
    # Characters Windows refuses in file names would make the browser rename the download.
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", title).strip(" ._")[:80] or "稿件"


@require_GET
def approval_form(request: HttpRequest, pk: int) -> HttpResponse:
    item = access.get_submission_for(_user(request), pk)
    return render(
        request, "submissions/approval_form.html", {"item": item, "form": form_data(item)}
    )


@require_GET
def approval_form_docx(request: HttpRequest, pk: int) -> HttpResponse:
    item = access.get_submission_for(_user(request), pk)
    return attachment(build_docx(item), f"审批表-{_file_title(item.title)}.docx", DOCX)
