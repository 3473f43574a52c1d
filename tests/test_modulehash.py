"""databook.modulehash: the local modules a file depends on, each file read once a build."""

from __future__ import annotations

import textwrap
from pathlib import Path

from databook import figures, modulehash
from databook.figures import FigureScript


def _package(root: Path, n_modules: int) -> Path:
    """A ``databook`` package whose modules import each other in a chain."""
    pkg = root / "databook"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for k in range(n_modules):
        nxt = f"from . import m{k + 1}\n" if k + 1 < n_modules else ""
        (pkg / f"m{k}.py").write_text(f"{nxt}x = {k}\n")
    return pkg


def test_every_module_is_parsed_once_per_build_not_once_per_script(tmp_path, monkeypatch):
    pkg = _package(tmp_path, n_modules=6)
    scripts = []
    for k in range(5):
        script = tmp_path / f"fig_{k}.py"
        script.write_text(f"OUTPUTS = ['{k}.png']\nfrom databook import m0\n")
        scripts.append(FigureScript.read(script))
    lock = tmp_path / "environment.lock"
    lock.write_text("x")
    parsed = []
    parse = modulehash._parse
    monkeypatch.setattr(modulehash, "_IMPORTS", {})  # nothing remembered from other tests
    monkeypatch.setattr(
        modulehash, "_parse", lambda source, name: parsed.append(name) or parse(source, name)
    )
    scan = modulehash.Scan(pkg)
    keys = [
        figures.key_parts(s, environment_lock=lock, data_mode="demo", asset_hashes={}, scan=scan)[
            "modules"
        ]
        for s in scripts
    ]
    assert all(set(k) == {"databook", *(f"databook.m{i}" for i in range(6))} for k in keys)
    # 5 scripts + 7 package files, each parsed once (not 5 x 7 module parses).
    assert sorted(parsed) == sorted(
        [str(s.path) for s in scripts] + [str(p) for p in pkg.glob("*.py")]
    )


def test_an_edited_import_is_seen_in_the_same_process(tmp_path):
    """The parse memo is keyed by content: an edit (even of the same size, within one clock
    tick) is parsed again, so a new transitive import enters the key."""
    pkg = _package(tmp_path, n_modules=3)
    (pkg / "extra.py").write_text("y = 1\n")
    script = tmp_path / "fig_a.py"
    script.write_text("from databook import m2\n")
    assert "databook.extra" not in modulehash.local_modules(script, pkg)
    (pkg / "m2.py").write_text("from . import extra\n")
    assert "databook.extra" in modulehash.local_modules(script, pkg)
    (pkg / "m2.py").write_text("from . import m1234\n")  # same size, other import
    assert "databook.extra" not in modulehash.local_modules(script, pkg)


def test_imports_at_any_depth_are_found():
    source = textwrap.dedent(
        """
        import a
        from b import c
        def f():
            import d
            class K:
                def g(self):
                    from e import h
        try:
            import i
        except ImportError:
            import j
        else:
            import k
        finally:
            import l
        with open("x") as f:
            if True:
                import m
            elif False:
                import n
            else:
                while True:
                    for q in []:
                        import o
        match x:
            case 1:
                import p
        async def r():
            async with s:
                import t
        x = [__import__("not_a_statement")]
        """
    ).encode()
    found = modulehash.imported_modules(source, None, filename="x.py", is_package=False)
    assert found == {*"abdeijklmnopt", "b.c", "e.h"}


def test_relative_imports_resolve_against_the_module():
    source = b"from . import a\nfrom ..b import c\nfrom .d import *\n"
    found = modulehash.imported_modules(
        source, "databook.site.render", filename="render.py", is_package=False
    )
    assert found == {"databook.site", "databook.site.a", "databook.b", "databook.b.c",
                     "databook.site.d", "databook.site.d.*"}  # fmt: skip
    init = modulehash.imported_modules(
        b"from . import a\n", "databook.site", filename="__init__.py", is_package=True
    )
    assert init == {"databook.site", "databook.site.a"}
