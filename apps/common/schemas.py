"""The base of request bodies."""

from __future__ import annotations

from pydantic import BaseModel


class RequestBody(BaseModel):
    """A JSON object body.

    Ninja's ``Schema`` reads fields as attributes of whatever it is given, so a body of
    ``[]`` or ``"x"`` would pass as an empty object; a plain pydantic model refuses
    anything but an object, with a 422 like any other schema error.
    """
