"""Check every internal link of the built site: the target file exists, and so does its anchor.

    python docs/check_links.py docs/_build/html

External links (http, https, mailto) are not followed: the build and this check run offline.
Exit status 1 lists the broken links.
"""

import functools
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for name in ("href", "src"):
            if tag in ("a", "img", "script", "link") and attrs.get(name):
                self.links.append(attrs[name])


@functools.cache
def parse(path):
    """Links and ids of one page, read once however many pages link to it."""
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def broken_links(root):
    broken = []
    for page in sorted(root.rglob("*.html")):
        if page.relative_to(root).parts[0] in ("_static", "_sources"):
            continue  # theme templates and page sources, not pages
        for link in parse(page).links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(root)}: {link} (no such file)")
            elif parts.fragment and target.suffix == ".html" and \
                    parts.fragment not in parse(target).ids:
                broken.append(f"{page.relative_to(root)}: {link} (no such anchor)")
    return broken


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else "docs/_build/html")
    if not (root / "index.html").exists():
        print(f"{root} holds no built site (no index.html); build it first", file=sys.stderr)
        return 2
    broken = broken_links(root)
    for line in broken:
        print(line)
    print(f"{len(broken)} broken internal link(s) in {root}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
