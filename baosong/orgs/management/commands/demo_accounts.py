"""Print the demo address, the demo password and the main demo logins; `make run` calls it."""

import unicodedata
from typing import Any

from django.core.management.base import BaseCommand

from baosong.orgs.demo import (
    DEFAULT_PASSWORD,
    DEMO_URL,
    MAIN_LOGINS,
    PASSWORD_ENV,
    demo_password,
    person_spec,
    role_label,
    unit_label,
)
from baosong.orgs.models import User


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def table(rows: list[list[str]]) -> list[str]:
    """Columns aligned for a terminal, counting a Chinese character as two columns."""
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


class Command(BaseCommand):
    help = "列出演示地址、演示密码和主要演示账号。"

    def handle(self, *args: Any, **options: Any) -> None:
        password = demo_password()
        accounts = {u.username: u for u in User.objects.filter(username__in=MAIN_LOGINS)}
        out = self.stdout
        out.write(f"报送演示环境：{DEMO_URL}")
        source = "环境变量 " + PASSWORD_ENV if password != DEFAULT_PASSWORD else "默认"
        out.write(f"演示密码：{password}（{source}；所有演示账号相同）")
        if not accounts:
            out.write("尚未加载演示数据：请先运行 python manage.py load_demo。")
            return
        rows = [["角色", "登录名", "姓名", "单位"]]
        for login in MAIN_LOGINS:
            spec = person_spec(login)
            note = "" if login in accounts else "（未创建）"
            rows.append([role_label(spec), login + note, spec.name, unit_label(spec)])
        for line in table(rows):
            out.write("  " + line)
        probe = accounts.get("sheng_bianji")
        if probe is not None and not probe.check_password(password):
            out.write(
                f"注意：sheng_bianji 的密码与上面的演示密码不一致"
                f"（密码已被修改，或加载演示数据时 {PASSWORD_ENV} 的值不同）。"
            )
        out.write("全部演示账号见 docs/demo.md。")
