"""Reusable constructs: each owns one concern and takes a frozen keyword-only props dataclass."""
