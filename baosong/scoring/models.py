"""Scoring schemes, the score ledger and its monthly rollups, assessing decisions and circulars.

Ledger entries are derived from the event rows of submissions and publications (and the
assessing decisions recorded here) by `ledger.py` with the pure `engine.py`; they are never edited.
`UnitMonth` and `PersonMonth` hold the same numbers summed per month, written in the same
transaction as the entries, so rankings read a few thousand rows instead of millions.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from baosong.orgs.models import Unit
from baosong.submissions.models import Submission


class Scheme(models.Model):
    """A scoring scheme (计分办法) owned by the unit that runs the assessment; its rules live in
    versions, each effective over a date range."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="scoring_schemes")
    name = models.CharField(_("名称"), max_length=120)
    tie_break = models.CharField(
        _("排名依据"), max_length=80, default="points,adopted", help_text=_("逗号分隔")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["unit__path", "id"]

    def __str__(self) -> str:
        return self.name


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    ADOPTED = "adopted", _("已启用")


class SchemeVersionQuerySet(models.QuerySet["SchemeVersion"]):
    def in_force(self, day: dt.date) -> SchemeVersionQuerySet:
        """Adopted versions whose effective range holds the day."""
        return self.filter(status=VersionStatus.ADOPTED, effective_from__lte=day).filter(
            Q(effective_to__isnull=True) | Q(effective_to__gte=day)
        )


class SchemeVersion(models.Model):
    """One version of a scheme's rules as engine data. A draft may be edited and tried (what-if);
    an adopted version is effective from `effective_from` (to `effective_to`, or open) and is frozen
    once it has produced a ledger entry (`used_at`); changes then make a new version."""

    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=VersionStatus.choices)
    data = models.JSONField()
    effective_from = models.DateField(_("生效日期"), null=True, blank=True)
    effective_to = models.DateField(_("截止日期"), null=True, blank=True)
    note = models.CharField(_("修订说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    adopted_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    objects = SchemeVersionQuerySet.as_manager()

    class Meta:
        ordering = ["scheme", "number"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "number"], name="scheme_version_unique"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_from__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="scheme_version_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scheme} v{self.number}"

    @property
    def code(self) -> str:
        """The version name the engine writes on every entry."""
        return f"{self.scheme_id}.{self.number}"

    @property
    def is_frozen(self) -> bool:
        return self.used_at is not None

    def covers(self, day: dt.date) -> bool:
        """In force on the day (the same rule as `SchemeVersion.objects.in_force`)."""
        return (
            self.status == VersionStatus.ADOPTED
            and self.effective_from is not None
            and self.effective_from <= day
            and (self.effective_to is None or day <= self.effective_to)
        )


class LedgerEntry(models.Model):
    """One line of the score ledger (append-only): points for a unit, or for one author within it
    (`person`), caused by an event (`event_key`: s<id> submissions, p<id> publications, c<id>
    assessing decisions, quota:… for quota windows). `ref` names the event whose credit this
    entry reverses. The d_* counters are what the line adds to the ranking's item counts."""

    # Only the composite indexes below: single-column FK indexes would slow every insert and
    # tempt the planner away from the composite ones. Nor does the database check the references
    # (db_constraint=False, as for the rollups): lines are written only by ledger.write_all with
    # ids it has just read, the rows they name are never deleted (PROTECT here; people and units
    # are deactivated, not removed), and the checks cost five lookups and row locks per line —
    # about a fifth of recording an event on PostgreSQL, a third of a recompute from empty.
    scheme = models.ForeignKey(
        Scheme, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    version = models.ForeignKey(
        SchemeVersion,
        on_delete=models.PROTECT,
        related_name="entries",
        db_index=False,
        db_constraint=False,
    )
    event_key = models.CharField(max_length=80)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    item = models.ForeignKey(
        Submission,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    points = models.DecimalField(max_digits=12, decimal_places=2)
    category = models.CharField(max_length=12)
    rule = models.CharField(max_length=400)
    ref = models.CharField(max_length=80, blank=True)
    lead = models.BooleanField(default=False)
    at = models.DateTimeField()
    month = models.PositiveIntegerField()  # yyyymm in the scheme's time zone
    d_submitted = models.SmallIntegerField(default=0)
    d_adopted = models.SmallIntegerField(default=0)
    d_lead = models.SmallIntegerField(default=0)
    d_instructions = models.SmallIntegerField(default=0)
    item_kind = models.CharField(max_length=12, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            # Partial, so that a unit's lines (person IS NULL) never go through the people's index.
            models.Index(
                fields=["scheme", "unit", "at"],
                name="ledger_scheme_unit_at",
                condition=Q(person__isnull=True),
            ),
            models.Index(
                fields=["scheme", "person", "at"],
                name="ledger_scheme_person_at",
                condition=Q(person__isnull=False),
            ),
            models.Index(fields=["version", "event_key"], name="ledger_version_event"),
            models.Index(fields=["item", "scheme"], name="ledger_item"),
            # Quota deductions, a few lines a unit a window: a recompute leaves them out of its
            # comparison (they are settled, not replayed) and must not scan a year to find them.
            models.Index(
                fields=["scheme", "at"],
                name="ledger_quota",
                condition=Q(category="quota", person__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_key} {self.unit_id} {self.points}"


class MonthFigures(models.Model):
    """Sums of ledger entries for one month; kept in step with the ledger in the same transaction."""

    # Derived from the ledger and written with it: the references are not checked either.
    scheme = models.ForeignKey(
        Scheme, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    month = models.PositiveIntegerField()
    points = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    submitted = models.IntegerField(default=0)
    adopted = models.IntegerField(default=0)
    lead_items = models.IntegerField(default=0)
    instructions = models.IntegerField(default=0)
    k_dynamic = models.IntegerField(default=0)
    k_experience = models.IntegerField(default=0)
    k_problem = models.IntegerField(default=0)
    k_analysis = models.IntegerField(default=0)
    entries = models.IntegerField(default=0)

    class Meta:
        abstract = True


class UnitMonth(MonthFigures):
    """Per unit and month: the unit's own entries (person entries are not counted here)."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scheme", "unit", "month"], name="unit_month_unique")
        ]
        indexes = [models.Index(fields=["scheme", "month"], name="unit_month_scheme_month")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.month}"


class PersonMonth(MonthFigures):
    """Per author, unit and month: the authors' share entries."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "person", "unit", "month"], name="person_month_unique"
            )
        ]
        indexes = [
            models.Index(fields=["scheme", "month"], name="person_month_scheme_month"),
            # People of one unit's subtree: the ranking of authors reads by unit and month.
            models.Index(fields=["scheme", "unit", "month"], name="person_month_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.month}"


class Decision(models.TextChoices):
    DEDUCT = "deduct", _("扣分")
    CONFIRMED_COPY = "confirmed_copy", _("认定抄袭")
    FALSIFIED = "falsified", _("认定虚假")


class AssessmentEvent(models.Model):
    """An assessing unit's decision (append-only): a deduction, or an item confirmed as copied or
    falsified. The ledger turns it into reversals and penalties under that unit's schemes."""

    action = models.CharField(max_length=16, choices=Decision.choices)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ip = models.GenericIPAddressField(null=True, blank=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")  # assessing unit
    # A deduction is taken under one scheme; a confirmed copy voids the item under every scheme.
    scheme = models.ForeignKey(
        Scheme, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    target = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    submission = models.ForeignKey(
        Submission, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    points = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["at", "id"]
        # An item's decisions up to a moment (as for submission events).
        indexes = [models.Index(fields=["submission", "at"], name="assessment_item_at")]

    def __str__(self) -> str:
        return f"{self.action} {self.target_id}"


class Grain(models.TextChoices):
    MONTH = "month", _("月度")
    QUARTER = "quarter", _("季度")
    YEAR = "year", _("年度")
    CUSTOM = "custom", _("自定义")


class Circular(models.Model):
    """An archived circular (通报): the generated .docx and .xlsx exactly as handed out, with the
    scheme versions that produced the numbers."""

    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="circulars")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")  # ranked children of
    grain = models.CharField(max_length=10, choices=Grain.choices)
    period_key = models.CharField(max_length=40)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    title = models.CharField(max_length=200)
    versions = models.CharField(max_length=200)  # version codes used, e.g. "3.1,3.2"
    summary = models.JSONField(default=dict)
    docx = models.BinaryField()
    xlsx = models.BinaryField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class QuotaSettlement(models.Model):
    """A closed quota window judged for one unit (its deduction, if any, is a ledger entry)."""

    version = models.ForeignKey(SchemeVersion, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    quota = models.CharField(max_length=80)
    window = models.CharField(max_length=20)
    met = models.BooleanField()
    submitted = models.IntegerField(default=0)
    reason = models.CharField(max_length=300)
    deduction = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    settled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "unit", "quota", "window"], name="quota_settled_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.window} {self.quota}"


class HistoryImport(models.Model):
    """One imported workbook of earlier adoption records (往年采用记录), scored under one scheme."""

    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="history_imports")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=255)
    rows = models.PositiveIntegerField(default=0)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return self.file_name


class HistoricAdoption(models.Model):
    """An adoption recorded before Baosong, imported from a workbook; scored like an adoption of
    an item whose origin is `lead_unit` (主报) and, for combined pieces, `other_units`."""

    batch = models.ForeignKey(HistoryImport, on_delete=models.PROTECT, related_name="records")
    issue_label = models.CharField(_("期号"), max_length=60, blank=True)
    title = models.CharField(_("标题"), max_length=200)
    level = models.CharField(_("级别"), max_length=16)
    publication_kind = models.CharField(_("载体"), max_length=10)
    adopted_on = models.DateField(_("采用时间"))
    lead_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    adopting_unit = models.CharField(_("采用单位"), max_length=120)
    other_units = models.ManyToManyField(Unit, blank=True, related_name="+")
    note = models.CharField(_("备注"), max_length=300, blank=True)

    class Meta:
        ordering = ["adopted_on", "id"]

    def __str__(self) -> str:
        return self.title


class RecomputeStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("重算中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("未完成")


class Recompute(models.Model):
    """One replay of a version's events over [start, end) that put the ledger right (重算).
    Adopting a version from a past day asks for one; a small one runs at once, a large one in
    the background after the adoption is saved (see `workflow.adopt_version`)."""

    version = models.ForeignKey(SchemeVersion, on_delete=models.PROTECT, related_name="recomputes")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=RecomputeStatus.choices, default=RecomputeStatus.QUEUED
    )
    background = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    facts = models.PositiveIntegerField(default=0)
    corrected = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["version", "status"], name="recompute_version_status")]

    def __str__(self) -> str:
        return f"{self.version} {self.start:%Y-%m-%d} {self.status}"

    @property
    def pending(self) -> bool:
        return self.status in (RecomputeStatus.QUEUED, RecomputeStatus.RUNNING)

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
