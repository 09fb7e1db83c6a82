"""The Jinja2 sandbox messages render in: no way to Python's internals, and no value larger
than a message, refused before it is built.

Jinja2's immutable sandbox keeps templates away from internals and limits range(). What it
does not bound is size: `'x' * 10**9`, `'x'|center(10**9)`, `'{:>999999999}'.format(x)`,
`'%0999999999d' % 1` or `(2**64)**64**64` allocate in C, where neither the output limit nor
the timer can stop them. Every operation that can make a value much larger than its inputs
is checked here against what its result would be, before it runs: no string, sequence or
buffer a template builds may be longer than a whole message (MAX_VALUE), no integer wider
than MAX_INT_BITS.

The mechanism, in five places (every way a template makes a value passes one of them):
- every filter (`_bounded`): its input is a bounded list when lazy, and no larger than a
  message; its integer arguments are no wider than a message; where its result can grow with
  the product of two sizes (a width times the lines, an argument times the links, the items
  of `sum`…) the size is predicted before it runs; its result is checked after it;
- every call (`Sandbox.call`: globals, macros, str/list/dict methods, which are
  allow-listed): the arguments together no larger than a message, the known growing methods
  predicted, the result checked;
- every operator (`call_binop`, `checked_concat`): predicted, and the result checked;
- every list, tuple or dict written in a template (`checked_value`): no larger than a
  message however often it holds the same value, so that aliasing (`[b, b]`, `[c, c]`…)
  cannot make a value that prints exponentially larger than it takes in memory;
- every buffer (blocks, macros, `self.block()`, namespace attributes): bounded as it fills.
Since every value a template holds is thus at most a message, an operation linear in its
inputs (escape, upper, str() of a list, split, dictsort…) can build at most a small multiple
of a message before the check after it refuses the result; only operations that multiply
sizes need a prediction, and each has one.
"""

from __future__ import annotations

import pprint
import re
import types
from collections.abc import Iterable, Iterator, MappingView
from functools import wraps
from numbers import Number

from jinja2 import StrictUndefined
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError
from jinja2.filters import make_attrgetter
from jinja2.runtime import LoopContext, Undefined
from jinja2.sandbox import (
    ImmutableSandboxedEnvironment,
    SandboxedEscapeFormatter,
    SandboxedFormatter,
)
from jinja2.utils import Cycler, Joiner, Namespace, pass_environment
from markupsafe import Markup, escape

MAX_VALUE = 20_000  # characters: as long as a whole message may be (templates.MAX_OUTPUT_CHARS)
MAX_INT_BITS = 4096  # about 1,200 digits; money is text in the context, days are small numbers
MAX_POWER = 64
MAX_DEPTH = 32  # nesting of lists, dicts, namespaces: a message's data is a few levels deep
MAX_INT_DIGITS = MAX_INT_BITS * 3 // 10 + 2  # digits of the widest integer |int may read (base 10)

# The str methods a message template may call; the others (expandtabs, translate, encode…)
# have no use in a message and ways to grow a text that are not worth bounding.
STR_METHODS = frozenset({
    "upper", "lower", "title", "capitalize", "casefold", "swapcase", "strip", "lstrip", "rstrip", "startswith",
    "endswith", "split", "rsplit", "splitlines", "count", "find", "rfind", "index", "rindex", "isdigit", "isalpha",
    "isalnum", "isspace", "isupper", "islower", "isnumeric", "isdecimal", "istitle", "replace", "join", "format",
    "format_map", "center", "ljust", "rjust", "zfill", "partition", "rpartition", "removeprefix", "removesuffix",
})
# The methods of the other built-in values, the same way: read-only and no larger than their
# object. Not `int.to_bytes(10**9)` (a buffer of any size), not `dict.fromkeys` (any iterable).
METHODS = {
    str: STR_METHODS,
    list: frozenset({"count", "index", "copy"}),
    tuple: frozenset({"count", "index"}),
    dict: frozenset({"get", "items", "keys", "values", "copy"}),
    range: frozenset({"count", "index"}),
    int: frozenset({"bit_length", "bit_count", "is_integer", "as_integer_ratio", "conjugate"}),
    float: frozenset({"is_integer", "as_integer_ratio", "conjugate", "hex"}),
}
_BUILTIN_VALUES = (str, bytes, bytearray, memoryview, list, tuple, dict, set, frozenset, range, int, float, complex,
                   MappingView)


def too_large(what: str) -> SecurityError:
    return SecurityError(f"{what} is too large for a message")


def size_of(value, budget: int = MAX_VALUE, indent: int = 0, _depth: int = 0) -> int:
    """About how many characters `value` takes when printed (or, `indent` > 0, as JSON indented
    by that much a level); past `budget`, any number above it. Every object a template can
    reach that holds other values is measured by what it holds, however it prints: a namespace,
    a cycler, a joiner, a dict view, a range (by its items: what it is when made a list). A
    value held many times counts as many times: that is how often it is printed."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return value.bit_length() // 3 + 1
    if isinstance(value, range):
        try:
            count = len(value)
        except OverflowError:
            return budget + 1
        widest = max(abs(value.start), abs(value.stop))
        return count * (widest.bit_length() // 3 + 3 + indent * (_depth + 1))
    if isinstance(value, Namespace):
        value = object.__getattribute__(value, "_Namespace__attrs")
    elif isinstance(value, Cycler):
        value = value.items
    elif isinstance(value, Joiner):
        return len(value.sep) if isinstance(value.sep, str) else 24
    if isinstance(value, list | tuple | set | frozenset | dict | MappingView):
        if _depth >= MAX_DEPTH:
            return budget + 1  # nested deeper than any message's data (or holding itself)
        total = 2
        items = value.items() if isinstance(value, dict) else value
        for item in items:
            total += size_of(item, budget - total, indent, _depth + 1) + 2 + (indent * (_depth + 1) + 1 if indent else 0)
            if total > budget:
                return budget + 1
        return total
    return 24  # a number, a date, a loop, a macro: short when printed


def _check_size(size: int, what: str) -> None:
    if size > MAX_VALUE:
        raise too_large(what)


def _check_int(value, what: str) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise too_large(what)


def check_value(value, what: str):
    """`value`, when it prints no longer than a message and is no wider an integer than
    MAX_INT_BITS: the check every result passes."""
    _check_int(value, what)
    _check_size(size_of(value), what)
    return value


def _check_width(width, what: str = "a width") -> None:
    if isinstance(width, int) and not isinstance(width, bool) and abs(width) > MAX_VALUE:
        raise too_large(f"{what} of {width:,}")


# printf-style conversions: (flags)(width)(.precision)type, widths possibly taken from arguments (*)
_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")


def check_printf(fmt: str, args) -> None:
    """`fmt % args`: the widths and precisions it asks for, and what it prints, together."""
    values = args if isinstance(args, tuple) else (args,)
    star_widths = sum(abs(v) for v in values if isinstance(v, int) and not isinstance(v, bool))
    size = len(fmt) + size_of(args)
    for width, precision in _PRINTF.findall(fmt):
        for part in (width, precision):
            if part == "*":
                size += star_widths
            elif part:
                size += int(part[:7])  # digits beyond seven are already too many
    _check_size(size, "a %-format")


# str.format specs: [[fill]align][sign][z][#][0][width][grouping][.precision][type]
_SPEC = re.compile(r"(?:.?[<>=^])?[+\- ]?z?#?0?(\d*)[,_]?(?:\.(\d+))?[a-zA-Z%]?", re.S)


class _Counted:
    """Counts what one str.format call prints, field by field, before each field is built."""

    def vformat(self, format_string, args, kwargs):
        self._printed = len(format_string)
        return super().vformat(format_string, args, kwargs)

    def format_field(self, value, format_spec):
        m = _SPEC.fullmatch(format_spec or "")
        width = int(m.group(1)[:7] or 0) if m else 0
        precision = int(m.group(2)[:7] or 0) if m and m.group(2) else 0
        self._printed += max(width, size_of(value)) + precision
        _check_size(self._printed, "a format width")
        return super().format_field(value, format_spec)


class _Formatter(_Counted, SandboxedFormatter):
    pass


class _EscapeFormatter(_Counted, SandboxedEscapeFormatter):
    pass


class BoundedBuffer(list):
    """The output of a macro, a {% set %} block or a {% filter %} block: such output is kept
    in a buffer, not streamed, so the buffer itself stops at the limit."""

    size = 0
    what = "the output of a block"

    def append(self, item):
        self.size += len(item) if isinstance(item, str) else size_of(item)
        _check_size(self.size, self.what)
        super().append(item)

    def extend(self, items):
        for item in items:
            self.append(item)

    def write(self, text):  # a stream, for pprint
        self.append(text)


def bounded_concat(parts) -> str:
    """"".join(parts), stopped at the limit as the parts come: what `self.block()` renders."""
    buffer = BoundedBuffer()
    buffer.extend(parts)
    return "".join(buffer)


class BoundedNamespace(Namespace):
    """namespace(): its attributes together no larger than a message (it prints them all)."""

    def __setitem__(self, name, value):
        attrs = dict(object.__getattribute__(self, "_Namespace__attrs"))
        attrs[name] = value
        _check_size(size_of(attrs), "a namespace")
        super().__setitem__(name, value)


class _Generator(CodeGenerator):
    """Compiled templates keep block output in bounded buffers, check the size of every
    `~` concatenation before joining it, and of every list, tuple and dict written in the
    template once it is made (each of its items was bounded, but not how often it holds one)."""

    def buffer(self, frame):
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.new_buffer()")

    def visit_Concat(self, node, frame):
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        else:
            join = "markup_join" if frame.eval_ctx.autoescape else "str_join"
        self.write(f"environment.checked_concat({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def _checked(self, visit, node, frame):
        self.write("environment.checked_value(")
        visit(node, frame)
        self.write(")")

    def visit_List(self, node, frame):
        self._checked(super().visit_List, node, frame)

    def visit_Dict(self, node, frame):
        self._checked(super().visit_Dict, node, frame)

    def visit_Tuple(self, node, frame):
        if node.ctx == "load":  # not the names a {% set a, b = … %} or a loop assigns
            self._checked(super().visit_Tuple, node, frame)
        else:
            super().visit_Tuple(node, frame)


def take(iterable) -> list:
    """The items of an iterator as a list, stopped as soon as they would print longer than a
    message: a lazy sequence (`range(…)|map(…)`) is never materialised unbounded."""
    items, size = [], 2
    for item in iterable:
        size += size_of(item) + 2
        _check_size(size, "a sequence")
        items.append(item)
    return items


_SIZED = (str, list, tuple, dict, range, int, float, bool, type(None))


def _input(value, what: str):
    """A filter's input or a built-in's argument: a lazy one (a generator, an iterator, a
    loop, a dict view) as a bounded list; any other no larger than a message."""
    if isinstance(value, Undefined) or not isinstance(value, Iterable) or isinstance(value, (*_SIZED, Namespace)):
        _check_size(size_of(value), what)
        return value
    return take(value)


def _predict_replace(s: str, old, new, count=-1) -> int:
    if not isinstance(old, str) or not isinstance(new, str):
        return len(s)
    hits = s.count(old) if old else len(s) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(s) + hits * (len(new) - len(old))


def _predict_join(sep, items, what: str = "a join") -> int:
    size = 0
    for n, item in enumerate(items):
        size += size_of(item) + (len(sep) if n and isinstance(sep, str) else 0)
        _check_size(size, what)
    return size


def _attributes(environment, items, attribute):
    """The items, or each one's `attribute` as |join, |sum and |map(attribute=…) take it."""
    if attribute is None:
        return items
    getter = make_attrgetter(environment, attribute)
    return [getter(item) for item in items]


def _length(value) -> int:
    return len(value) if isinstance(value, str) else 0


def _predict_indent(s, width=4, first=False, blank=False) -> int:
    """Each line (str.splitlines: \\v, \\f, \\x1c… end lines too) gains the indent, escaped if
    the text is markup."""
    markup, s = isinstance(s, Markup), str(s)
    pad = len(escape(width) if markup else width) if isinstance(width, str) else \
        width if isinstance(width, int) and not isinstance(width, bool) else 0
    lines = len(s.splitlines()) + 1
    return len(s) + lines * (max(pad, 0) + 1)


def _predict_wordwrap(s, width=79, break_long_words=True, wrapstring=None, *a, **k) -> int:
    """Every break but one per paragraph follows at least `width` characters of the text over
    two lines: at most 2·len/width breaks, plus one per paragraph, and never more than one per
    character; each break is a `wrapstring`."""
    s = str(s)
    step = max(width, 1) if isinstance(width, int) else 1
    breaks = min(2 * len(s) // step + len(s.splitlines()) + 2, len(s) + 2)
    return len(s) + breaks * (len(wrapstring) if isinstance(wrapstring, str) else 1)


def _predict_urlize(value, trim_url_limit=None, nofollow=False, target=None, rel=None, extra_schemes=None) -> int:
    """A word becomes a link only if it has a dot, an @ or a scheme's colon; each link repeats
    the word (href and text) and carries the escaped target and rel."""
    s = str(value)
    extra = 6 * (_length(target) + _length(rel)) + sum(map(_length, extra_schemes or ())) + 80
    return len(s) + sum(2 * len(w) + extra for w in s.split() if "." in w or "@" in w or ":" in w)


def _bounded_int(func):
    """|int: a text of more digits than the widest integer allowed is refused as such, not read
    (Python's own digit limit would make |int quietly give its default)."""

    @wraps(func)
    def checked(value, default=0, base=10):
        if isinstance(value, str):
            digits = len(value.strip().replace("_", ""))
            per_digit = {2: 1, 8: 3, 16: 4}.get(base, 3.3 if base in (0, 10) else 1)
            if digits * per_digit > MAX_INT_BITS + 8:
                raise too_large(f"a number of {digits:,} digits")
        return func(value, default, base)

    return checked


@pass_environment
def _bounded_sum(environment, iterable, attribute=None, start=0):
    """|sum: of numbers as it is; of lists (a `start` that is not a number) only when all it
    joins is no larger than a message: Python's sum() joins them in one call the timer cannot stop."""
    items = _attributes(environment, iterable, attribute)
    if not isinstance(start, Number):
        _predict_join("", [start, *items], "the result of sum")
    return sum(items, start)


def _bounded_pprint(value):
    """|pprint, written into a bounded buffer: its indentation (the width of the keys above a
    value, on every line) can make the text far larger than the value."""
    out = BoundedBuffer()
    out.what = "the result of pprint"
    pprint.PrettyPrinter(stream=out).pprint(value)
    return "".join(out)[:-1]


def _replacement(name: str, func):
    """The filters whose own code cannot be bounded from outside, replaced; the others as they are."""
    if name == "sum":
        return _bounded_sum
    if name == "pprint":
        return _bounded_pprint
    if name == "int":
        return _bounded_int(func)
    return func


def _bounded_filters(filters: dict, environment) -> dict:
    """Every filter: an iterator it is given is taken as a bounded list, a lazy sequence it
    returns too; an integer argument wider than a message (a width, a count) is refused; and
    where a result can be much larger than the inputs, its size is predicted first."""
    predict = {
        "center": lambda v, width=80, *a, **k: max(size_of(v), width if isinstance(width, int) else 0),
        "indent": _predict_indent,
        "replace": lambda v, old="", new="", count=None, *a, **k: _predict_replace(str(v), old, new,
                                                                                      -1 if count is None else count),
        "wordwrap": _predict_wordwrap,
        "tojson": lambda v, indent=None, *a, **k: size_of(v, indent=len(indent) if isinstance(indent, str) else
                                                          indent if isinstance(indent, int) else 0),
        "join": lambda v, d="", attribute=None, *a, **k: _predict_join(d, _attributes(environment, v, attribute)),
        "format": lambda v, *args, **kwargs: check_printf(str(v), args or kwargs) or 0,
        "urlize": _predict_urlize,
    }
    return {name: _bounded(_replacement(name, func), name, predict.get(name)) for name, func in filters.items()}


def _bounded(func, name: str, predict):
    passes_context = getattr(func, "jinja_pass_arg", None) is not None

    @wraps(func)
    def checked(*args, **kwargs):
        head, given = (args[:1], list(args[1:])) if passes_context else ((), list(args))
        what = f"the input of {name}"
        if given and not (name in ("length", "count") and isinstance(given[0], LoopContext)):
            given[0] = _input(given[0], what)
        for value in (*given[1:], *kwargs.values()):
            if name != "format":
                _check_width(value, f"an argument of {name}")
            _check_size(size_of(value), f"an argument of {name}")
        if predict is not None and given:
            _check_size(predict(*given, **kwargs), f"the result of {name}")
        result = func(*head, *given, **kwargs)
        if isinstance(result, Iterator) and not isinstance(result, LoopContext):
            return take(result)  # map, select, batch, items, reverse…: lazy, taken as a bounded list
        return check_value(result, f"the result of {name}")

    return checked


class Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with every size bound of this module."""

    intercepted_binops = frozenset({"*", "**", "+", "-", "%"})
    code_generator_class = _Generator
    concat = staticmethod(bounded_concat)  # what self.block() joins a block's output with

    def __init__(self, **options):
        super().__init__(**options)
        self.filters = _bounded_filters(self.filters, self)
        self.globals.pop("lipsum", None)  # paragraphs of filler text: nothing a message says
        self.globals["namespace"] = BoundedNamespace

    @staticmethod
    def new_buffer() -> BoundedBuffer:
        return BoundedBuffer()

    @staticmethod
    def checked_concat(join, parts):
        _check_size(sum(size_of(p) for p in parts), "a joined text")
        return check_value(join(parts), "a joined text")

    @staticmethod
    def checked_value(value):
        return check_value(value, "a list or dict")

    def is_safe_attribute(self, obj, attr, value) -> bool:
        if callable(value) and isinstance(obj, _BUILTIN_VALUES):
            allowed = next((names for kind, names in METHODS.items() if isinstance(obj, kind)), frozenset())
            if attr not in allowed:
                return False
        return super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value):
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        f_self = value.__self__
        formatter = _EscapeFormatter(self, escape=f_self.escape) if isinstance(f_self, Markup) else _Formatter(self)
        is_map = value.__name__ == "format_map"
        str_type = type(f_self)

        def bounded(*args, **kwargs):
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                args, kwargs = (), args[0]
            return str_type(formatter.vformat(f_self, args, kwargs))

        return bounded

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja2's signature
        if isinstance(__obj, types.BuiltinFunctionType | type):  # dict(…), a str or dict method
            args = tuple(_input(a, "an argument") for a in args)
        _check_size(sum(size_of(a) for a in (*args, *kwargs.values())), "the arguments of a call")
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            name = getattr(__obj, "__name__", "")
            if name in ("center", "ljust", "rjust", "zfill") and args:
                _check_width(args[0])
            elif name == "replace" and len(args) >= 2:
                _check_size(_predict_replace(owner, *args[:3]), "the result of replace")
            elif name == "join" and args:
                _predict_join(owner, args[0])
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(result, range):  # range(…): lazy; a filter or a list it is put in bounds it
            return result
        return check_value(result, "the result of a call")

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            if isinstance(right, int) and abs(right) > MAX_POWER:
                raise SecurityError(f"a power of {right} is too large for a message")
            if isinstance(left, int) and isinstance(right, int) and right > 0 \
                    and left.bit_length() * right > MAX_INT_BITS:
                raise too_large("a power")
        elif operator == "*":
            for a, b in ((left, right), (right, left)):
                if isinstance(a, str | list | tuple) and isinstance(b, int) and b > 0:
                    _check_size(size_of(a) * b if size_of(a) else 0, f"a sequence repeated {b:,} times")
            if isinstance(left, int) and isinstance(right, int) \
                    and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise too_large("a product")
        elif operator == "+":
            if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
                _check_size(size_of(left) + size_of(right), "a joined value")
        elif operator == "%" and isinstance(left, str):
            check_printf(left, right)
        return check_value(super().call_binop(context, operator, left, right), "a number" if isinstance(
            left, int | float) and isinstance(right, int | float) else "the result of an operator")


def sandbox(html: bool) -> Sandbox:
    """Sandboxed, bounded, strict (an unknown name is an error), and autoescaped for letters
    (HTML) so that a borrower's name cannot inject markup."""
    return Sandbox(undefined=StrictUndefined, autoescape=html, keep_trailing_newline=False, trim_blocks=True,
                   lstrip_blocks=True)
