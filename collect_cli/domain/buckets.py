"""Delinquency buckets (M0, M1 …) and the five-tier loan classification."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bucket:
    name: str
    min_days: int
    max_days: int | None  # None: open-ended (e.g. M7+ = 181 and over)

    def holds(self, days: int) -> bool:
        return days >= self.min_days and (self.max_days is None or days <= self.max_days)


DEFAULT_BUCKETS: tuple[Bucket, ...] = (
    Bucket("M0", 0, 0),
    Bucket("M1", 1, 30),
    Bucket("M2", 31, 60),
    Bucket("M3", 61, 90),
    Bucket("M4", 91, 120),
    Bucket("M5", 121, 150),
    Bucket("M6", 151, 180),
    Bucket("M7+", 181, None),
)


def check_buckets(buckets: tuple[Bucket, ...]) -> None:
    """Raise ValueError unless the buckets cover 0, 1, 2 … without gap or overlap."""
    if not buckets:
        raise ValueError("at least one bucket is needed")
    expected = 0
    names: set[str] = set()
    for i, b in enumerate(buckets):
        if b.name in names:
            raise ValueError(f"bucket name {b.name!r} is used twice")
        names.add(b.name)
        if b.min_days != expected:
            raise ValueError(
                f"bucket {b.name!r} starts at {b.min_days} days; the buckets must be contiguous "
                f"from 0, so it should start at {expected}"
            )
        if b.max_days is None:
            if i != len(buckets) - 1:
                raise ValueError(f"only the last bucket may be open-ended, not {b.name!r}")
            return
        if b.max_days < b.min_days:
            raise ValueError(f"bucket {b.name!r} ends before it starts")
        expected = b.max_days + 1
    raise ValueError(f"the last bucket {buckets[-1].name!r} must be open-ended (no max)")


def bucket_for(delinquent_days: int, buckets: tuple[Bucket, ...] = DEFAULT_BUCKETS) -> str:
    for b in buckets:
        if b.holds(delinquent_days):
            return b.name
    raise ValueError(f"no bucket holds {delinquent_days} days")  # check_buckets prevents this


# 《商业银行金融资产风险分类办法》(2023): the regulatory floor by days past due.
CLASSIFICATION = ("正常", "关注", "次级", "可疑", "损失")
CLASSIFICATION_EN = {"正常": "normal", "关注": "special mention", "次级": "substandard",
                     "可疑": "doubtful", "损失": "loss"}


def classify(dpd: int, floor: str | None = None) -> str:
    """The tier by days past due, and never better than `floor` (a restructured loan's)."""
    by_dpd = _by_dpd(dpd)
    return max(by_dpd, floor, key=CLASSIFICATION.index) if floor else by_dpd


def _by_dpd(dpd: int) -> str:
    if dpd > 360:
        return "损失"
    if dpd > 270:
        return "可疑"
    if dpd > 90:
        return "次级"
    if dpd > 0:
        return "关注"
    return "正常"
