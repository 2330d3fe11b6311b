from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "baosong.orgs"
    label = "orgs"
    verbose_name = "单位与人员"

    def ready(self) -> None:
        # Django's own auth signals are the only hook for sign-in, sign-out and lockout events.
        from baosong.orgs import auth_events  # noqa: F401
