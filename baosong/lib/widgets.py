"""Form widgets shared by the apps."""

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


class FastSelect(forms.Select):
    """A <select> rendered in Python: a province has thousands of units, and rendering each
    <option> through the widget template engine costs about a millisecond per hundred."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        chosen = {str(v) for v in (value if isinstance(value, list | tuple) else [value])}
        options = [
            format_html(
                '<option value="{}"{}>{}</option>',
                "" if key is None else str(key),
                mark_safe(" selected") if str(key) in chosen else "",
                label,
            )
            for key, label in self.choices
        ]
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(final),
            mark_safe("".join(options)),
        )
