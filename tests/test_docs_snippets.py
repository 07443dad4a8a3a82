"""The landing page's code runs and says what the page says it says."""

import contextlib
import io
import re
from pathlib import Path

import pytest

INDEX = Path(__file__).parent.parent / "docs" / "index.rst"


def python_blocks(text):
    """The ``.. code-block:: python`` blocks of an rst page, dedented."""
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", text)
    return ["\n".join(line[3:] for line in block.splitlines()) for block in blocks]


def test_the_landing_page_snippet_fits_scores_and_answers_typed_queries():
    pytest.importorskip("sentence_transformers", reason='needs pip install -e ".[encoders]"')
    (code,) = python_blocks(INDEX.read_text())
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(INDEX), "exec"), {})
    score_line, typed_line, top_line = printed.getvalue().strip().splitlines()
    stated = float(re.search(r"mAP on unseen: ([\d.]+)", code).group(1))
    assert abs(float(score_line) - stated) < 0.01           # the page states what it prints
    assert float(score_line) > 2 * 0.08                     # far above chance on these classes
    stated_typed = float(re.search(r"typed-query mAP: ([\d.]+)", code).group(1))
    assert abs(float(typed_line) - stated_typed) < 0.01
    assert float(typed_line) > 2 / 26                       # chance: one over 26 unseen classes
    # The class of median AP, chosen by the rule, and its top five as stated.
    assert top_line == re.search(r"\n# (a drawing of .*)\n", code).group(1)
