"""The one form in which usernames are compared: uniqueness, login and the per-username rate limit.

A username is stored NFKC-normalized, as Django's forms and create_user leave it, so that
fullwidth `ａｄｍｉｎ` is stored as `admin`. Two usernames are the same when their canonical forms
are: NFKC, case-folded, NFKC again (Unicode's NFKC_Casefold without its removal of ignorable
characters, which no valid username holds). Case folding, unlike lower(), also matches `STRASSE`
and `straße`, and it folds every script, where SQLite's lower() folds ASCII only.
"""

import re
import unicodedata

MAX_LENGTH = 150
# What Django's UnicodeUsernameValidator accepts, one character at a time.
ALLOWED_CHARACTER = re.compile(r"[\w.@+-]")


def normalized(username):
    return unicodedata.normalize("NFKC", username)


def canonical(username):
    return unicodedata.normalize("NFKC", normalized(username).casefold())


def derived(text, max_length=MAX_LENGTH):
    """A username made from other text (an email's local part, a provider's subject): normalized,
    only the characters a username may hold, at most `max_length`; "" when none are left."""
    kept = "".join(ALLOWED_CHARACTER.findall(normalized(text)))[:max_length]
    # Dropping characters can bring together two that NFKC composes (Hangul jamo): normalize again,
    # so the result is what User.save stores. Composition only shortens it.
    return normalized(kept)
