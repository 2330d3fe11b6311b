from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "baosong.submissions"
    label = "submissions"
    verbose_name = "报送"
