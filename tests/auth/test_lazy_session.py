"""The session is decoded from its cookie only when something first reads or writes it (learnhub/lazy_session.py):
whatever is asked of it, the answer, the contents that go back into the cookie and Flask's `accessed` and
`modified` flags are those of Flask's own session holding the same contents."""

from __future__ import annotations

import copy
import json

import pytest
from flask.sessions import SecureCookieSession

from learnhub.lazy_session import LazySession

CONTENTS = {"_user_id": "7:1", "_device": "k3y", "_fresh": True}

OPERATIONS = {
    "read an entry": lambda s: s["_user_id"],
    "get": lambda s: s.get("_device"),
    "get a missing entry": lambda s: s.get("nothing", "default"),
    "in": lambda s: "_user_id" in s,
    "len": len,
    "truth": bool,
    "iterate": list,
    "keys, values, items": lambda s: (list(s.keys()), list(s.values()), list(s.items())),
    "dict()": dict,
    "{**}": lambda s: {**s},
    "json of dict()": lambda s: json.dumps(dict(s), sort_keys=True),  # as Flask serialises it
    "compare": lambda s: (s == CONTENTS, s != {}),
    "copy": lambda s: dict(s.copy()),
    "copy.copy": lambda s: dict(copy.copy(s)),
    "write one entry first": lambda s: s.__setitem__("_flashes", [("info", "已保存")]),
    "delete one entry": lambda s: s.__delitem__("_fresh"),
    "pop": lambda s: s.pop("_device", None),
    "pop a missing entry": lambda s: s.pop("nothing", None),
    "setdefault": lambda s: s.setdefault("_permanent", True),
    "update": lambda s: s.update(_permanent=True),
    "clear": lambda s: s.clear(),
    "permanent": lambda s: s.permanent,
    "make permanent": lambda s: setattr(s, "permanent", True),
    "|=": lambda s: s.__ior__({"_permanent": True}),
}


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_every_operation_sees_and_keeps_what_the_cookie_held(operation):
    flask_session, lazy = SecureCookieSession(dict(CONTENTS)), LazySession(lambda: dict(CONTENTS))
    assert not lazy.loaded
    assert _result(operation, lazy) == _result(operation, flask_session)
    assert lazy.loaded
    assert dict(lazy) == dict(flask_session)  # what goes back into the cookie: nothing lost by a first write
    assert (lazy.accessed, lazy.modified) == (flask_session.accessed, flask_session.modified)


def _result(operation, session):
    value = operation(session)
    return dict(value) if isinstance(value, dict) else value


def test_the_cookie_is_decoded_once_and_only_when_used():
    calls = []
    lazy = LazySession(lambda: calls.append(1) or dict(CONTENTS))
    assert (lazy.accessed, lazy.modified, calls) == (False, False, [])
    assert lazy["_user_id"] == "7:1" and "_device" in lazy and len(lazy) == 3
    assert calls == [1]
