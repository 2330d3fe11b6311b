"""Judge every closed quota window of every scheme (idempotent; run it nightly)."""

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from baosong.scoring import engine, ledger, workflow
from baosong.scoring.models import Scheme


class Command(BaseCommand):
    help = "结算报送任务：对已结束的考核周期逐一判定，未完成且有扣分的写入计分台账。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=400, help="回看天数（默认 400）")

    def handle(self, *args: Any, **options: Any) -> None:
        end = timezone.now()
        start = (end - dt.timedelta(days=options["days"])).astimezone(ledger.local_tz())
        period = engine.Period("settle", start, end)
        settled = 0
        for scheme in Scheme.objects.select_related("unit"):
            settled += len(workflow.settle_quotas(by=None, scheme=scheme, period=period))
        self.stdout.write(f"已判定报送任务 {settled} 项。")
