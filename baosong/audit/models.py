"""Append-only audit events. The database refuses UPDATE and DELETE (see migration 0002)."""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# What each action means, in the words users read in the log.
ACTION_LABELS: dict[str, str | Promise] = {
    "auth.login": _("登录成功"),
    "auth.login_failed": _("登录失败"),
    "auth.logout": _("退出登录"),
    "auth.lockout": _("账号锁定"),
    "auth.unlock": _("解除锁定"),
    "unit.create": _("新建单位"),
    "unit.update": _("修改单位"),
    "unit.move": _("移动单位"),
    "unit.deactivate": _("停用单位"),
    "unit.reactivate": _("启用单位"),
    "person.create": _("新建人员"),
    "person.update": _("修改人员"),
    "person.deactivate": _("停用账号"),
    "person.reactivate": _("启用账号"),
    "person.password_reset": _("重置密码"),
    "person.password_change": _("修改密码"),
    "person.platform_role": _("分配平台角色"),
    "membership.create": _("添加任职"),
    "membership.end": _("结束任职"),
    "token.create": _("生成 API 令牌"),
    "token.revoke": _("撤销 API 令牌"),
    "register.import": _("导入台账"),
    "register.export": _("导出台账"),
    "audit.export": _("导出审计日志"),
}

# The role under which an actor acted, as recorded by the workflows ("unit_admin@/1/5/" carries the
# path of the administered unit; the log shows that unit's name).
ROLE_LABELS: dict[str, str | Promise] = {
    "system_admin": _("系统管理员"),
    "security_admin": _("安全管理员"),
    "audit_admin": _("审计管理员"),
    "unit_admin": _("单位管理员"),
    "self": _("本人"),
    "system": _("平台（命令行）"),
}

AUDIT_ADMIN = "audit_admin"


def role_label(role: str, unit_names: dict[str, str] | None = None) -> str:
    name, _sep, path = role.partition("@")
    label = str(ROLE_LABELS.get(name, name))
    if path:
        unit = (unit_names or {}).get(path, path)
        label = gettext("%(role)s（%(unit)s）") % {"role": label, "unit": unit}
    return label


def can_read_audit(user: object) -> bool:
    """Only the audit admin (审计管理员) reads the audit log."""
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and getattr(user, "platform_role", "") == AUDIT_ADMIN
    )


class EventQuerySet(models.QuerySet["Event"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit events are append-only")


class Event(models.Model):
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    # Snapshots, so the event stays readable whatever later happens to the account.
    actor_login = models.CharField(_("login name"), max_length=150, blank=True)
    actor_role = models.CharField(_("role"), max_length=80, blank=True)
    ip = models.GenericIPAddressField(_("source IP"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=60, db_index=True)
    object_type = models.CharField(_("object type"), max_length=40, blank=True)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    # Materialized path of the unit the event concerns ("/1/5/"), so the log filters by subtree.
    unit_path = models.CharField(_("unit"), max_length=255, blank=True, db_index=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["actor", "at"]), models.Index(fields=["action", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_login} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit events are append-only")

    @property
    def action_label(self) -> str:
        return str(ACTION_LABELS.get(self.action, self.action))
