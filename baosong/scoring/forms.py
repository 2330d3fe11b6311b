"""Input forms for scoring schemes: every rule of a version as ordinary fields, so nobody edits
JSON. Types and required fields live here; whether a scheme is usable is `engine.validate`'s call
(through workflow.save_draft)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from baosong.scoring import engine, labels

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ANY = engine.WILDCARD

LEVEL_CHOICES = [(level, labels.LEVEL[level]) for level in engine.LEVELS]
LEADER_CHOICES = [(level, labels.LEVEL[level]) for level in engine.LEADER_LEVELS]
KIND_CHOICES = [(k, labels.KIND[k]) for k in engine.PUBLICATION_KINDS]
FORM_CHOICES = [(f, labels.FORM[f]) for f in engine.FORMS]
GRAIN_CHOICES = [(g, labels.GRAIN[g]) for g in engine.GRAINS]
LEVEL_POLICY_CHOICES = [("highest", _("只计最高级别")), ("add", _("逐级累加"))]
COMBINED_CHOICES = [
    ("shares", _("按各单位份额")),
    ("lead_split", _("主报单位优先，其余单位平分")),
]
FORWARD_MODE_CHOICES = [("points", _("固定分值")), ("fraction", _("按采用得分的比例"))]

TEMPLATES = {
    "city": engine.CITY_HIGHEST,
    "province": engine.PROVINCE_ADD,
}


def _points(required: bool = False, label: Any = None, **attrs: Any) -> forms.DecimalField:
    """A points box: negative values are refused here, next to the box, in the user's words."""
    if label is not None:
        attrs["aria-label"] = label
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal(0),
        max_digits=10,
        decimal_places=2,
        error_messages={"min_value": _("不能为负数。"), "invalid": _("请填写数字。")},
        widget=forms.NumberInput(attrs={"step": "any", "class": "num", **attrs}),
    )


def _label(*parts: Any) -> str:
    return " ".join(str(p) for p in parts)


def _show(value: Any) -> str:
    return "" if value in (None, "") else engine.fmt(Decimal(str(value)))


# Creating a scheme ------------------------------------------------------------------------------


class SchemeCreateForm(forms.Form):
    unit = forms.TypedChoiceField(label=_("制定单位"), coerce=int)
    name = forms.CharField(
        label=_("计分办法名称"),
        max_length=120,
        help_text=_("如：2027年度全市组工信息工作计分办法"),
        widget=forms.TextInput(attrs={"class": "wide"}),
    )
    template = forms.ChoiceField(
        label=_("初始规则"),
        choices=[
            ("city", _("参照市级示例：只计最高级别")),
            ("province", _("参照省级示例：逐级累加")),
        ],
        initial="city",
        widget=forms.RadioSelect,
        help_text=_("新办法先保存为草稿，可逐项修改后再启用。"),
    )

    def __init__(self, *args: Any, units: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = units

    def rules(self) -> dict[str, Any]:
        data = engine.scheme_as_data(TEMPLATES[self.cleaned_data["template"]])
        data["label"] = self.cleaned_data["name"]
        return data


class AdoptForm(forms.Form):
    effective_from = forms.DateField(
        label=_("生效日期"),
        widget=DATE,
        help_text=_("自该日起按本版本计分；上一版本截止到前一天。"),
    )


# Editing the rules of a draft -------------------------------------------------------------------


class RulesForm(forms.Form):
    """The single-valued rules of a version; the adoption table and quotas are formsets."""

    label = forms.CharField(
        label=_("办法全称"), max_length=120, widget=forms.TextInput(attrs={"class": "wide"})
    )
    note = forms.CharField(
        label=_("修订说明"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"class": "wide"}),
    )
    lead_multiplier = _points(required=True, label=_("头条倍数"))
    level_policy = forms.ChoiceField(
        label=_("级别计分方式"), choices=LEVEL_POLICY_CHOICES, widget=forms.RadioSelect
    )
    combined_credit = forms.ChoiceField(
        label=_("综合采用的分配"), choices=COMBINED_CHOICES, widget=forms.RadioSelect
    )
    lead_fraction = forms.DecimalField(
        label=_("主报单位所占比例"),
        max_digits=4,
        decimal_places=2,
        error_messages={"invalid": _("请填写数字。")},
        widget=forms.NumberInput(attrs={"step": "0.05", "class": "num"}),
        help_text=_("0 到 1 之间，如 0.5 表示主报单位得一半，其余单位平分另一半。"),
    )
    forward_credit_mode = forms.ChoiceField(
        label=_("转报计分方式"), choices=FORWARD_MODE_CHOICES, widget=forms.RadioSelect
    )
    copy_penalty = _points(required=True, label=_("认定抄袭另扣"))
    falsify_penalty = _points(required=True, label=_("认定虚假另扣"))
    item_cap = _points(label=_("单条稿件上限"))
    period_cap = _points(label=_("周期上限"))
    period_cap_per = forms.ChoiceField(label=_("周期"), choices=GRAIN_CHOICES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for item_type in engine.ITEM_TYPES:
            self.fields[f"submit_{item_type}"] = _points(label=labels.ITEM_TYPE[item_type])
        for level in engine.LEVELS:
            name = labels.LEVEL[level]
            self.fields[f"reach_{level}"] = _points(label=_label(name, _("报送到该级")))
            self.fields[f"base_{level}"] = _points(label=_label(name, _("采用基础分")))
            self.fields[f"forward_{level}"] = _points(label=_label(name, _("转报计分")))
        for kind in engine.PUBLICATION_KINDS:
            self.fields[f"kind_{kind}"] = _points(label=labels.KIND[kind])
        for form in engine.FORMS:
            self.fields[f"form_{form}"] = _points(label=labels.FORM[form])
        for level in engine.LEADER_LEVELS:
            name = labels.LEVEL[level]
            self.fields[f"instr_{level}_principal"] = _points(label=_label(name, _("主要领导")))
            self.fields[f"instr_{level}_other"] = _points(label=_label(name, _("其他领导")))

    # Grids for the template: (label, bound fields…) rows.
    def submit_rows(self) -> list[tuple[str, forms.BoundField]]:
        return [(str(labels.ITEM_TYPE[t]), self[f"submit_{t}"]) for t in engine.ITEM_TYPES]

    def level_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (str(labels.LEVEL[lv]), self[f"reach_{lv}"], self[f"base_{lv}"], self[f"forward_{lv}"])
            for lv in engine.LEVELS
        ]

    def kind_rows(self) -> list[tuple[str, forms.BoundField]]:
        return [(str(labels.KIND[k]), self[f"kind_{k}"]) for k in engine.PUBLICATION_KINDS]

    def form_rows(self) -> list[tuple[str, forms.BoundField]]:
        return [(str(labels.FORM[f]), self[f"form_{f}"]) for f in engine.FORMS]

    def instruction_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [
            (str(labels.LEVEL[lv]), self[f"instr_{lv}_principal"], self[f"instr_{lv}_other"])
            for lv in engine.LEADER_LEVELS
        ]


class AdoptionRowForm(forms.Form):
    """One explicit row of the adoption table; "任意" matches every kind or form."""

    level = forms.ChoiceField(label=_("采用级别"), choices=[("", "—"), *LEVEL_CHOICES])
    kind = forms.ChoiceField(
        label=_("刊物类别"), choices=[(ANY, _("任意")), *KIND_CHOICES], initial=ANY
    )
    form = forms.ChoiceField(
        label=_("采用形式"), choices=[(ANY, _("任意")), *FORM_CHOICES], initial=ANY
    )
    points = _points(required=True, label=_("分值"))


class QuotaForm(forms.Form):
    label = forms.CharField(label=_("名称"), max_length=40)
    per = forms.ChoiceField(label=_("周期"), choices=GRAIN_CHOICES, initial="month")
    min_items = forms.IntegerField(
        label=_("至少报送（条）"),
        min_value=0,
        initial=0,
        error_messages={"min_value": _("不能为负数。")},
        widget=forms.NumberInput(attrs={"class": "num"}),
    )
    deduction = _points(label=_("未完成扣分"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in engine.ITEM_KINDS:
            self.fields[f"min_{kind}"] = forms.IntegerField(
                label=labels.ITEM_KIND[kind],
                required=False,
                min_value=0,
                error_messages={"min_value": _("不能为负数。")},
                widget=forms.NumberInput(attrs={"class": "num"}),
            )

    def kind_fields(self) -> list[forms.BoundField]:
        return [self[f"min_{kind}"] for kind in engine.ITEM_KINDS]


AdoptionTableFormSet = forms.formset_factory(AdoptionRowForm, extra=1, can_delete=True)
QuotaFormSet = forms.formset_factory(QuotaForm, extra=1, can_delete=True)


def rules_initial(
    data: dict[str, Any],
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """A version's data as initial values of RulesForm and the two formsets."""
    initial: dict[str, Any] = {
        "label": data.get("label", ""),
        "lead_multiplier": _show(data.get("lead_multiplier", "1")),
        "level_policy": data.get("level_policy", "add"),
        "combined_credit": data.get("combined_credit", "shares"),
        "lead_fraction": _show(data.get("lead_fraction", "0.5")),
        "forward_credit_mode": data.get("forward_credit_mode", "points"),
        "copy_penalty": _show(data.get("copy_penalty", "0")),
        "falsify_penalty": _show(data.get("falsify_penalty", "0")),
        "item_cap": _show(data.get("item_cap")),
        "period_cap": _show(data.get("period_cap")),
        "period_cap_per": data.get("period_cap_per", "month"),
    }
    for prefix, name in (
        ("submit", "submit_points"),
        ("reach", "reach_points"),
        ("base", "adoption_base"),
        ("forward", "forward_credit"),
        ("kind", "kind_factor"),
        ("form", "form_factor"),
    ):
        for key, value in (data.get(name) or {}).items():
            initial[f"{prefix}_{key}"] = _show(value)
    for key, value in (data.get("instruction_points") or {}).items():
        level, rank = str(key).split("|")
        initial[f"instr_{level}_{rank}"] = _show(value)
    table = []
    for key, value in (data.get("adoption_table") or {}).items():
        level, kind, form = str(key).split("|")
        table.append({"level": level, "kind": kind, "form": form, "points": _show(value)})
    quotas = []
    for quota in data.get("quotas") or []:
        row = {
            "label": quota.get("label", ""),
            "per": quota.get("per", "month"),
            "min_items": quota.get("min_items", 0),
            "deduction": _show(quota.get("deduction", "0")),
        }
        for kind, n in (quota.get("min_kinds") or {}).items():
            row[f"min_{kind}"] = n
        quotas.append(row)
    return initial, table, quotas


def rules_data(
    form: RulesForm,
    table: Any,
    quotas: Any,
    base: dict[str, Any],
) -> dict[str, Any]:
    """The engine data from valid forms; what the form does not show (the version code, the
    order of publication kinds) is kept from `base`. A blank box means "not listed"."""
    c = form.cleaned_data

    def listed(prefix: str, keys: tuple[str, ...]) -> dict[str, str]:
        return {k: str(c[f"{prefix}_{k}"]) for k in keys if c.get(f"{prefix}_{k}") is not None}

    instructions = {}
    for level in engine.LEADER_LEVELS:
        for rank in ("principal", "other"):
            value = c.get(f"instr_{level}_{rank}")
            if value is not None:
                instructions[f"{level}|{rank}"] = str(value)
    adoption_table = {}
    for row in table.cleaned_data:
        if row and not row.get("DELETE") and row.get("level"):
            adoption_table[f"{row['level']}|{row['kind']}|{row['form']}"] = str(row["points"])
    quota_rows = []
    for row in quotas.cleaned_data:
        if row and not row.get("DELETE") and row.get("label"):
            quota_rows.append(
                {
                    "label": row["label"].strip(),
                    "per": row["per"],
                    "min_items": row["min_items"] or 0,
                    "min_kinds": {
                        k: row[f"min_{k}"] for k in engine.ITEM_KINDS if row.get(f"min_{k}")
                    },
                    "deduction": str(row.get("deduction") or 0),
                }
            )
    return {
        "version": base.get("version", "draft"),
        "label": c["label"].strip(),
        "submit_points": listed("submit", engine.ITEM_TYPES),
        "reach_points": listed("reach", engine.LEVELS),
        "adoption_table": adoption_table,
        "adoption_base": listed("base", engine.LEVELS),
        "kind_factor": listed("kind", engine.PUBLICATION_KINDS),
        "form_factor": listed("form", engine.FORMS),
        "lead_multiplier": str(c["lead_multiplier"]),
        "instruction_points": instructions,
        "level_policy": c["level_policy"],
        "kind_order": list(base.get("kind_order") or engine.PUBLICATION_KINDS),
        "combined_credit": c["combined_credit"],
        "lead_fraction": str(c["lead_fraction"]),
        "forward_credit": listed("forward", engine.LEVELS),
        "forward_credit_mode": c["forward_credit_mode"],
        "quotas": quota_rows,
        "copy_penalty": str(c["copy_penalty"]),
        "falsify_penalty": str(c["falsify_penalty"]),
        "item_cap": None if c.get("item_cap") is None else str(c["item_cap"]),
        "period_cap": None if c.get("period_cap") is None else str(c["period_cap"]),
        "period_cap_per": c["period_cap_per"],
    }


# What-if ----------------------------------------------------------------------------------------


class WhatIfForm(forms.Form):
    version = forms.TypedChoiceField(label=_("试算版本"), coerce=int)
    grain = forms.ChoiceField(
        label=_("期间类型"),
        choices=[
            ("month", _("月度")),
            ("quarter", _("季度")),
            ("year", _("年度")),
            ("custom", _("自定义")),
        ],
        initial="month",
    )
    key = forms.CharField(
        label=_("期间"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"placeholder": "2026-03 / 2026-Q1 / 2026", "size": 10}),
    )
    start = forms.DateField(label=_("开始日期"), required=False, widget=DATE)
    end = forms.DateField(label=_("结束日期"), required=False, widget=DATE)
    parent = forms.TypedChoiceField(label=_("排名范围"), coerce=int)

    def __init__(
        self,
        *args: Any,
        versions: list[tuple[int, str]],
        parents: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        version = self.fields["version"]
        parent = self.fields["parent"]
        assert isinstance(version, forms.TypedChoiceField)
        assert isinstance(parent, forms.TypedChoiceField)
        version.choices = versions
        parent.choices = parents
