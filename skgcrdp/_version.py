"""The version of skgcrdp, in one place (the package, its model files and its metadata read it)."""

__version__ = "0.2.0.dev0"
