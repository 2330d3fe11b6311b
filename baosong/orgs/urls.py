from django.urls import path

from baosong.orgs import views, views_io

urlpatterns = [
    path("units/", views.unit_tree, name="unit_tree"),
    path("units/new/", views.unit_create, name="unit_create_root"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("units/<int:pk>/children/", views.unit_children, name="unit_children"),
    path("units/<int:pk>/new/", views.unit_create, name="unit_create"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit_edit"),
    path("units/<int:pk>/move/", views.unit_move, name="unit_move"),
    path("units/<int:pk>/deactivate/", views.unit_deactivate, name="unit_deactivate"),
    path("units/<int:pk>/reactivate/", views.unit_reactivate, name="unit_reactivate"),
    path("people/", views.person_list, name="person_list"),
    path("people/new/", views.person_create, name="person_create"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:pk>/deactivate/", views.person_deactivate, name="person_deactivate"),
    path("people/<int:pk>/reactivate/", views.person_reactivate, name="person_reactivate"),
    path(
        "people/<int:pk>/reset-password/", views.person_reset_password, name="person_reset_password"
    ),
    path("people/<int:pk>/unlock/", views.person_unlock, name="person_unlock"),
    path("people/<int:pk>/platform-role/", views.person_platform_role, name="person_platform_role"),
    path("people/<int:pk>/memberships/new/", views.membership_create, name="membership_create"),
    path("memberships/<int:pk>/end/", views.membership_end, name="membership_end"),
    path("registers/import/", views_io.register_import, name="register_import"),
    path("registers/template.xlsx", views_io.register_template, name="register_template"),
    path("registers/export.xlsx", views_io.register_export, name="register_export"),
]
