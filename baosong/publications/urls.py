"""Each views module of this app declares its own urlpatterns; they are joined here."""

from baosong.publications import views_exports, views_feedback, views_inbox, views_issues

urlpatterns = [
    *views_inbox.urlpatterns,
    *views_feedback.urlpatterns,
    *views_issues.urlpatterns,
    *views_exports.urlpatterns,
]
