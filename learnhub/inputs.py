"""Numbers and JSON from the request, bounded in one place, so crafted input gets a 4xx and never a 500.

- URL `<int:...>` segments fit the database's integer (32 bits: PostgreSQL refuses a larger parameter
  for an INTEGER column with an error, where SQLite finds no row): a larger id is a 404. The "int"
  converter is replaced for every route, so none can forget it.
- `request.args.get(..., type=int)` and `request.form.get(..., type=int)` give the default for a
  number outside that range, as they do for text that is not a number.
- `db.paginate` (extensions.py) takes its page number from `page_number()`: 1 to MAX_PAGE.
- JSON bodies (`request.get_json`) refuse NaN, Infinity, numbers that overflow a float, integers
  outside 64 bits and nesting deeper than MAX_JSON_DEPTH: get_json(silent=True) then gives None.
- Only views marked `@accepts_json` take a JSON body; any other answers 415 to one. (Flask-WTF reads a
  JSON body as form data: a list, a number or nested values there broke every form with a 500.)
- A NUL character anywhere in the path, the query, a form or a JSON string is a 400: PostgreSQL refuses
  it in text with an error, and nobody types one.
- A page to go back to (`next`) is followed only if it is a path of this site: `local_path`.
- Form fields: `db_int` as a WTForms coerce, `FiniteDecimalField` for decimals (no NaN, sNaN or infinity).
"""

from __future__ import annotations

import decimal
import json
import math
from urllib.parse import urlsplit

from flask import Flask, Request, abort, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter
from wtforms import DecimalField

# Every id and counter column is INTEGER: 32 bits on PostgreSQL. No row has an id outside this range.
DB_INT_MIN, DB_INT_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# An answer's seq (BIGINT) as a page sends it: a JSON number, exact in JavaScript up to 2**53 - 1.
SEQ_MAX = 2**53 - 1
MAX_PAGE = 100_000
MAX_JSON_DEPTH = 16


def db_int(value) -> int:
    """int(value), refusing (ValueError) anything the database's integer cannot hold."""
    number = int(value)
    if not DB_INT_MIN <= number <= DB_INT_MAX:
        raise ValueError(f"{number} does not fit the database's integer")
    return number


def bounded_int(value, low: int, high: int) -> int:
    """An integer from a JSON value (int, integral float or numeric text) within [low, high], else ValueError."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("not a finite number")
    number = int(value)  # TypeError for None, lists and objects; ValueError for other text
    if not low <= number <= high:
        raise ValueError(f"{number} is outside {low}..{high}")
    return number


def local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site ("/quiz/attempts/3/review#r2") to send the browser back to,
    else None: nothing with a scheme or a host, no "//" or "/\\" (browsers read both as another host),
    no control characters, and not too long."""
    if not target or len(target) > 500 or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return None
    if any(ord(c) < 0x20 or c == "\\" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def page_number() -> int:
    """The `page` query argument, 1 to MAX_PAGE (beyond the last page a list is simply empty)."""
    page = request.args.get("page", 1, type=int)
    return min(max(page, 1), MAX_PAGE)


class DbIntConverter(IntegerConverter):
    """Flask's int converter, with ids the database cannot hold answered 404 instead of reaching it."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = DB_INT_MAX,
                 signed: bool = False):
        super().__init__(map, fixed_digits, min, max, signed)


class BoundedArgs(ImmutableMultiDict):
    """Query and form values: a `type=int` lookup gives the default for a number the database cannot hold."""

    def get(self, key, default=None, type=None):
        return super().get(key, default, db_int if type is int else type)

    def getlist(self, key, type=None):
        return super().getlist(key, db_int if type is int else type)


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} overflows a float")
    return number


def _check_nesting(value) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH, integers outside 64 bits and NUL in strings (walked
    without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if any("\x00" in key for key in item):
                raise ValueError("a NUL character in a key")
            item = item.values()
        elif not isinstance(item, list):
            if type(item) is int and not INT64_MIN <= item <= INT64_MAX:
                raise ValueError("an integer outside 64 bits")
            if type(item) is str and "\x00" in item:
                raise ValueError("a NUL character in a string")
            continue
        if depth > MAX_JSON_DEPTH:
            raise ValueError("JSON nested too deeply")
        stack.extend((child, depth + 1) for child in item)


def _int64(text: str) -> int:
    number = int(text)
    if not INT64_MIN <= number <= INT64_MAX:
        raise ValueError("an integer outside 64 bits")
    return number


# The bounded decoder, built once. json.loads builds a new decoder (and its C scanner) on every call that
# passes a hook: twice per answer save (its body, and the session cookie that Flask decodes with app.json).
# Like json's own default decoder, it keeps no state between calls. Integers are checked as they are read.
_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float, parse_int=_int64)


def _bounded_decoder() -> json.JSONDecoder:
    """json.loads's `cls` for a call without options: the shared bounded decoder instead of a new one."""
    return _DECODER


def _may_break_bounds(text: str) -> bool:
    """Whether JSON text, read by _DECODER (which has refused NaN, infinities and integers outside 64 bits),
    could still hold what _check_nesting refuses; False means its value certainly does not.

    The decoder refuses a raw control character inside a string, so a NUL can only come from the escape
    \\u0000; nesting deeper than MAX_JSON_DEPTH needs more opening brackets than that. (Inside strings these
    only make the walk run, which then decides.) Two scans in C instead of walking every value: an answer
    save walked its body and its session cookie, 2 % of its instructions (callgrind).
    """
    return "\\u0000" in text or text.count("[") + text.count("{") > MAX_JSON_DEPTH


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, parsing bounded as the module docstring says (Flask parses request bodies with app.json)."""

    def loads(self, s, **kwargs):
        if kwargs:  # options such as an object_hook, which may make values of its own: every value is walked
            kwargs.setdefault("parse_constant", _no_constant)
            kwargs.setdefault("parse_float", _finite_float)
            value = _parse(s, **kwargs)
            _check_nesting(value)
            return value
        if isinstance(s, (bytes, bytearray)):  # text as json.loads makes it: UTF-8, -16 or -32
            s = s.decode(json.detect_encoding(s), "surrogatepass")
        value = _parse(s, cls=_bounded_decoder)  # json.loads still refuses a BOM and a non-text argument
        if _may_break_bounds(s):
            _check_nesting(value)
        return value


def _parse(s, **kwargs):
    try:
        return json.loads(s, **kwargs)
    except RecursionError:  # nesting deeper than the interpreter's recursion limit
        raise ValueError("JSON nested too deeply") from None


def accepts_json(view):
    """Mark a view that takes a JSON body (the answer save); every other view answers 415 to one."""
    view.accepts_json = True
    return view


def check_request() -> None:
    """Before each request: refuse a NUL character in the path, query or form, and a JSON body sent to a
    view that reads forms (it would be parsed as a form).

    Every request runs this, the answer save most often: the request is looked up once rather than through
    the proxy per attribute, and an empty query string (a save's) is not parsed into no arguments.
    """
    req = request._get_current_object()
    if "\x00" in req.path or (req.query_string and _has_nul(req.args)):
        abort(400)
    if req.method in ("GET", "HEAD", "OPTIONS"):
        return
    if req.is_json:
        view = current_app.view_functions.get(req.endpoint)
        if view is not None and not getattr(view, "accepts_json", False):
            abort(415, "请求格式不正确")
    elif _has_nul(req.form):
        abort(400)


def _has_nul(values: ImmutableMultiDict) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in values.items(multi=True))


class BoundedRequest(Request):
    parameter_storage_class = BoundedArgs


class FiniteDecimalField(DecimalField):
    """A DecimalField that refuses text that is not a finite decimal number, in Chinese.

    WTForms takes "NaN", "sNaN" and "Infinity" as decimals, and a signalling NaN then makes its
    NumberRange raise instead of failing.
    """

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None  # blank: InputRequired says so
            return
        try:
            number = decimal.Decimal(valuelist[0].strip())
        except (decimal.InvalidOperation, ValueError):
            number = None
        if number is None or not number.is_finite():
            self.data = None
            raise ValueError("请填写一个数字")
        self.data = number


def init_app(app: Flask) -> None:
    """Bound every route's int segments, query and form numbers and JSON bodies (before routes exist)."""
    app.url_map.converters["int"] = DbIntConverter
    app.request_class = BoundedRequest
    app.json = BoundedJSONProvider(app)
    app.before_request(check_request)
