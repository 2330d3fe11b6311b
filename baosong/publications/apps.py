from django.apps import AppConfig


class PublicationsConfig(AppConfig):
    name = "baosong.publications"
    label = "publications"
    verbose_name = "采用与刊物"
