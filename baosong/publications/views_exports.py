"""An issue as a download: Word in the official layout, and PDF when LibreOffice is installed.

Only the editors and unit admins of the publication's unit may download (access.get_issue_for).
A published issue comes out of its frozen revision; `?revision=N` picks an earlier one.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from baosong.lib.http import attachment
from baosong.orgs.models import User
from baosong.publications import access, exports
from baosong.publications.models import Issue, IssueRevision, IssueStatus

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _document(request: HttpRequest, issue: Issue) -> tuple[bytes, int | None]:
    """The .docx of the revision asked for, of the published revision, or of the draft."""
    asked = request.GET.get("revision", "")
    if asked:
        if not asked.isdigit():
            raise Http404("revision")
        number = int(asked)
    elif issue.status == IssueStatus.PUBLISHED and issue.revision:
        number = issue.revision
    else:
        return exports.issue_docx(issue), None
    try:
        revision = IssueRevision.objects.select_related("issue__publication__unit").get(
            issue=issue, revision=number
        )
    except IssueRevision.DoesNotExist as exc:
        raise Http404("revision") from exc
    return exports.revision_docx(revision), number


@require_GET
def issue_docx(request: HttpRequest, pk: int) -> HttpResponse:
    issue = access.get_issue_for(_user(request), pk)
    data, revision = _document(request, issue)
    return attachment(data, exports.issue_filename(issue, "docx", revision), DOCX)


@require_GET
def issue_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    issue = access.get_issue_for(_user(request), pk)
    data, revision = _document(request, issue)
    try:
        pdf = exports.docx_to_pdf(data)
    except exports.PdfError as exc:
        context = {"issue": issue, "message": str(exc), "revision": revision}
        return render(request, "publications/issue_pdf_unavailable.html", context, status=503)
    return attachment(pdf, exports.issue_filename(issue, "pdf", revision), PDF)


urlpatterns: list[URLPattern] = [
    path("issues/<int:pk>/issue.docx", issue_docx, name="issue_docx"),
    path("issues/<int:pk>/issue.pdf", issue_pdf, name="issue_pdf"),
]
