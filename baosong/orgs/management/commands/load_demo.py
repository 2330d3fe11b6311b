"""Load the demo province 江川省 and its items (idempotent); `make run` calls it before serving."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from baosong.orgs.demo import PASSWORD_ENV, demo_password, load_demo


class Command(BaseCommand):
    help = (
        f"加载演示数据（江川省及其稿件）。已存在的单位、人员和稿件不会重复创建。"
        f"密码取自 {PASSWORD_ENV}。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default=None,
            help=f"演示账号的密码（默认取环境变量 {PASSWORD_ENV}，未设置时为内置演示密码）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Items are a higher layer than the unit tree: orgs must not import submissions at
        # module level, so the import waits until the province exists.
        from baosong.submissions.demo import load_demo_items

        password: str = options["password"] or demo_password()
        try:
            result = load_demo(password)
            items = load_demo_items()
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        if not result.changed and not items:
            self.stdout.write(result.summary())
            return
        self.stdout.write(
            f"演示数据已加载：新建单位 {result.units_created} 个，人员 {result.people_created} 名，"
            f"任职 {result.memberships_created} 条，稿件 {items} 篇。"
        )
