"""The Komodo Core client: the only code that speaks HTTP to Komodo."""

from ._client import KomodoClient
from ._gather import gather, nothing
from .errors import (AuthError, Conflict, Forbidden, Internal, InvalidRequest, KomodoError, NotFound, RateLimited,
                     TimedOut, Unreachable)
from ._ratelimit import one_tool_call
from .paging import list_all, list_page

__all__ = ["AuthError", "Conflict", "Forbidden", "Internal", "InvalidRequest", "KomodoClient", "KomodoError",
           "NotFound", "RateLimited", "TimedOut", "Unreachable", "gather", "list_all", "list_page", "nothing",
           "one_tool_call"]
