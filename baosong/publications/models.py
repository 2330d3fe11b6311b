"""Adoption (采用), forwarding (转报), publications (刊物) and their issues, instructions (批示),
and the append-only events that scoring will derive points from."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from baosong.orgs.models import Level, Unit
from baosong.submissions.models import Submission


class PublicationKind(models.TextChoices):
    BULLETIN = "bulletin", _("简报")
    SPECIAL = "special", _("专报")
    JOURNAL = "journal", _("信息刊物")
    WEBSITE = "website", _("网站")
    WECHAT = "wechat", _("公众号")


CHANNEL_KINDS = (PublicationKind.WEBSITE, PublicationKind.WECHAT)


class Publication(models.Model):
    """A unit's publication or channel, e.g. 《组工信息》 (journal) or the department's 公众号."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="publications")
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("类别"), max_length=10, choices=PublicationKind.choices)
    masthead = models.CharField(_("刊头单位署名"), max_length=80, blank=True)
    distribution = models.TextField(
        _("报送范围（报/送/发）"), blank=True, help_text=_("每行一项，如：报：省委组织部")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["unit", "name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="publication_name_unique")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_channel(self) -> bool:
        return self.kind in CHANNEL_KINDS


class IssueStatus(models.TextChoices):
    DRAFT = "draft", _("编辑中")
    PUBLISHED = "published", _("已印发")


class Issue(models.Model):
    """One issue (期) of a publication: 2026年第12期, 总第N期."""

    publication = models.ForeignKey(Publication, on_delete=models.PROTECT, related_name="issues")
    year = models.PositiveSmallIntegerField(_("年份"))
    number = models.PositiveIntegerField(_("期号"))
    total_number = models.PositiveIntegerField(_("总期号"))
    issue_date = models.DateField(_("出刊日期"))
    editor_note = models.TextField(_("编者按"), blank=True)
    show_toc = models.BooleanField(_("本期导读"), default=True)
    distribution = models.TextField(_("报送范围（报/送/发）"), blank=True)
    status = models.CharField(max_length=10, choices=IssueStatus.choices, default=IssueStatus.DRAFT)
    revision = models.PositiveSmallIntegerField(default=0)
    correction_reason = models.CharField(_("更正原因"), max_length=300, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["publication", "year", "number"], name="issue_number_unique"
            ),
            models.UniqueConstraint(
                fields=["publication", "total_number"], name="issue_total_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.publication.name} {self.year}年第{self.number}期"

    @property
    def label(self) -> str:
        return f"{self.year}年第{self.number}期（总第{self.total_number}期）"


class AdoptionForm(models.TextChoices):
    WHOLE = "whole", _("全文")
    EXCERPT = "excerpt", _("摘编")
    COMBINED = "combined", _("综合")
    ONE_LINE = "one_line", _("一句话")


class LiveAdoptions(models.Manager["Adoption"]):
    """Adoptions that stand: a withdrawn adoption (撤销采用) is kept for the record only."""

    def get_queryset(self) -> models.QuerySet["Adoption"]:
        return super().get_queryset().filter(withdrawn_at__isnull=True)


class Adoption(models.Model):
    """One use of one or more items by an adopting unit: its own event for scoring.

    `objects` holds the adoptions that stand (and so do related managers such as
    `issue.adoptions`); `all_objects` also the withdrawn ones."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="adoptions")
    unit_level = models.CharField(max_length=16, choices=Level.choices)  # at the time of adoption
    publication = models.ForeignKey(Publication, on_delete=models.PROTECT, related_name="adoptions")
    publication_kind = models.CharField(max_length=10, choices=PublicationKind.choices)
    issue = models.ForeignKey(
        Issue, on_delete=models.PROTECT, null=True, blank=True, related_name="adoptions"
    )
    form = models.CharField(_("采用形式"), max_length=10, choices=AdoptionForm.choices)
    is_lead = models.BooleanField(_("头条"), default=False)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("采用稿"), blank=True)  # sanitized; the edited text for excerpts
    position = models.PositiveIntegerField(default=0)  # order within the issue
    published_url = models.URLField(_("发布网址"), blank=True)
    published_on = models.DateField(_("发布日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdraw_reason = models.CharField(_("撤销原因"), max_length=300, blank=True)

    objects = LiveAdoptions()
    all_objects: models.Manager["Adoption"] = models.Manager()

    class Meta:
        ordering = ["issue", "position", "id"]
        indexes = [models.Index(fields=["unit", "created_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def in_published_issue(self) -> bool:
        """Frozen with its issue: editing or withdrawing it needs a correction first."""
        return self.issue is not None and self.issue.status != IssueStatus.DRAFT

    def scoring_facts(self) -> dict[str, Any]:
        return {
            "adopting_unit": self.unit.code,
            "adopting_level": self.unit_level,
            "publication_kind": self.publication_kind,
            "form": self.form,
            "is_lead": self.is_lead,
        }


class AdoptionSource(models.Model):
    """A source item of an adoption, its origin unit and share (combined pieces credit several)."""

    adoption = models.ForeignKey(Adoption, on_delete=models.CASCADE, related_name="sources")
    submission = models.ForeignKey(
        Submission, on_delete=models.PROTECT, related_name="adoption_sources"
    )
    origin_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    share = models.PositiveSmallIntegerField(default=100)
    is_lead_source = models.BooleanField(default=False)  # 主报单位 of a combined piece
    forwarded_by = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["adoption", "submission"], name="adoption_source_once"),
            models.CheckConstraint(
                condition=Q(share__gte=1) & Q(share__lte=100), name="source_share_1_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.adoption_id}←{self.submission_id}"


class LeaderLevel(models.TextChoices):
    CENTRAL = "central", _("中央")
    PROVINCE = "province", _("省级")
    CITY = "city", _("市级")
    COUNTY = "county", _("县级")


class Instruction(models.Model):
    """A leader's written instruction (批示) on an adoption."""

    adoption = models.ForeignKey(Adoption, on_delete=models.PROTECT, related_name="instructions")
    leader_name = models.CharField(_("领导姓名"), max_length=40)
    leader_position = models.CharField(_("职务"), max_length=80)
    level = models.CharField(_("批示级别"), max_length=10, choices=LeaderLevel.choices)
    is_principal = models.BooleanField(_("主要领导"), default=False)
    text = models.TextField(_("批示内容"))
    instructed_on = models.DateField(_("批示日期"))
    scan_name = models.CharField(max_length=255, blank=True)
    scan_storage = models.CharField(max_length=64, blank=True)
    scan_type = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["instructed_on", "id"]

    def __str__(self) -> str:
        return f"{self.leader_name}批示"


class IssueRevision(models.Model):
    """A frozen copy of a published issue; a correction publishes a new revision with a reason."""

    issue = models.ForeignKey(Issue, on_delete=models.PROTECT, related_name="revisions")
    revision = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=300, blank=True)
    snapshot = models.JSONField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["issue", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["issue", "revision"], name="issue_revision_unique")
        ]

    def __str__(self) -> str:
        return f"{self.issue} r{self.revision}"


class Action(models.TextChoices):
    CLAIM = "claim", _("认领")
    RELEASE = "release", _("放弃认领")
    ADOPT = "adopt", _("采用")
    REFERENCE = "reference", _("仅供参考")
    FORWARD = "forward", _("转报")
    RETURN = "return", _("退回")
    PUBLISH = "publish", _("印发")
    CORRECT = "correct", _("更正")
    INSTRUCT = "instruct", _("批示")
    WITHDRAW_ADOPTION = "unadopt", _("撤销采用")
    RELEAD = "relead", _("调整头条")


class Event(models.Model):
    """Append-only record of every handling decision, with what scoring needs in `facts`."""

    action = models.CharField(max_length=12, choices=Action.choices)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ip = models.GenericIPAddressField(null=True, blank=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")  # acting unit
    submission = models.ForeignKey(
        Submission, on_delete=models.PROTECT, null=True, blank=True, related_name="handling_events"
    )
    adoption = models.ForeignKey(
        Adoption, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    issue = models.ForeignKey(
        Issue, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    instruction = models.ForeignKey(
        Instruction, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    comment = models.TextField(blank=True)
    facts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["submission", "at"]),
            models.Index(fields=["unit", "at"]),
            # The items with an event in a period, from the index alone (a recompute's first step).
            models.Index(fields=["at", "action", "submission"], name="pub_event_at_action_item"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.submission_id or self.issue_id}"
