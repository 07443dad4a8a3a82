"""Kept so that ``pip install -e .`` works with older tools; the metadata is in pyproject.toml."""

from setuptools import setup

setup()
