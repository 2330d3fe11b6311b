"""Unit tree, people, memberships and API tokens."""

import datetime as dt
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    CENTRAL = "central", _("中央")
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("县")
    TOWNSHIP = "township", _("乡镇")
    INTERNAL = "internal", _("科室")


# Rank of each administrative level; internal sections sit inside any unit.
LEVEL_RANK: dict[str, int] = {
    Level.CENTRAL: 0,
    Level.PROVINCE: 1,
    Level.CITY: 2,
    Level.COUNTY: 3,
    Level.TOWNSHIP: 4,
}

code_validator = RegexValidator(
    r"^[A-Za-z0-9_-]{1,32}$", _("单位编码只能包含字母、数字、下划线和连字符，最长 32 位。")
)
mobile_validator = RegexValidator(r"^1[3-9]\d{9}$", _("手机号码应为 11 位中国大陆手机号。"))
login_validator = RegexValidator(
    r"^[A-Za-z0-9_.-]{2,64}$", _("登录名只能包含字母、数字、点、下划线和连字符，2 至 64 位。")
)


def moved_path(field: str, old: str, new: str) -> Concat:
    """An update expression for a column holding a unit path (or a copy of one) whose value
    begins with `old`: the same path beginning with `new` instead (a unit and its subtree moved)."""
    return Concat(Value(new), Substr(field, len(old) + 1), output_field=models.CharField())


class UnitQuerySet(models.QuerySet["Unit"]):
    def active(self) -> "UnitQuerySet":
        return self.filter(is_active=True)

    def within(self, path: str) -> "UnitQuerySet":
        """The unit with this path and its whole subtree (paths end in '/', so /1/2/ ≠ /1/23/)."""
        return self.filter(path__startswith=path)


class Unit(models.Model):
    code = models.CharField(_("单位编码"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("单位全称"), max_length=120)
    short_name = models.CharField(_("单位简称"), max_length=40)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级单位"),
    )
    # Materialized path of ids, e.g. "/1/5/23/"; kept by workflow.create_unit and move_unit.
    path = models.CharField(max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    sort_order = models.IntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=[c.value for c in Level]), name="unit_level_valid"
            ),
        ]
        indexes = [models.Index(fields=["parent", "sort_order"])]

    def __str__(self) -> str:
        return self.name

    def is_within(self, other: "Unit") -> bool:
        return self.path.startswith(other.path)

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/")[:-1]]

    def snapshot(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "short_name": self.short_name,
            "level": self.level,
            "parent": self.parent.code if self.parent else None,
            "sort_order": self.sort_order,
            "is_active": self.is_active,
        }


class PlatformRole(models.TextChoices):
    """三员分立: one person holds at most one of these (a single field enforces it)."""

    NONE = "", _("无")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("审计管理员")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra: Any) -> "User":
        user = self.model(username=username, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    username = models.CharField(
        _("登录名"), max_length=64, unique=True, validators=[login_validator]
    )
    real_name = models.CharField(_("姓名"), max_length=40)
    mobile = models.CharField(_("手机"), max_length=11, blank=True, validators=[mobile_validator])
    email = models.EmailField(_("邮箱"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    platform_role = models.CharField(
        _("平台角色"), max_length=20, choices=PlatformRole.choices, default="", blank=True
    )
    must_change_password = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["real_name"]

    class Meta:
        ordering = ["username"]
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        indexes = [models.Index(fields=["real_name", "username"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(platform_role__in=[c.value for c in PlatformRole]),
                name="user_platform_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.real_name}（{self.username}）"

    def get_full_name(self) -> str:
        return self.real_name

    def get_short_name(self) -> str:
        return self.real_name

    def snapshot(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "real_name": self.real_name,
            "mobile": self.mobile,
            "email": self.email,
            "is_active": self.is_active,
            "platform_role": self.platform_role,
        }


class Role(models.TextChoices):
    OFFICER = "officer", _("信息员")
    CORRESPONDENT = "correspondent", _("通讯员")
    REVIEWER = "reviewer", _("审核人")
    EDITOR = "editor", _("编辑")
    UNIT_ADMIN = "unit_admin", _("单位管理员")


class MembershipQuerySet(models.QuerySet["Membership"]):
    def current(self, on: dt.date | None = None) -> "MembershipQuerySet":
        day = on or timezone.localdate()
        return self.filter(start__lte=day).filter(Q(end__isnull=True) | Q(end__gte=day))


class Membership(models.Model):
    """A person's role in a unit over a period; ended, never deleted."""

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("人员")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("单位")
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    start = models.DateField(_("起始日期"))
    end = models.DateField(_("终止日期"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["unit__path", "role", "start"]
        verbose_name = _("任职")
        verbose_name_plural = _("任职")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "unit", "role"],
                condition=Q(end__isnull=True),
                name="membership_one_open_per_role",
            ),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="membership_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(role__in=[c.value for c in Role]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.real_name} · {self.unit.short_name} · {self.get_role_display()}"

    def is_current(self, on: dt.date | None = None) -> bool:
        day = on or timezone.localdate()
        return self.start <= day and (self.end is None or self.end >= day)

    def snapshot(self) -> dict[str, Any]:
        return {
            "user": self.user.username,
            "unit": self.unit.code,
            "role": self.role,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
        }


class ApiToken(models.Model):
    """A personal token for scripts; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=60)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
