"""Input forms for items: types and required fields here; rules live in workflow.py."""

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext, gettext_lazy

from baosong.lib.widgets import FastSelect
from baosong.orgs.models import Role, Unit, User
from baosong.submissions.models import ItemType, Kind, Status
from baosong.submissions.workflow import DraftInput, StageInput

COAUTHOR_SLOTS = 4


class PersonChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    widget = FastSelect

    def label_from_instance(self, obj: User) -> str:
        return f"{obj.real_name}（{obj.username}）"


class ItemForm(forms.Form):
    item_type = forms.ChoiceField(
        label=gettext_lazy("类型"), choices=ItemType.choices, initial=ItemType.INFO
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("类别"),
        choices=[("", gettext_lazy("—（信息须选择）")), *Kind.choices],
        required=False,
    )
    title = forms.CharField(label=gettext_lazy("标题"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("正文"), required=False, widget=forms.Textarea(attrs={"rows": 16})
    )
    event_date = forms.DateField(
        label=gettext_lazy("事件日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    keywords = forms.CharField(
        label=gettext_lazy("关键词"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("用空格或逗号分隔，如：基层党建 人才工作"),
    )
    addressed = forms.ModelMultipleChoiceField(
        label=gettext_lazy("报送单位"),
        queryset=Unit.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("默认报送直接上级单位。"),
    )
    own_share = forms.IntegerField(
        label=gettext_lazy("本人份额（%）"), min_value=1, max_value=100, initial=100
    )

    def __init__(self, *args: Any, unit: Unit, writer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["addressed"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = Unit.objects.filter(pk__in=unit.ancestor_ids(), is_active=True).order_by(
            "-depth"
        )
        colleagues = (
            User.objects.filter(
                is_active=True,
                memberships__unit=unit,
                memberships__end__isnull=True,
            )
            .exclude(pk=writer.pk)
            .distinct()
            .order_by("real_name")
        )
        for i in range(1, COAUTHOR_SLOTS + 1):
            self.fields[f"coauthor_{i}"] = PersonChoiceField(
                label=gettext("合作者 %(i)s") % {"i": i}, queryset=colleagues, required=False
            )
            self.fields[f"share_{i}"] = forms.IntegerField(
                label=gettext("份额 %(i)s（%%）") % {"i": i},
                min_value=1,
                max_value=100,
                required=False,
            )

    def coauthor_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"coauthor_{i}"], self[f"share_{i}"]) for i in range(1, COAUTHOR_SLOTS + 1)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for i in range(1, COAUTHOR_SLOTS + 1):
            if data.get(f"coauthor_{i}") and not data.get(f"share_{i}"):
                self.add_error(f"share_{i}", gettext("请填写该合作者的份额。"))
        return data

    def to_input(self) -> DraftInput:
        data = self.cleaned_data
        coauthors = [
            (data[f"coauthor_{i}"], int(data[f"share_{i}"]))
            for i in range(1, COAUTHOR_SLOTS + 1)
            if data.get(f"coauthor_{i}") and data.get(f"share_{i}")
        ]
        return DraftInput(
            item_type=data["item_type"],
            kind=data["kind"] if data["item_type"] == ItemType.INFO else "",
            title=data["title"],
            body=data["body"],
            event_date=data["event_date"],
            keywords=data["keywords"],
            coauthors=coauthors,
            own_share=int(data["own_share"]),
            addressed=list(data["addressed"]),
        )


class EditForm(ItemForm):
    base_version = forms.IntegerField(widget=forms.HiddenInput)


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("意见"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    anchor = forms.CharField(
        label=gettext_lazy("针对的段落（可选）"), required=False, max_length=300
    )


class ItemFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("标题关键字"), required=False, max_length=100)
    item_type = forms.ChoiceField(
        label=gettext_lazy("类型"),
        choices=[("", gettext_lazy("全部类型")), *ItemType.choices],
        required=False,
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("类别"),
        choices=[("", gettext_lazy("全部类别")), *Kind.choices],
        required=False,
    )
    status = forms.ChoiceField(
        label=gettext_lazy("状态"),
        choices=[("", gettext_lazy("全部状态")), *Status.choices],
        required=False,
    )
    author = forms.CharField(label=gettext_lazy("作者"), required=False, max_length=40)
    start = forms.DateField(
        label=gettext_lazy("起始日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=gettext_lazy("截止日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    sort = forms.ChoiceField(
        label=gettext_lazy("排序"),
        required=False,
        choices=[
            ("-updated_at", gettext_lazy("最近更新")),
            ("updated_at", gettext_lazy("最早更新")),
            ("-submitted_at", gettext_lazy("最近报送")),
            ("title", gettext_lazy("标题")),
        ],
    )


STAGE_SLOTS = 6


class StagesForm(forms.Form):
    def __init__(self, *args: Any, members: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, STAGE_SLOTS + 1):
            self.fields[f"name_{i}"] = forms.CharField(
                label=gettext("环节 %(i)s 名称") % {"i": i}, required=False, max_length=40
            )
            self.fields[f"role_{i}"] = forms.ChoiceField(
                label=gettext("办理角色"),
                choices=[
                    (Role.REVIEWER, Role.REVIEWER.label),
                    (Role.UNIT_ADMIN, Role.UNIT_ADMIN.label),
                ],
                required=False,
            )
            self.fields[f"people_{i}"] = forms.ModelMultipleChoiceField(
                label=gettext("指定人员（可选）"), queryset=members, required=False
            )
            self.fields[f"can_edit_{i}"] = forms.BooleanField(
                label=gettext("可修改正文（校对）"), required=False
            )

    def rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"name_{i}"], self[f"role_{i}"], self[f"people_{i}"], self[f"can_edit_{i}"]]
            for i in range(1, STAGE_SLOTS + 1)
        ]

    def to_input(self) -> list[StageInput]:
        data = self.cleaned_data
        return [
            StageInput(
                name=data[f"name_{i}"],
                role=data[f"role_{i}"] or Role.REVIEWER.value,
                people=list(data[f"people_{i}"]),
                can_edit=bool(data[f"can_edit_{i}"]),
            )
            for i in range(1, STAGE_SLOTS + 1)
            if data.get(f"name_{i}", "").strip()
        ]
