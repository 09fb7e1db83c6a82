"""The Jinja2 sandbox messages render in: no way to Python's internals, and no value larger
than a message, refused before it is built.

Jinja2's immutable sandbox keeps templates away from internals and limits range(). What it
does not bound is size: `'x' * 10**9`, `'x'|center(10**9)`, `'{:>999999999}'.format(x)`,
`'%0999999999d' % 1` or `(2**64)**64**64` allocate in C, where neither the output limit nor
the timer can stop them. Every operation that can make a value much larger than its inputs
is checked here against what its result would be, before it runs: no string, sequence or
buffer a template builds may be longer than a whole message (MAX_VALUE), no integer wider
than MAX_INT_BITS.
"""

from __future__ import annotations

import re
from functools import wraps

from jinja2 import StrictUndefined
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError
from jinja2.sandbox import (
    ImmutableSandboxedEnvironment,
    SandboxedEscapeFormatter,
    SandboxedFormatter,
)
from markupsafe import Markup

MAX_VALUE = 20_000  # characters: as long as a whole message may be (templates.MAX_OUTPUT_CHARS)
MAX_INT_BITS = 4096  # about 1,200 digits; money is text in the context, days are small numbers
MAX_POWER = 64

# The str methods a message template may call; the others (expandtabs, translate, encode…)
# have no use in a message and ways to grow a text that are not worth bounding.
STR_METHODS = frozenset({
    "upper", "lower", "title", "capitalize", "casefold", "swapcase", "strip", "lstrip", "rstrip", "startswith",
    "endswith", "split", "rsplit", "splitlines", "count", "find", "rfind", "index", "rindex", "isdigit", "isalpha",
    "isalnum", "isspace", "isupper", "islower", "isnumeric", "isdecimal", "istitle", "replace", "join", "format",
    "format_map", "center", "ljust", "rjust", "zfill", "partition", "rpartition", "removeprefix", "removesuffix",
})


def too_large(what: str) -> SecurityError:
    return SecurityError(f"{what} is too large for a message")


def size_of(value, budget: int = MAX_VALUE) -> int:
    """About how many characters `value` takes when printed; past `budget`, any number above it."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return value.bit_length() // 3 + 1
    if isinstance(value, list | tuple | set | frozenset | dict):
        total = 2
        items = value.items() if isinstance(value, dict) else value
        for item in items:
            total += size_of(item, budget - total) + 2
            if total > budget:
                return budget + 1
        return total
    return 24  # a number, a date: short when printed


def _check_size(size: int, what: str) -> None:
    if size > MAX_VALUE:
        raise too_large(what)


def _check_int(value, what: str) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise too_large(what)


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

    def append(self, item):
        self.size += len(item) if isinstance(item, str) else size_of(item)
        _check_size(self.size, "the output of a block")
        super().append(item)

    def extend(self, items):
        for item in items:
            self.append(item)


class _Generator(CodeGenerator):
    """Compiled templates keep block output in bounded buffers and check the size of every
    `~` concatenation before joining it."""

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
# Filters that return a lazy sequence: their result is taken as a bounded list.
_LAZY = {"map", "select", "reject", "selectattr", "rejectattr", "batch", "slice", "unique"}


def _predict_replace(s: str, old, new, count=-1) -> int:
    if not isinstance(old, str) or not isinstance(new, str):
        return len(s)
    hits = s.count(old) if old else len(s) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(s) + hits * (len(new) - len(old))


def _predict_join(sep, items) -> int:
    size = 0
    for n, item in enumerate(items):
        size += size_of(item) + (len(sep) if n and isinstance(sep, str) else 0)
        _check_size(size, "a join")
    return size


def _bounded_filters(filters: dict) -> dict:
    """Every filter: an iterator it is given is taken as a bounded list, a lazy sequence it
    returns too; an integer argument wider than a message (a width, a count) is refused; and
    where a result can be much larger than the inputs, its size is predicted first."""
    predict = {
        "center": lambda v, width=80, *a, **k: max(size_of(v), width if isinstance(width, int) else 0),
        "indent": lambda v, width=4, *a, **k: size_of(v) * (1 + (len(width) if isinstance(width, str) else
                                                                   width if isinstance(width, int) else 0)),
        "replace": lambda v, old="", new="", count=None, *a, **k: _predict_replace(str(v), old, new,
                                                                                      -1 if count is None else count),
        "wordwrap": lambda v, width=79, break_long_words=True, wrapstring=None, *a, **k:
            size_of(v) * (1 + (len(wrapstring) if isinstance(wrapstring, str) else 1)),
        "tojson": lambda v, indent=None, *a, **k: size_of(v) * (1 + (indent if isinstance(indent, int) else 0)),
        "join": lambda v, d="", *a, **k: _predict_join(d, v),
        "format": lambda v, *args, **kwargs: check_printf(str(v), args or kwargs) or 0,
    }
    return {name: _bounded(func, name, predict.get(name)) for name, func in filters.items()}


def _bounded(func, name: str, predict):
    passes_context = getattr(func, "jinja_pass_arg", None) is not None

    @wraps(func)
    def checked(*args, **kwargs):
        head, given = (args[:1], list(args[1:])) if passes_context else ((), list(args))
        if given and not isinstance(given[0], _SIZED):
            given[0] = take(given[0])
        if name != "format":
            for value in (*given[1:], *kwargs.values()):
                _check_width(value, f"an argument of {name}")
        if predict is not None and given:
            _check_size(predict(*given, **kwargs), f"the result of {name}")
        result = func(*head, *given, **kwargs)
        return take(result) if name in _LAZY else result

    return checked


class Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with every size bound of this module."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _Generator

    def __init__(self, **options):
        super().__init__(**options)
        self.filters = _bounded_filters(self.filters)
        self.globals.pop("lipsum", None)  # paragraphs of filler text: nothing a message says

    @staticmethod
    def new_buffer() -> BoundedBuffer:
        return BoundedBuffer()

    @staticmethod
    def checked_concat(join, parts):
        _check_size(sum(size_of(p) for p in parts), "a joined text")
        return join(parts)

    def is_safe_attribute(self, obj, attr, value) -> bool:
        if isinstance(obj, str) and callable(value) and attr not in STR_METHODS:
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
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            name = getattr(__obj, "__name__", "")
            if name in ("center", "ljust", "rjust", "zfill") and args:
                _check_width(args[0])
            elif name == "replace" and len(args) >= 2:
                _check_size(_predict_replace(owner, *args[:3]), "the result of replace")
            elif name == "join" and args:
                items = args[0] if isinstance(args[0], _SIZED) else take(args[0])
                _predict_join(owner, items)
                args = (items, *args[1:])
        return super().call(__context, __obj, *args, **kwargs)

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
        result = super().call_binop(context, operator, left, right)
        _check_int(result, "a number")
        return result


def sandbox(html: bool) -> Sandbox:
    """Sandboxed, bounded, strict (an unknown name is an error), and autoescaped for letters
    (HTML) so that a borrower's name cannot inject markup."""
    return Sandbox(undefined=StrictUndefined, autoescape=html, keep_trailing_newline=False, trim_blocks=True,
                   lstrip_blocks=True)
