"""Pages of a long list: what every listing service returns (the annotator's home, a project's
documents, its assignments, its progress, the adjudication queue, the users), so that a page
costs about the same at 40 items as at 40,000.

A page is asked for by its number, from 1; each service fixes its page size (its
``PAGE_SIZE`` constant, listed in docs/supervision.md). A number past the last page gives a
page without items whose ``total`` still counts them all (the pages say so and link back); a
number below 1 is refused. The command line, which prints everything, goes through every page
(:func:`every_item`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select

from ..errors import ServiceError
from ..models import ID_MAX

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """Items ``first``..``last`` of ``total``: page ``number`` (from 1) of ``pages``, ``size`` a page."""

    items: list[T]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first(self) -> int:
        """The position of its first item in the whole list, from 1."""
        return (self.number - 1) * self.size + 1

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)


def cut(statement: Select, number: int, size: int) -> Select:
    """The (ordered) statement limited to page ``number`` of ``size`` rows; a number below 1
    (or past any the database can skip to) is refused."""
    if not 1 <= number <= ID_MAX:
        raise ServiceError(f"page must be a whole number from 1 to {ID_MAX}", field="page")
    return statement.limit(size).offset((number - 1) * size)


def page_of(items: Iterable[T], number: int, size: int, total: int) -> Page[T]:
    """Page ``number`` (cut with :func:`cut`) holding ``items``, of ``total`` in all."""
    return Page(list(items), number, size, total)


def every_item(fetch: Callable[[int], Page[T]]) -> list[T]:
    """Every item of a listing, page after page: ``fetch(number)`` gives page ``number``."""
    page = fetch(1)
    items = list(page.items)
    for number in range(2, page.pages + 1):
        items += fetch(number).items
    return items
