from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "baosong.scoring"
    label = "scoring"
    verbose_name = "计分与排名"

    def ready(self) -> None:
        from baosong.lib import hooks
        from baosong.scoring import ledger

        hooks.listen(ledger.on_event)
