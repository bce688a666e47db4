"""Every URL pattern of the project, by name, with the arguments that reach the world's objects."""

from django.urls import URLPattern, URLResolver, get_resolver


def all_patterns(patterns=None, namespace=None, prefix=""):
    """Yield (name, route) for every URL pattern, names qualified by their namespaces."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from all_patterns(pattern.url_patterns, inner, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else str(pattern.name)
            yield name, prefix + str(pattern.pattern)
