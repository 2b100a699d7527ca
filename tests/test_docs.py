"""The README and docs/ show only what works: every command, target, route, setting and link in them is checked here.

No server is started: `newsrag` commands are parsed by the real CLI (typer's click commands, with the ``evals``
commands that join through the ``newsrag.commands`` entry point) and checked against what ``--help`` lists; ``make``
targets against the Makefile; ``/v1`` paths against the server's routes; ``python -m evals...`` against the module's
own ``--help``. The examples that need a server or an index are run elsewhere (tests/test_readme.py,
tests/served/test_http_api.py, tests/test_scale_out.py).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from rag.cli.main import app
from rag.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINKED = [*PAGES, ROOT / "bench" / "HISTORY.md"]  # the lab notebook is linked to and links back
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
CLI = get_command(app)
NEWSRAG = ("newsrag", ".venv/bin/newsrag")
PYTHON = ("python", "python3", ".venv/bin/python")
PLACEHOLDER = re.compile(r"[<>\[\]|]")  # `<file>`, `[--json]`, `a | b`: not runnable as written


@dataclass(frozen=True)
class Shown:
    """A command as a page shows it: in a ```bash block (complete, runnable) or inline in the text (a mention)."""

    page: str
    line: str
    tokens: tuple[str, ...]
    comment: str
    complete: bool

    def __str__(self) -> str:
        return f"{self.page}: {self.line}"


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def _prose(text: str) -> str:
    """The page without its fenced blocks."""
    return FENCE.sub("", text)


def _commands() -> list[Shown]:
    shown = []
    for page in PAGES:
        text, name = _text(page), page.relative_to(ROOT).as_posix()
        for lang, block in FENCE.findall(text):
            if lang not in ("bash", "sh", "shell"):
                continue
            for line in block.replace("\\\n", " ").splitlines():
                tokens = tuple(shlex.split(line, comments=True))
                if tokens:
                    comment = line.partition(" #")[2]
                    shown.append(Shown(name, " ".join(line.split()), tokens, comment, complete=True))
        for span in re.findall(r"`([^`]+)`", _prose(text)):  # a span may run over a line break
            words = span.split()
            span = " ".join(words)
            if len(words) > 1 and (words[0] in NEWSRAG or words[0] == "make" or words[:2] == ["python", "-m"]):
                shown.append(Shown(name, span, tuple(shlex.split(span)), "", complete=False))
    return shown


COMMANDS = _commands()


def _program(shown: Shown) -> tuple[str, tuple[str, ...], dict[str, str]]:
    """The program, its arguments, and the variables set before it (`A=b cmd` or `export A=b`)."""
    tokens, env = list(shown.tokens), {}
    if tokens and tokens[0] == "export":
        return "export", (), dict(t.split("=", 1) for t in tokens[1:])
    while tokens and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", tokens[0]):
        key, value = tokens.pop(0).split("=", 1)
        env[key] = value
    return (tokens[0] if tokens else ""), tuple(tokens[1:]), env


def _of(*programs: str) -> list[Shown]:
    return [c for c in COMMANDS if _program(c)[0] in programs]


# ----- newsrag commands: a real (sub)command, only options its --help lists, and (in a bash block) arguments that parse
def _resolve(args: tuple[str, ...]) -> tuple[list[str], Any, list[str]]:
    """The command path (["feeds", "add"]), its click command (typer's own click) and the arguments left for it."""
    command, path, rest = CLI, [], list(args)
    while hasattr(command, "commands") and rest and not rest[0].startswith("-"):  # a group
        sub = command.commands.get(rest[0])
        assert sub is not None, f"newsrag has no command {' '.join([*path, rest[0]])!r}"
        command, path, rest = sub, [*path, rest.pop(0)], rest
    return path, command, rest


def _options(command: Any) -> set[str]:
    names = {"--help"}
    for param in command.params:
        if param.param_type_name == "option" and not param.hidden:
            names |= {*param.opts, *param.secondary_opts}
    return names


@pytest.mark.parametrize("shown", _of(*NEWSRAG), ids=str)
def test_newsrag_commands_shown_are_real(shown: Shown) -> None:
    _, args, _ = _program(shown)
    assert not any(PLACEHOLDER.search(a) for a in args), f"not runnable as written: {shown}"
    path, command, rest = _resolve(args)
    assert path or rest == ["--help"], f"{shown}: names no command"
    used = {a.split("=", 1)[0] for a in rest if a.startswith("-")} | set(re.findall(r"--[a-z][\w-]*", shown.comment))
    unknown = used - _options(command)
    assert not unknown, f"{shown}: `newsrag {' '.join(path)} --help` lists no {sorted(unknown)}"
    if shown.complete and rest != ["--help"]:
        try:  # parse exactly as the real command line would: argument count, types, choices, required options
            command.make_context(f"newsrag {' '.join(path)}", list(rest)).close()
        except Exception as exc:  # click's usage errors (typer vendors click: its classes are private)
            pytest.fail(f"{shown}: {exc.format_message() if hasattr(exc, 'format_message') else exc!r}")


def test_the_options_shown_are_in_each_commands_help() -> None:
    """The same options, read from what `newsrag ... --help` prints (the CLI with its `newsrag.commands` plugins)."""
    paths: dict[tuple[str, ...], set[str]] = {}
    for shown in _of(*NEWSRAG):
        path, _, rest = _resolve(_program(shown)[1])
        paths.setdefault(tuple(path), set()).update(a.split("=", 1)[0] for a in rest if a.startswith("--"))
    assert ("eval",) in paths and ("bench", "realtimeqa") in paths, "the evals commands are shown and registered"
    runner = CliRunner()
    for path, used in paths.items():
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200", "TERMINAL_WIDTH": "200"})
        assert result.exit_code == 0, f"newsrag {' '.join(path)} --help: {result.output}"
        missing = {o for o in used - {"--help"} if o not in result.output}
        assert not missing, f"`newsrag {' '.join(path)} --help` does not list {sorted(missing)}"


# ----- make targets
def _make_targets() -> set[str]:
    makefile = _text(ROOT / "Makefile")
    return {t for line in re.findall(r"^([\w .-]+?)\s*:(?!=)", makefile, re.MULTILINE) for t in line.split()}


@pytest.mark.parametrize("shown", _of("make"), ids=str)
def test_make_targets_shown_exist(shown: Shown) -> None:
    _, args, _ = _program(shown)
    targets = [a for a in args if "=" not in a and not a.startswith("-")]  # `make bench-scale SCALE_SIZE=200000`
    assert targets, f"{shown}: no target"
    missing = set(targets) - _make_targets()
    assert not missing, f"{shown}: the Makefile has no target {sorted(missing)}"


def test_the_two_setup_commands_are_make_targets() -> None:
    assert {"run", "test"} <= _make_targets()


# ----- python -m evals.*, chroma, jupyter: each program's own --help lists the options shown
def _helps(argvs: list[tuple[str, ...]]) -> dict[tuple[str, ...], str]:
    """Run each `... --help` at once (each is a Python start-up), and return what each printed."""

    def run(argv: tuple[str, ...]) -> str:
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{' '.join(argv)}: {done.stderr[-1000:]}"
        return done.stdout

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(argvs, pool.map(run, argvs), strict=True))


def _check_options(used: dict[tuple[str, ...], set[str]]) -> None:
    pages = _helps(list(used))
    for argv, options in used.items():
        missing = {o for o in options if not re.search(rf"{re.escape(o)}\b", pages[argv])}
        assert not missing, f"`{' '.join(argv)}` does not list {sorted(missing)}"


# `python -m MODULE --help` for several modules in one interpreter, so that they share its imports (seconds each).
MODULE_HELP = """
import contextlib, io, json, runpy, sys
pages = {}
for module in sys.argv[1:]:
    sys.argv, page = [module, "--help"], io.StringIO()
    with contextlib.redirect_stdout(page):
        try:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        except SystemExit as exc:
            assert not exc.code, f"python -m {module} --help exited with {exc.code}"
    pages[module] = page.getvalue()
print(json.dumps(pages))
"""


@pytest.mark.slow
def test_python_modules_shown_take_the_options_shown() -> None:
    used: dict[str, set[str]] = {}
    for shown in _of(*PYTHON):
        _, args, _ = _program(shown)
        assert args[:1] == ("-m",) and len(args) > 1, f"{shown}: only `python -m MODULE` commands are checked"
        assert args[1].startswith("evals."), f"{shown}: not one of newsrag's modules"
        assert not any(PLACEHOLDER.search(a) for a in args), f"not runnable as written: {shown}"
        used.setdefault(args[1], set()).update(a.split("=", 1)[0] for a in args[2:] if a.startswith("--"))
    assert used, "the docs show no python -m command: is this test still reading them?"
    run = subprocess.run(
        [sys.executable, "-c", MODULE_HELP, *used], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    pages = json.loads(run.stdout)
    for module, options in used.items():
        assert "usage:" in pages[module], f"python -m {module} --help printed no usage"
        missing = {o for o in options if not re.search(rf"{re.escape(o)}\b", pages[module])}
        assert not missing, f"`python -m {module} --help` does not list {sorted(missing)}"


@pytest.mark.slow
def test_chroma_and_jupyter_commands_shown_take_their_options() -> None:
    used: dict[tuple[str, ...], set[str]] = {}
    for shown in _of("chroma", ".venv/bin/chroma", ".venv/bin/jupyter"):
        program, args, _ = _program(shown)
        executable = Path(sys.executable).parent / Path(program).name  # `make install-test` installs both
        assert executable.exists(), f"{shown}: {executable} is not installed"
        argv = (str(executable), args[0], "--help-all" if "jupyter" in program else "--help")
        used.setdefault(argv, set()).update(a.split("=", 1)[0] for a in args if a.startswith("--"))
    assert used
    _check_options(used)


# ----- the other programs shown
def test_pytest_markers_shown_are_declared() -> None:
    declared = set(re.findall(r'^\s*"(\w+):', _text(ROOT / "pyproject.toml"), re.MULTILINE))
    for shown in _of(".venv/bin/pytest", "pytest"):
        _, args, _ = _program(shown)
        expression = args[args.index("-m") + 1] if "-m" in args else ""
        words = set(re.findall(r"\w+", expression)) - {"not", "and", "or"}
        assert words <= declared, f"{shown}: pyproject.toml declares no marker {sorted(words - declared)}"


def test_pip_installs_shown_name_folders_of_the_repository() -> None:
    shown = _of(".venv/bin/pip")
    assert shown, "docs/plugins.md shows how to install the example plugin"
    for pip in shown:
        _, args, _ = _program(pip)
        folders = [a for a in args[1:] if not a.startswith("-")]
        assert args[:1] == ("install",) and folders, f"{pip}: only `pip install FOLDER` is checked"
        missing = [f for f in folders if not (ROOT / f / "pyproject.toml").exists()]
        assert not missing, f"{pip}: no package at {missing}"


def test_only_known_programs_are_shown() -> None:
    known = {*NEWSRAG, *PYTHON, "make", "export", "curl", "pytest", ".venv/bin/pytest", "chroma", ".venv/bin/chroma"}
    known |= {".venv/bin/jupyter", ".venv/bin/pip"}
    for shown in (c for c in COMMANDS if c.complete):
        program, _, _ = _program(shown)
        assert program in known, f"{shown}: add a check for {program!r} to tests/test_docs.py"


# ----- HTTP: the paths and Gradio API names shown are the server's
def _v1_routes() -> set[str]:
    from fastapi.routing import APIRoute

    from rag.server.openai_routes import router

    return {route.path for route in router.routes if isinstance(route, APIRoute)}


def test_http_paths_shown_are_routes() -> None:
    text = "\n".join(_text(page) for page in PAGES)
    shown = set(re.findall(r"(?:127\.0\.0\.1:7860|[`\s])(/v1/[\w/-]*\w)", text))
    for curl in _of("curl"):
        urls = [a for a in _program(curl)[1] if a.startswith("http")]
        assert urls, f"{curl}: no URL"
        shown |= {re.sub(r"^https?://[^/]+", "", u) for u in urls}
    assert "/v1/chat/completions" in shown
    assert shown <= _v1_routes(), f"not routes of the server: {sorted(shown - _v1_routes())}"


def test_gradio_api_names_shown_are_the_apps() -> None:
    text = "\n".join(_text(page) for page in PAGES)
    ui = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "rag" / "ui").glob("*.py"))
    names = set(re.findall(r'api_name="/(\w+)"', text))
    assert "ask" in names
    for name in names:
        assert re.search(rf'api_name="/?{name}"', ui), f"the app has no Gradio API /{name}"


# ----- settings
def test_variables_shown_are_settings() -> None:
    settings = {f"NEWSRAG_{name.upper()}" for name in Settings.model_fields}
    for page in PAGES:
        unknown = set(re.findall(r"NEWSRAG_[A-Z_]*[A-Z]", _text(page))) - settings
        assert not unknown, f"{page.name} shows {sorted(unknown)}, which are not settings"


# ----- links
def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    heading = re.sub(r"`|\*\*|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for heading in re.findall(r"^#{1,6} (.+)$", _prose(_text(page)), re.MULTILINE):
        slug = _slug(heading)
        anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _links(page: Path) -> Iterator[str]:
    prose = re.sub(r"`[^`\n]*`", "", _prose(_text(page)))
    yield from re.findall(r"\]\(([^)\s]+)\)", prose)
    yield from re.findall(r'<img [^>]*src="([^"]+)"', prose)


@pytest.mark.parametrize("page", LINKED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_point_at_what_exists(page: Path) -> None:
    broken = []
    for link in _links(page):
        if re.match(r"[a-z]+:", link):  # https:, mailto:
            continue
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        if not path.exists():
            broken.append(f"{link} (no such file)")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{link} (no such heading)")
    assert not broken, f"{page.name}: {broken}"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {(ROOT / link.partition("#")[0]).resolve() for link in _links(ROOT / "README.md")}
    assert not [p.name for p in PAGES[1:] if p.resolve() not in linked]
