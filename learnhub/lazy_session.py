"""The session, read from its cookie the first time something looks at it rather than for every request.

Flask verifies and decodes the session cookie (HMAC, zlib, JSON) as it starts each request, whether
the request needs it or not. An answer save that carries its paper's token (quiz/access.py) never
looks at the session, and that decoding was 11 % of its CPU (bench/README.md, "What a save costs").
`LazySession` is Flask's own session (SecureCookieSession: same `accessed` and `modified` flags, same
contents, same cookie) whose contents are loaded by the first read or write of any kind; every dict
method that reads or writes loads it first. A request that never touches it leaves it unloaded, and
then nothing about the cookie changes: it is not re-sent and no `Vary: Cookie` is added, exactly what
Flask does for an untouched session on the endpoints where LearnHub does not re-send it.

Used only for requests that carry their paper's token (security.SessionInterface.open_session): C code
that reads a dict's storage without calling its methods sees an unloaded session empty; of such code
only json's encoder would meet a session, and Flask serialises `dict(session)`, which loads it.
"""

from __future__ import annotations

from collections.abc import Callable

from flask.sessions import SecureCookieSession


def _loading(name: str):
    method = getattr(SecureCookieSession, name)

    def loaded_first(self, *args, **kwargs):
        self.load()
        return method(self, *args, **kwargs)

    loaded_first.__name__ = name
    return loaded_first


class LazySession(SecureCookieSession):
    """A SecureCookieSession whose contents come from `loader` (the decoded cookie) on first use."""

    def __init__(self, loader: Callable[[], dict]):
        super().__init__()
        self._loader: Callable[[], dict] | None = loader

    @property
    def loaded(self) -> bool:
        return self._loader is None

    def load(self) -> None:
        loader = self._loader
        if loader is not None:
            self._loader = None
            dict.update(self, loader())  # not a change: `modified` stays as it is


# Everything a dict can be asked, read or write (dict(session), json and `in` included).
for _name in ("__getitem__", "get", "setdefault", "__contains__", "__iter__", "__len__", "__reversed__", "keys",
              "values", "items", "copy", "__eq__", "__ne__", "__repr__", "__or__", "__ror__", "__ior__", "__setitem__",
              "__delitem__", "pop", "popitem", "clear", "update", "__reduce__", "__reduce_ex__", "__sizeof__"):
    setattr(LazySession, _name, _loading(_name))
LazySession.__hash__ = None  # as dict's: a session is not hashable
