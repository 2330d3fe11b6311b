"""Input forms: types and required fields here; domain rules live in workflow.py."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from baosong.lib.widgets import FastSelect
from baosong.orgs.models import Level, PlatformRole, Role, Unit


class UnitChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """Units indented by depth, with their code, in tree order."""

    widget = FastSelect

    def label_from_instance(self, obj: Unit) -> str:
        label = gettext("%(name)s（%(code)s）") % {"name": obj.short_name, "code": obj.code}
        return f"{'　' * obj.depth}{label}"


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a workflow ValidationError on the form: on its field when the form has one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


class UnitForm(forms.Form):
    code = forms.CharField(label=_("单位编码"), max_length=32)
    name = forms.CharField(label=_("单位全称"), max_length=120)
    short_name = forms.CharField(label=_("单位简称"), max_length=40)
    level = forms.ChoiceField(label=_("层级"), choices=Level.choices)
    sort_order = forms.IntegerField(label=_("排序"), initial=0, min_value=-9999, max_value=9999)


class MoveForm(forms.Form):
    new_parent = UnitChoiceField(label=_("新的上级单位"), queryset=Unit.objects.none())

    def __init__(self, *args: Any, parents: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["new_parent"]
        assert isinstance(field, UnitChoiceField)
        field.queryset = parents


class PersonForm(forms.Form):
    username = forms.CharField(label=_("登录名"), max_length=64)
    real_name = forms.CharField(label=_("姓名"), max_length=40)
    mobile = forms.CharField(label=_("手机"), max_length=11, required=False)
    email = forms.EmailField(label=_("邮箱"), required=False)


class PersonEditForm(forms.Form):
    real_name = forms.CharField(label=_("姓名"), max_length=40)
    mobile = forms.CharField(label=_("手机"), max_length=11, required=False)
    email = forms.EmailField(label=_("邮箱"), required=False)


class MembershipForm(forms.Form):
    unit = UnitChoiceField(label=_("单位"), queryset=Unit.objects.none())
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    start = forms.DateField(
        label=_("起始日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        initial=timezone.localdate,
    )
    end = forms.DateField(
        label=_("终止日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, UnitChoiceField)
        field.queryset = units


class NewPersonForm(PersonForm, MembershipForm):
    pass


class EndMembershipForm(forms.Form):
    end = forms.DateField(
        label=_("终止日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        initial=timezone.localdate,
    )


class PlatformRoleForm(forms.Form):
    platform_role = forms.ChoiceField(
        label=_("平台角色"), choices=PlatformRole.choices, required=False
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label=_("原密码"), widget=forms.PasswordInput)
    new_password = forms.CharField(label=_("新密码"), widget=forms.PasswordInput)
    new_password2 = forms.CharField(label=_("再次输入新密码"), widget=forms.PasswordInput)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("new_password2"):
            raise ValidationError({"new_password2": _("两次输入的新密码不一致。")})
        return data


class TokenForm(forms.Form):
    name = forms.CharField(label=_("令牌名称"), max_length=60)


class UnitFilterForm(forms.Form):
    q = forms.CharField(label=_("关键字"), required=False)


class PersonFilterForm(forms.Form):
    q = forms.CharField(label=_("姓名/登录名/手机"), required=False)
    unit = UnitChoiceField(label=_("单位"), queryset=Unit.objects.none(), required=False)
    role = forms.ChoiceField(
        label=_("角色"), choices=[("", _("全部角色")), *Role.choices], required=False
    )
    active = forms.ChoiceField(
        label=_("状态"),
        choices=[("", _("全部")), ("1", _("启用")), ("0", pgettext_lazy("status", "停用"))],
        required=False,
    )

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, UnitChoiceField)
        field.queryset = units
