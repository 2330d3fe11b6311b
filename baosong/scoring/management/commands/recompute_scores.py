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
        parser.add_argument("--scheme", type=int, required=True, help="计分办法编号")
        parser.add_argument("--from", dest="start", default="", help="开始日期 YYYY-MM-DD")
        parser.add_argument("--to", dest="end", default="", help="结束日期 YYYY-MM-DD（含）")

    def handle(self, *args: Any, **options: Any) -> None:
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
