"""Template filters for items: the only way user HTML reaches a page is through the sanitizer."""

from django import template
from django.utils.safestring import SafeString, mark_safe

from baosong.submissions.sanitize import clean

register = template.Library()


@register.filter
def clean_html(value: str) -> SafeString:
    """Sanitize again on render (it was sanitized on save) and mark the result safe."""
    return mark_safe(clean(value or ""))
