"""Template helpers shared by every page."""

from django import forms, template

register = template.Library()


def _css_class(widget, has_errors):
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select):
        css = "form-select"
    else:
        css = "form-control"
    return f"{css} is-invalid" if has_errors else css


@register.simple_tag
def widget(field):
    """Render a bound field's widget with Bootstrap's classes (and the invalid state)."""
    existing = field.field.widget.attrs.get("class", "")
    css = _css_class(field.field.widget, bool(field.errors))
    return field.as_widget(attrs={"class": f"{existing} {css}".strip()})
