"""Replay a scheme's events over a period and put right any difference with the ledger."""

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from baosong.scoring import ledger, workflow
from baosong.scoring.models import Scheme, VersionStatus


class Command(BaseCommand):
    help = "重算计分：按计分办法的各版本重放期间内的事件，与台账不符之处以冲减和新记录更正。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scheme", type=int, help="计分办法编号")
        parser.add_argument(
            "--pending",
            action="store_true",
            help="运行排队中的重算（启用往期生效的版本时在后台进行的；进程重启后由此补做）",
        )
        parser.add_argument("--from", dest="start", default="", help="开始日期 YYYY-MM-DD")
        parser.add_argument("--to", dest="end", default="", help="结束日期 YYYY-MM-DD（含）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["pending"]:
            self.run_pending()
            return
        if options["scheme"] is None:
            raise CommandError("请用 --scheme 指定计分办法，或用 --pending 运行排队中的重算。")
        scheme = Scheme.objects.select_related("unit").filter(pk=options["scheme"]).first()
        if scheme is None:
            raise CommandError("没有这个计分办法。")
        tz = ledger.local_tz()
        try:
            start = (
                dt.datetime.combine(dt.date.fromisoformat(options["start"]), dt.time(), tz)
                if options["start"]
                else dt.datetime(2000, 1, 1, tzinfo=tz)
            )
            end = (
                dt.datetime.combine(
                    dt.date.fromisoformat(options["end"]) + dt.timedelta(days=1), dt.time(), tz
                )
                if options["end"]
                else timezone.now()
            )
        except ValueError as exc:
            raise CommandError("日期格式应为 YYYY-MM-DD。") from exc
        facts = corrected = 0
        for version in scheme.versions.select_related("scheme__unit").filter(
            status=VersionStatus.ADOPTED
        ):
            stats = workflow.recompute(version, start, end)
            facts += stats["facts"]
            corrected += stats["corrected"]
        self.stdout.write(f"{scheme.name}：重放事件 {facts} 个，更正记录 {corrected} 条。")

    def run_pending(self) -> None:
        ran = workflow.run_pending_recomputes()
        for job in ran:
            self.stdout.write(
                f"{job.version}：{job.get_status_display()}，重放事件 {job.facts} 个，"
                f"更正记录 {job.corrected} 条。{job.error}"
            )
        self.stdout.write(f"运行了 {len(ran)} 个排队中的重算。")
