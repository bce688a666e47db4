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


@register.filter
def mib(value):
    """Show a size given in MiB with a readable unit: 512 MiB, 1.5 GiB, 2.0 TiB."""
    if value is None or value == "":
        return "—"
    value = float(value)
    for unit in ("MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "MiB" else f"{value:.1f} {unit}"
        value /= 1024
    return ""  # unreachable: TiB is the last unit


@register.inclusion_tag("ganetiweb/usage_bar.html")
def usage_bar(used, total, unit="mib"):
    """A bar of used against total, coloured by how full it is; unknown sizes show a dash."""
    if used is None or not total:
        return {"known": False}
    percent = max(0, min(100, round(100 * used / total)))
    level = "danger" if percent >= 90 else "warning" if percent >= 75 else "success"
    return {
        "known": True,
        "percent": percent,
        "level": level,
        "used": used,
        "total": total,
        "unit": unit,
    }
