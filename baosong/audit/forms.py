from django import forms
from django.utils.translation import gettext_lazy as _

from baosong.audit.models import ACTION_LABELS
from baosong.lib.widgets import FastSelect


class EventFilterForm(forms.Form):
    actor = forms.CharField(label=_("操作人登录名"), required=False, max_length=150)
    unit = forms.ChoiceField(label=_("单位"), required=False, widget=FastSelect)
    action = forms.ChoiceField(
        label=_("操作"),
        required=False,
        choices=[("", _("全部操作")), *sorted(ACTION_LABELS.items(), key=lambda kv: kv[0])],
    )
    start = forms.DateField(
        label=_("起始日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=_("截止日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: object, units: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["unit"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("全部单位")), *units]
