"""Load the demo province 江川省 (idempotent); `make run` calls it before serving."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from baosong.orgs.demo import PASSWORD_ENV, demo_password, load_demo


class Command(BaseCommand):
    help = f"加载演示数据（江川省）。已存在的单位和人员不会重复创建。密码取自 {PASSWORD_ENV}。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default=None,
            help=f"演示账号的密码（默认取环境变量 {PASSWORD_ENV}，未设置时为内置演示密码）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password: str = options["password"] or demo_password()
        try:
            result = load_demo(password)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(result.summary())
