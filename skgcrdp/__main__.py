"""``python -m skgcrdp``: the few-shot benchmark (see ``python -m skgcrdp.benchmark --help``)."""

from .benchmark.__main__ import main

if __name__ == "__main__":
    main()
