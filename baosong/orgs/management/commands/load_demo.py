"""Load the demo province 江川省 and its items (idempotent); `make run` calls it before serving."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from baosong.orgs.demo import PASSWORD_ENV, demo_password, load_demo


class Command(BaseCommand):
    help = (
        f"加载演示数据（江川省及其稿件、采用和刊物）。已存在的单位、人员、稿件和刊物不会重复创建。"
        f"密码取自 {PASSWORD_ENV}。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default=None,
            help=f"演示账号的密码（默认取环境变量 {PASSWORD_ENV}，未设置时为内置演示密码）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Items and their handling are higher layers than the unit tree: orgs must not import
        # submissions or publications at module level, so the imports wait until they are needed.
        from baosong.lib.demo_clock import Plan
        from baosong.publications import demo as handling
        from baosong.publications.demo import load_demo_publications
        from baosong.scoring.demo import load_demo_schemes, load_demo_scoring
        from baosong.submissions import demo as items_demo
        from baosong.submissions.demo import load_demo_items

        password: str = options["password"] or demo_password()
        # The items are told over the last working days and handled after them, each step at
        # its own moment (see baosong.lib.demo_clock).
        plan = Plan(items_demo.STEPS, handling.STEPS)
        try:
            result = load_demo(password)
            # Schemes before items, so the demo's submissions and adoptions are scored as they happen.
            load_demo_schemes()
            items = load_demo_items(plan)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        try:
            adoptions = load_demo_publications(plan)
        except ValidationError as exc:
            # Demo items someone has handled by hand since an earlier load: the province and
            # its items are there, so the server can still start without the demo handling.
            self.stderr.write("；".join(exc.messages))
            adoptions = 0
        try:
            circulars = load_demo_scoring()
        except ValidationError as exc:
            self.stderr.write("；".join(exc.messages))
            circulars = 0
        if not result.changed and not items and not adoptions:
            self.stdout.write(result.summary())
            return
        self.stdout.write(
            f"演示数据已加载：新建单位 {result.units_created} 个，人员 {result.people_created} 名，"
            f"任职 {result.memberships_created} 条，稿件 {items} 篇，采用 {adoptions} 篇，"
            f"通报 {circulars} 份。"
        )
