"""Monthly feedback digest: each unit's officers and correspondents get one email summarising
where their unit's items of the month went (counts and the list)."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.loader import render_to_string
from django.utils import timezone

from baosong.orgs.models import Membership, Role, Unit, User
from baosong.publications import selectors
from baosong.publications.views_feedback import parse_month
from baosong.submissions.models import Status, Submission


def _previous_month() -> dt.date:
    first = timezone.localdate().replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


def recipients(unit: Unit) -> list[User]:
    """Active officers and correspondents of the unit today who have an email address."""
    holders = Membership.objects.current().filter(
        unit=unit, role__in=[Role.OFFICER, Role.CORRESPONDENT]
    )
    return list(
        User.objects.filter(pk__in=holders.values("user_id"), is_active=True)
        .exclude(email="")
        .order_by("pk")
    )


class Command(BaseCommand):
    help = "给各单位信息员、通讯员发送上月（或指定月份）稿件采用情况的邮件汇总。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", help="月份，如 2026-11；默认上个月")
        parser.add_argument("--dry-run", action="store_true", help="只统计，不发送")

    def handle(self, *args: Any, **options: Any) -> None:
        month = parse_month(options["month"]) if options.get("month") else _previous_month()
        if month is None:
            raise CommandError("月份格式应为 2026-11。")
        start, end = selectors.month_bounds(month)
        zone = timezone.get_current_timezone()
        lower = dt.datetime.combine(start, dt.time.min, zone)
        upper = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, zone)
        unit_ids = (
            Submission.objects.filter(submitted_at__gte=lower, submitted_at__lt=upper)
            .exclude(status=Status.DRAFT)
            .values("unit_id")
        )
        label = f"{month.year}年{month.month}月"
        messages: list[EmailMessage] = []
        units = 0
        for unit in Unit.objects.filter(pk__in=unit_ids, is_active=True).order_by("path"):
            feedback = selectors.unit_feedback(Submission.objects.all(), unit, start, end)
            people = recipients(unit)
            if not feedback.submitted or not people:
                continue
            units += 1
            context = {
                "unit": unit,
                "feedback": feedback,
                "label": label,
                "link": f"{settings.BAOSONG_BASE_URL}/feedback/?unit={unit.pk}&month={month:%Y-%m}",
            }
            body = render_to_string("publications/feedback_digest.txt", context)
            subject = f"[报送] {unit.short_name}{label}稿件采用反馈"
            # One message per person, so colleagues do not see each other's addresses.
            messages.extend(EmailMessage(subject, body, None, [p.email]) for p in people)
        if not options["dry_run"] and messages:
            get_connection().send_messages(messages)
        verb = "将发送（演练，未发送）" if options["dry_run"] else "已发送"
        self.stdout.write(f"{label}采用反馈：{units} 个单位，{verb} {len(messages)} 封邮件。")
