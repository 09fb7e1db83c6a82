"""Settings: command-line option > environment variable (COLLECT_*) > collect.toml > defaults."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from collect_cli.domain.buckets import DEFAULT_BUCKETS, Bucket, check_buckets
from collect_cli.domain.scoring import QueueWeights
from collect_cli.errors import ConfigError

DEFAULT_DB = "collect.db"
DEFAULT_CONFIG = "collect.toml"


@dataclass(frozen=True)
class Settings:
    db: str = DEFAULT_DB
    timezone: str = "Asia/Shanghai"
    grace_days: int = 0
    buckets: tuple[Bucket, ...] = DEFAULT_BUCKETS
    queue: QueueWeights = field(default_factory=QueueWeights)
    config_path: Path | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(*, db: str | None = None, config: str | None = None) -> Settings:
    """Build the settings for one command from its options, the environment and the file."""
    path = _config_path(config)
    data = _read_toml(path) if path else {}
    values = _parse(data, path)
    values["db"] = db or os.environ.get("COLLECT_DB") or values.get("db") or DEFAULT_DB
    return Settings(config_path=path, **values)


def _config_path(option: str | None) -> Path | None:
    explicit = option or os.environ.get("COLLECT_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"configuration file {path} does not exist")
        return path
    default = Path(DEFAULT_CONFIG)
    return default if default.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


_TOP_KEYS = {"db", "timezone", "grace_days", "buckets", "queue"}


def _parse(data: dict[str, Any], path: Path | None) -> dict[str, Any]:
    where = str(path) if path else "configuration"

    def bad(key: str, why: str) -> ConfigError:
        return ConfigError(f"{where}: {key}: {why}")

    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise bad(unknown[0], f"unknown key (known: {', '.join(sorted(_TOP_KEYS))})")
    out: dict[str, Any] = {}
    if "db" in data:
        if not isinstance(data["db"], str) or not data["db"]:
            raise bad("db", "must be a file path or a database URL")
        out["db"] = data["db"]
    if "timezone" in data:
        tz = data["timezone"]
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise bad("timezone", f"{tz!r} is not an IANA time zone such as 'Asia/Shanghai'") from None
        out["timezone"] = tz
    if "grace_days" in data:
        g = data["grace_days"]
        if not isinstance(g, int) or isinstance(g, bool) or not 0 <= g <= 365:
            raise bad("grace_days", "must be a whole number of days from 0 to 365")
        out["grace_days"] = g
    if "buckets" in data:
        out["buckets"] = _parse_buckets(data["buckets"], bad)
    if "queue" in data:
        out["queue"] = _parse_queue(data["queue"], bad)
    return out


def _parse_buckets(raw: Any, bad) -> tuple[Bucket, ...]:
    if not isinstance(raw, list) or not all(isinstance(b, dict) for b in raw):
        raise bad("buckets", 'must be an array of tables: [[buckets]] name = "M1", min = 1, max = 30')
    buckets = []
    for i, b in enumerate(raw, 1):
        key = f"buckets[{i}]"
        extra = sorted(set(b) - {"name", "min", "max"})
        if extra:
            raise bad(f"{key}.{extra[0]}", "unknown key (known: name, min, max)")
        name, lo, hi = b.get("name"), b.get("min"), b.get("max")
        if not isinstance(name, str) or not name.strip():
            raise bad(f"{key}.name", "must be a non-empty string")
        for k, v in (("min", lo), ("max", hi)):
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                raise bad(f"{key}.{k}", "must be a whole number of days, 0 or more")
        if lo is None:
            raise bad(f"{key}.min", "is required")
        buckets.append(Bucket(name.strip(), lo, hi))
    result = tuple(buckets)
    try:
        check_buckets(result)
    except ValueError as exc:
        raise bad("buckets", str(exc)) from None
    return result


def _parse_queue(raw: Any, bad) -> QueueWeights:
    if not isinstance(raw, dict):
        raise bad("queue", "must be a table: [queue]")
    known = set(QueueWeights.__dataclass_fields__)
    for key, value in raw.items():
        if key not in known:
            raise bad(f"queue.{key}", f"unknown key (known: {', '.join(sorted(known))})")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise bad(f"queue.{key}", "must be a whole number, 0 or more")
    weights = QueueWeights(**raw)
    for key in ("dpd_cap", "amount_cap", "handover_dpd"):
        if getattr(weights, key) == 0:
            raise bad(f"queue.{key}", "must be above 0")
    return weights
