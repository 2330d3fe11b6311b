"""Print a new personal API token for an account, for scripts: `create_api_token LOGIN`."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from baosong.orgs import workflow
from baosong.orgs.models import User


class Command(BaseCommand):
    help = "为一个启用的账号新建个人 API 令牌，只打印令牌本身（仅显示这一次）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("login", help="登录名")
        parser.add_argument("--name", default="命令行令牌", help="令牌名称（不超过 60 字）")

    def handle(self, *args: Any, **options: Any) -> None:
        login: str = options["login"]
        user = User.objects.filter(username=login).first()
        if user is None:
            raise CommandError(f"账号“{login}”不存在。")
        if not user.is_active:
            raise CommandError(f"账号“{login}”已停用。")
        try:
            _token, raw = workflow.create_api_token(by=user, name=options["name"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(raw)
