from django.urls import path

from baosong.submissions import (
    views,
    views_attachments,
    views_documents,
    views_notifications,
    views_versions,
)

urlpatterns = [
    path("items/", views.my_items, name="items_mine"),
    path("items/new/", views.item_create, name="items_new"),
    path("items/<int:pk>/", views.item_detail, name="items_detail"),
    path("items/<int:pk>/edit/", views.item_edit, name="items_edit"),
    path("items/<int:pk>/autosave/", views.item_autosave, name="items_autosave"),
    path("items/<int:pk>/submit/", views.item_submit, name="items_submit"),
    path("items/<int:pk>/approve/", views.item_approve, name="items_approve"),
    path("items/<int:pk>/return/", views.item_return, name="items_return"),
    path("items/<int:pk>/reject/", views.item_reject, name="items_reject"),
    path("items/<int:pk>/withdraw/", views.item_withdraw, name="items_withdraw"),
    path("items/<int:pk>/versions/", views_versions.version_list, name="items_versions"),
    path("items/<int:pk>/versions/compare/", views_versions.version_compare, name="items_compare"),
    path("items/<int:pk>/attachments/", views_attachments.attachment_upload, name="items_attach"),
    path(
        "items/<int:pk>/attachments/<int:aid>/",
        views_attachments.attachment_download,
        name="items_attachment",
    ),
    path(
        "items/<int:pk>/attachments/<int:aid>/remove/",
        views_attachments.attachment_remove,
        name="items_attachment_remove",
    ),
    path(
        "items/<int:pk>/approval-form/", views_documents.approval_form, name="items_approval_form"
    ),
    path(
        "items/<int:pk>/approval-form.docx",
        views_documents.approval_form_docx,
        name="items_approval_form_docx",
    ),
    path("review/", views.review_queue, name="review_queue"),
    path("incoming/", views.incoming, name="incoming"),
    path("units/<int:pk>/review-stages/", views.review_stages, name="review_stages"),
    path("notifications/", views_notifications.notification_list, name="notifications"),
    path(
        "notifications/<int:pk>/read/",
        views_notifications.notification_read,
        name="notification_read",
    ),
    path(
        "notifications/read-all/",
        views_notifications.notification_read_all,
        name="notifications_read_all",
    ),
    path(
        "notifications/preferences/",
        views_notifications.notification_preferences,
        name="notification_preferences",
    ),
    path("settings/uploads/", views_attachments.upload_limits, name="upload_limits"),
]
