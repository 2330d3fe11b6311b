from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "baosong.audit"
    label = "audit"
    verbose_name = "审计"
