"""docs/check_links.py finds broken internal links of a built site, and only those."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).parent.parent / "docs" / "check_links.py"


def _checker():
    spec = importlib.util.spec_from_file_location("check_links", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_broken_files_and_anchors_are_reported_and_good_links_are_not(tmp_path):
    (tmp_path / "api").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="api/page.html#fit">ok</a> <a href="api/page.html#nope">bad anchor</a>'
        '<a href="missing.html">bad file</a> <a href="https://example.org/x">external</a>'
        '<img src="api/figure.png">')
    (tmp_path / "api" / "page.html").write_text('<h2 id="fit">fit</h2><a href="../index.html">up</a>')
    (tmp_path / "api" / "figure.png").write_bytes(b"")
    broken = _checker().broken_links(tmp_path)
    assert broken == ["index.html: api/page.html#nope (no such anchor)",
                      "index.html: missing.html (no such file)"]


def test_without_a_built_site_it_says_so(tmp_path, capsys):
    assert _checker().main([str(tmp_path)]) == 2
    assert "build it first" in capsys.readouterr().err
