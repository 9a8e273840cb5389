"""Mastodon's id-window paging (``limit``, ``max_id``, ``since_id``, ``min_id``) and its Link
header: ``<…max_id=N>; rel="next", <…min_id=M>; rel="prev"``, N the oldest id of the page, M the
newest. Our own API's cursors are feedsite/pagination.py; these ids are Mastodon's contract."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

from feedsite.mastodon.errors import Unprocessable
from feedsite.mastodon.selectors import MAX_ID

PAGE_PARAMS = ("max_id", "since_id", "min_id")


@dataclass(frozen=True)
class Window:
    limit: int
    max_id: int | None
    since_id: int | None
    min_id: int | None

    @property
    def after_id(self) -> int | None:
        return self.min_id if self.min_id is not None else self.since_id


def _id_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_ID:
        raise Unprocessable(f"{name} must be a status or account id (digits).")
    return int(raw)


def page_window(request: Request, *, default: int = 20, maximum: int = 40) -> Window:
    """The request's window; ``limit`` above the maximum is clamped, as Mastodon does."""
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        limit = default
    elif raw.isascii() and raw.isdigit() and len(raw) <= 6 and int(raw) > 0:
        limit = min(int(raw), maximum)
    else:
        raise Unprocessable("limit must be a positive integer.")
    return Window(
        limit=limit,
        max_id=_id_param(request, "max_id"),
        since_id=_id_param(request, "since_id"),
        min_id=_id_param(request, "min_id"),
    )


def window_rows(queryset: QuerySet, window: Window, *, field: str = "id") -> tuple[list, bool]:
    """One page of ``queryset`` by ``field``, newest first, and whether to offer the older page
    (rows remain below it; always for min_id, whose selection runs upwards)."""
    if window.max_id is not None:
        queryset = queryset.filter(**{f"{field}__lt": window.max_id})
    if window.after_id is not None:
        queryset = queryset.filter(**{f"{field}__gt": window.after_id})
    order = field if window.min_id is not None else f"-{field}"
    rows = list(queryset.order_by(order)[: window.limit + 1])
    more = len(rows) > window.limit
    rows = rows[: window.limit]
    if window.min_id is not None:
        rows.reverse()
        return rows, True
    return rows, more


def link_header(
    request: Request, *, newest: int | None, oldest: int | None, older: bool = True
) -> str | None:
    """The Link header for a page whose ids run from ``newest`` to ``oldest`` (None: empty page,
    no header). ``older``: whether to offer the next (older) page."""
    if newest is None or oldest is None:
        return None
    url = request.build_absolute_uri()
    for name in PAGE_PARAMS:
        url = remove_query_param(url, name)
    links = []
    if older:
        links.append(f'<{replace_query_param(url, "max_id", oldest)}>; rel="next"')
    links.append(f'<{replace_query_param(url, "min_id", newest)}>; rel="prev"')
    return ", ".join(links)


def set_link(response, request: Request, ids: Sequence[int], *, older: bool = True):
    """Put the Link header for a page (ids newest first) on ``response``; returns it."""
    link = link_header(request, newest=ids[0] if ids else None, oldest=ids[-1] if ids else None, older=older)
    if link is not None:
        response["Link"] = link
    return response
