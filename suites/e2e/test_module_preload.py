"""The page's <link rel=modulepreload> list is exactly the set of modules app.js imports, directly or not: a
module missing from it loads one import level later (the waterfall the list removes), and one that is listed
but no longer imported is a wasted request on every page load."""

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "rootfs-overlay" / "usr" / "share" / "intercom" / "web"
STATIC_IMPORT = re.compile(r"""^import\s[^'"]*['"]\./([\w.-]+\.js)['"]""", re.MULTILINE)


def imported_from(entry):
    seen, pending = set(), [entry]
    while pending:
        module = pending.pop()
        for name in STATIC_IMPORT.findall((WEB / "js" / module).read_text()):
            if name not in seen:
                seen.add(name)
                pending.append(name)
    return seen


def test_every_imported_module_is_preloaded_and_nothing_else():
    html = (WEB / "index.html").read_text()
    assert '<script type="module" src="js/app.js"></script>' in html
    preloaded = re.findall(r'<link rel="modulepreload" href="js/([\w.-]+\.js)">', html)
    assert len(preloaded) == len(set(preloaded)), "a module is preloaded twice"
    imported = imported_from("app.js") - {"app.js"}
    assert imported, "app.js imports nothing: the import pattern no longer matches"
    assert set(preloaded) - imported == set(), "preloaded but not imported"
    assert imported - set(preloaded) == set(), "imported but not preloaded (add it to index.html)"
    for name in preloaded:
        assert (WEB / "js" / name).is_file()
