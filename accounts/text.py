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
