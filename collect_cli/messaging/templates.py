"""Message templates: where they are found, what they declare, and rendering in a sandbox.

A template is `templates/<folder>/<name>.<locale>.j2` and starts with a Jinja comment that
declares its channel and purpose, so the linter knows what it must contain:

    {#-
    channel: sms
    purpose: overdue_notice
    -#}

Operators' folders (messaging.template_dirs) are searched before the shipped ones, so a
template of the same name and locale replaces the shipped one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from collect_cli.errors import CollectError
from collect_cli.messaging.sandbox import MAX_VALUE, Sandbox, sandbox

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
MAX_OUTPUT_CHARS = MAX_VALUE  # a letter is a few pages; anything longer is a runaway template
MAX_RENDER_SECONDS = 1.0  # a message renders in well under a millisecond

_FRONT = re.compile(r"\A\{#-?\s*\n(?P<body>.*?)\n\s*-?#\}", re.S)
_NAME = re.compile(r"(?P<name>[A-Za-z0-9_]+)\.(?P<locale>zh_CN|en)\.j2")


class TemplateProblem(CollectError):
    """A template cannot be used (exit 1); lint gives the details."""


@dataclass(frozen=True)
class TemplateSource:
    path: Path
    name: str
    locale: str
    text: str
    meta: dict[str, str]
    problem: str | None = None  # why it cannot be used (unreadable); lint reports it

    @property
    def channel(self) -> str | None:
        return self.meta.get("channel")

    @property
    def purpose(self) -> str | None:
        return self.meta.get("purpose")

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def shipped_dir() -> Path:
    """templates/ at the top of a checkout, shipped as collect_cli.templates when installed."""
    spec = importlib.util.find_spec("collect_cli.templates")
    if spec and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(__file__).resolve().parents[2] / "templates"


def front_matter(text: str) -> dict[str, str]:
    m = _FRONT.match(text)
    if not m:
        return {}
    meta = {}
    for line in m.group("body").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            meta[key.strip()] = value.strip()
    return meta


def read_template(path: Path) -> TemplateSource:
    m = _NAME.fullmatch(path.name)
    if not m:
        raise TemplateProblem(f"{path}: a template file is named NAME.zh_CN.j2 or NAME.en.j2")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return TemplateSource(path, m["name"], m["locale"], "", {}, problem=f"cannot read as UTF-8 text: {exc}")
    return TemplateSource(path, m["name"], m["locale"], text, front_matter(text))


def template_files(folders: list[Path]) -> list[Path]:
    files = []
    for folder in folders:
        if folder.is_file():
            files.append(folder)
        elif folder.is_dir():
            files += sorted(p for p in folder.rglob("*.j2") if p.is_file())
    return files


class TemplateSet:
    """All templates visible to a run: the operator's folders first, then the shipped ones."""

    def __init__(self, extra_dirs: tuple[Path, ...] = ()):
        self.folders = [*extra_dirs, shipped_dir()]
        self._by_key: dict[tuple[str, str], TemplateSource] = {}
        self.problems: list[TemplateProblem] = []  # files no step can use (misnamed): lint shows them
        for path in template_files(self.folders):
            try:
                src = read_template(path)
            except TemplateProblem as exc:
                self.problems.append(exc)
                continue
            self._by_key.setdefault((src.name, src.locale), src)  # earlier folders win

    def names(self) -> set[str]:
        return {name for name, _ in self._by_key}

    def find(self, name: str, locale: str) -> TemplateSource | None:
        """The template for the borrower's language, else the default language's."""
        return self._by_key.get((name, locale)) or self._by_key.get((name, DEFAULT_LOCALE))

    def all(self) -> list[TemplateSource]:
        return list(self._by_key.values())


def environment(html: bool) -> Sandbox:
    return sandbox(html)


@contextmanager
def _time_limit(seconds: float, what: str) -> Iterator[None]:
    """TemplateProblem when the block runs longer than `seconds` (loops inside loops print
    nothing for the size limit to stop). A timer signal: only in the main thread, where
    every command renders; elsewhere the size limit and the sandbox are the bound."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum, _frame):
        raise TemplateProblem(f"{what}: takes more than {seconds:g} s to render")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@lru_cache(maxsize=256)
def _compiled(text: str, html: bool):
    """Compiled once per text: the nightly run renders the same few templates for every loan."""
    return environment(html).from_string(text)


def render(src: TemplateSource, context: dict) -> str:
    """The message text; TemplateProblem when the template fails or runs away."""
    if src.problem:
        raise TemplateProblem(f"{src.path}: {src.problem}")
    chunks, size = [], 0
    try:
        # streamed, so a runaway template is stopped at the size limit, not when memory runs out
        with _time_limit(MAX_RENDER_SECONDS, str(src.path)):
            for chunk in _compiled(src.text, src.channel == "letter").generate(**context):
                size += len(chunk)
                if size > MAX_OUTPUT_CHARS:
                    raise TemplateProblem(f"{src.path}: renders more than {MAX_OUTPUT_CHARS:,} characters")
                chunks.append(chunk)
    except TemplateProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of an edited template is the template's
        raise TemplateProblem(f"{src.path}: {exc.__class__.__name__}: {exc}") from None
    return "".join(chunks).strip()

