"""collect: collections operations for a consumer lender."""

__version__ = "0.1.0"
