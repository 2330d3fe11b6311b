"""Items (信息/稿件/专报), their versions, authors, addressees, review stages and events."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from baosong.orgs.models import Role, Unit


class ItemType(models.TextChoices):
    INFO = "info", _("信息")
    NEWS = "news", _("稿件")
    SPECIAL = "special", _("专报")


class Kind(models.TextChoices):
    DYNAMIC = "dynamic", _("动态类")
    EXPERIENCE = "experience", _("经验类")
    PROBLEM = "problem", _("问题类")
    ANALYSIS = "analysis", _("研判类")


class Status(models.TextChoices):
    DRAFT = "draft", _("草稿")
    IN_REVIEW = "in_review", _("审核中")
    RETURNED = "returned", _("退回修改")
    REJECTED = "rejected", _("未通过")
    SUBMITTED = "submitted", _("已报送")


class SubmissionQuerySet(models.QuerySet["Submission"]):
    def authored_by(self, user: Any) -> "SubmissionQuerySet":
        return self.filter(authors__user=user)


class Submission(models.Model):
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="submissions", verbose_name=_("报送单位")
    )
    item_type = models.CharField(_("类型"), max_length=10, choices=ItemType.choices)
    kind = models.CharField(_("类别"), max_length=12, choices=Kind.choices, blank=True)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"), blank=True)  # sanitized HTML (sanitize.clean)
    event_date = models.DateField(_("事件日期"), null=True, blank=True)
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    # The review plan is copied when review starts, so changing a unit's stages later does not
    # disturb items already in review.
    stage_plan = models.JSONField(default=list, blank=True)
    stage_index = models.PositiveSmallIntegerField(default=0)
    stage_role = models.CharField(max_length=20, blank=True)
    stage_named = models.BooleanField(default=False)
    version_number = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("报送稿件")
        verbose_name_plural = _("报送稿件")
        indexes = [
            models.Index(fields=["unit", "status", "stage_role"]),
            models.Index(fields=["status", "-updated_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def stage(self) -> dict[str, Any] | None:
        if self.status != Status.IN_REVIEW or self.stage_index >= len(self.stage_plan):
            return None
        stage: dict[str, Any] = self.stage_plan[self.stage_index]
        return stage

    def snapshot(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "item_type": self.item_type,
            "kind": self.kind,
            "status": self.status,
            "stage_index": self.stage_index,
            "version": self.version_number,
        }


class Author(models.Model):
    """An author and their share of the item (shares of one item sum to 100)."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="authors")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authorships"
    )
    share = models.PositiveSmallIntegerField(_("份额"))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "user"], name="author_once_per_item"),
            models.CheckConstraint(
                condition=Q(share__gte=1) & Q(share__lte=100), name="author_share_1_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.share}%"


class Handling(models.TextChoices):
    """Where an item stands at one receiving unit."""

    PENDING = "pending", _("待处理")
    ADOPTED = "adopted", _("已采用")
    REFERENCE = "reference", _("仅供参考")
    FORWARDED = "forwarded", _("已转报")
    RETURNED = "returned", _("已退回")


class Addressee(models.Model):
    """A receiving unit of an item (addressed by the origin, or reached by forwarding): its
    receipt. opened_at ends the authors' right to withdraw."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="addressees")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="incoming")
    opened_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(
        _("处理状态"), max_length=10, choices=Handling.choices, default=Handling.PENDING
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    forwarded_from = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    forwarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Copies of the item's title and origin path, written when the item is received, so the inbox
    # sorts 200,000 receipts by an index instead of joining and sorting the items.
    sort_title = models.CharField(max_length=200, blank=True)
    origin_path = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["submission", "unit"], name="addressee_once_per_item")
        ]
        indexes = [
            models.Index(fields=["unit", "opened_at"]),
            models.Index(fields=["unit", "state", "received_at"]),
            # The inbox's 全部 tab, newest first (bench/inbox.py).
            models.Index(fields=["unit", "received_at"], name="addressee_unit_received"),
            # The inbox's sorts by title and by origin, in their full order down to the id, so a
            # page is read off the index: with the sort key alone, every receipt sharing the first
            # title or origin on the page (a thousand at province scale) is sorted first.
            models.Index(
                fields=["unit", "state", "sort_title", "-id"], name="addressee_state_title_id"
            ),
            models.Index(fields=["unit", "sort_title", "-id"], name="addressee_unit_title_id"),
            models.Index(
                fields=["unit", "state", "origin_path", "-received_at", "-id"],
                name="addressee_state_origin_at",
            ),
            models.Index(
                fields=["unit", "origin_path", "-received_at", "-id"],
                name="addressee_unit_origin_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.submission_id} → {self.unit}"


class Assignee(models.Model):
    """Named people who act on the item's current stage (when the stage names people)."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="assignees")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["submission", "user"], name="assignee_once")]

    def __str__(self) -> str:
        return f"{self.submission_id}:{self.user_id}"


class VersionSource(models.TextChoices):
    CREATE = "create", _("新建")
    SAVE = "save", _("保存")
    AUTOSAVE = "autosave", _("自动保存")
    REVIEW_EDIT = "review_edit", _("审校修改")
    CONFLICT = "conflict", _("冲突保留")


class Version(models.Model):
    """Every save that changes the content; never edited. A conflict keeps the losing text."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    source = models.CharField(max_length=12, choices=VersionSource.choices)
    based_on = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "number"], name="version_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.submission_id} v{self.number}"


class EventAction(models.TextChoices):
    CREATE = "create", _("起草")
    SUBMIT_FOR_REVIEW = "submit_for_review", _("提交审核")
    APPROVE = "approve", _("审核通过")
    RETURN = "return", _("退回修改")
    REJECT = "reject", _("不予采用")
    SUBMIT = "submit", _("报送")
    WITHDRAW = "withdraw", _("撤回")
    RETURN_FROM_UPPER = "return_upper", _("上级退回")
    REVIEW_EDIT = "review_edit", _("审校修改")
    OPEN = "open", _("上级已阅")


class Event(models.Model):
    """The item's timeline: one append-only row per change (the database refuses edits)."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=20, choices=EventAction.choices)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=80, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    stage_index = models.PositiveSmallIntegerField(null=True, blank=True)
    stage_name = models.CharField(max_length=40, blank=True)
    comment = models.TextField(blank=True)
    anchor = models.CharField(max_length=300, blank=True)  # the quoted passage a comment is about
    version_number = models.PositiveIntegerField(null=True, blank=True)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        # An item's submissions up to a moment, from the index alone (scoring reads them for
        # thousands of items at once; with only the `at` index SQLite scanned every event
        # before the moment per batch, and without the action it read each event's row).
        indexes = [
            models.Index(fields=["submission", "action", "at"], name="sub_event_item_action_at"),
            # The items submitted in a period, from the index alone (a recompute's first step).
            models.Index(fields=["action", "at", "submission"], name="sub_event_action_at_item"),
        ]

    def __str__(self) -> str:
        return f"{self.submission_id} {self.action}"


class StageConfig(models.Model):
    """One review stage of a unit (三审三校), optionally for one item type only."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="review_stages")
    item_type = models.CharField(_("适用类型"), max_length=10, choices=ItemType.choices, blank=True)
    position = models.PositiveSmallIntegerField(_("顺序"))
    name = models.CharField(_("名称"), max_length=40)
    role = models.CharField(
        _("办理角色"),
        max_length=20,
        choices=[(Role.REVIEWER, Role.REVIEWER.label), (Role.UNIT_ADMIN, Role.UNIT_ADMIN.label)],
        default=Role.REVIEWER,
    )
    people = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("指定人员")
    )
    can_edit = models.BooleanField(_("可修改正文"), default=False)

    class Meta:
        ordering = ["unit", "item_type", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "item_type", "position"], name="stage_position_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit.short_name} {self.position}. {self.name}"


class AttachmentCategory(models.TextChoices):
    IMAGE = "image", _("图片")
    DOCX = "docx", _("Word 文档")
    PDF = "pdf", _("PDF")
    XLSX = "xlsx", _("Excel 表格")
    VIDEO = "video", _("视频")


class Attachment(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="attachments")
    original_name = models.CharField(max_length=255)
    storage_name = models.CharField(max_length=64, unique=True)
    category = models.CharField(max_length=8, choices=AttachmentCategory.choices)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class UploadLimit(models.Model):
    """Per-type size limit set by the system admin (defaults in uploads.DEFAULT_LIMITS)."""

    category = models.CharField(max_length=8, choices=AttachmentCategory.choices, unique=True)
    max_bytes = models.PositiveBigIntegerField()

    def __str__(self) -> str:
        return f"{self.category} ≤ {self.max_bytes}"


class NotificationKind(models.TextChoices):
    RETURNED = "returned", _("被退回修改")
    APPROVED = "approved", _("审核通过")
    REJECTED = "rejected", _("未通过")
    SUBMITTED = "submitted", _("已报送")
    TO_REVIEW = "to_review", _("待我审核")


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=12, choices=NotificationKind.choices)
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.message


class NotificationPreference(models.Model):
    """Email on or off per event type (in-app notifications are always on)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs"
    )
    kind = models.CharField(max_length=12, choices=NotificationKind.choices)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_pref_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.email}"
