from django.db.models import Q


def is_storable(text):
    """Whether the database can store, and so compare with, `text`.

    PostgreSQL refuses NUL characters even in a comparison, and a lone surrogate (which JSON can
    carry, as in "\\ud800") cannot be encoded at all: such text matches nothing and is never saved.
    """
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def containing(queryset, text, fields):
    """Rows of `queryset` where any of `fields` contains `text`, ignoring case.

    None match when no field may be searched (the caller passes only fields the viewer may read)
    or when the database could not even compare the text.
    """
    if not fields or not is_storable(text):
        return queryset.none()
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__icontains": text})
    return queryset.filter(condition)
