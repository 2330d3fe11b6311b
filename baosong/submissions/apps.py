from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "baosong.submissions"
    label = "submissions"
    verbose_name = "报送"

    def ready(self) -> None:
        from baosong.lib import hooks
        from baosong.submissions import workflow

        hooks.listen(workflow.on_event)
