"""schema.relay's keyset pages below HTTP: page_of and pages_of over a queryset, with a Page."""

import inspect

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.exceptions import ValidationFailed
from schema.relay import Page, page_of, pages_of, paginated
from tasks.models import Task

TITLES = ["b", "a", "c", "a", "b", "a"]  # ties, broken by the primary key


@pytest.fixture
def tasks(alice):
    return [Task.objects.create(owner=alice, title=title) for title in TITLES]


def expected_order(tasks):
    return [task.pk for task in sorted(tasks, key=lambda task: (task.title, task.pk))]


def pks(rows):
    return [row.pk for row in rows]


def walk(queryset, ordering, size, backward=False):
    """Every row, a page at a time, following the cursors."""
    seen, cursor = [], None
    while True:
        page = Page(last=size, before=cursor) if backward else Page(first=size, after=cursor)
        keys, rows, info, _ = page_of(queryset, ordering, page)
        seen = pks(rows) + seen if backward else seen + pks(rows)
        if not (info.has_previous_page if backward else info.has_next_page):
            return seen
        cursor = info.start_cursor if backward else info.end_cursor


def test_pages_forward_and_backward_cover_the_list_once_in_order(tasks):
    queryset = Task.objects.all()
    assert walk(queryset, ("title",), 4) == expected_order(tasks)
    assert walk(queryset, ("title",), 4, backward=True) == expected_order(tasks)
    assert walk(queryset, ("-title",), 1) == [
        task.pk for task in sorted(tasks, key=lambda t: (t.title, t.pk), reverse=True)
    ]


def test_a_page_costs_one_query(tasks):
    _, _, first, _ = page_of(Task.objects.all(), ("title",), Page(first=2))
    with CaptureQueriesContext(connection) as captured:
        page_of(Task.objects.all(), ("title",), Page(first=2, after=first.end_cursor))
    assert len(captured) == 1


def test_a_cursor_whose_row_left_the_list_must_start_again(tasks):
    queryset = Task.objects.all()
    _, rows, info, _ = page_of(queryset, ("title",), Page(first=2))
    Task.objects.filter(pk=rows[-1].pk).delete()
    with pytest.raises(ValidationFailed) as refused:
        page_of(queryset, ("title",), Page(first=2, after=info.end_cursor))
    assert list(refused.value.field_errors) == ["after"]


def test_a_cursor_of_a_row_outside_the_list_is_gone(tasks, bob):
    others = Task.objects.create(owner=bob, title="a")
    _, _, info, _ = page_of(Task.objects.filter(pk=others.pk), (), Page(first=1))
    with pytest.raises(ValidationFailed):
        page_of(Task.objects.filter(owner__username="alice"), ("title",), Page(first=2, after=info.end_cursor))


@pytest.mark.parametrize(
    "page, argument",
    [
        (Page(first=1, last=1), "last"),
        (Page(first=-1), "first"),
        (Page(last=10_000), "last"),
        (Page(after="not a cursor"), "after"),
        (Page(before="LTE="), "before"),  # "-1"
    ],
)
def test_bad_page_arguments_name_the_argument(tasks, page, argument):
    with pytest.raises(ValidationFailed) as refused:
        page_of(Task.objects.all(), ("title",), page)
    assert list(refused.value.field_errors) == [argument]


def test_pages_of_gives_each_parent_its_own_page_in_one_query(alice, bob, tasks):
    bobs = [Task.objects.create(owner=bob, title=title) for title in "zyx"]
    with CaptureQueriesContext(connection) as captured:
        pages = pages_of(Task.objects.all(), ("title",), "owner", [alice.pk, bob.pk], Page(first=2))
    assert len(captured) == 1
    assert pks(pages[alice.pk][1]) == expected_order(tasks)[:2] and pages[alice.pk][2].has_next_page
    assert pks(pages[bob.pk][1]) == [bobs[2].pk, bobs[1].pk]


def test_a_paginated_resolver_shows_the_four_arguments_and_receives_one_page():
    @paginated
    def resolver(self, info, page: Page, search: str | None = None):
        return page, search

    assert list(inspect.signature(resolver).parameters) == [
        "self",
        "info",
        "first",
        "after",
        "last",
        "before",
        "search",
    ]
    assert resolver(None, None, first=2, after="x", search="s") == (Page(first=2, after="x"), "s")
    assert resolver(None, None) == (Page(), None)
