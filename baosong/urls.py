from django.urls import include, path

from baosong.api import api
from baosong.home import home
from baosong.orgs import views, views_auth

urlpatterns = [
    path("", home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", views_auth.login_view, name="login"),
    path("logout/", views_auth.logout_view, name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("profile/", views_auth.profile, name="profile"),
    path("profile/password/", views_auth.password_change, name="password_change"),
    path("profile/tokens/", views_auth.token_create, name="token_create"),
    path("profile/tokens/<int:pk>/revoke/", views_auth.token_revoke, name="token_revoke"),
    path("", include("baosong.orgs.urls")),
    path("audit/", include("baosong.audit.urls")),
    path("", include("baosong.submissions.urls")),
    path("", include("baosong.publications.urls")),
    path("", include("baosong.scoring.urls")),
    path("api/v1/", api.urls),
]
