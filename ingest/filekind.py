"""What a kind of file is to newsrag (its extensions, its loader, how large it may be), and a registry of them.

Every kind goes through the same door, :meth:`Kinds.add`: the ones built in (``ingest/kinds.py``) and those of
plugins (``ingest/loader_plugins.py``), as simonw/llm's OpenAI models register like any plugin's. A loader plugin
needs only this module and ``ingest/records.py`` (``BadInput``, ``finish``); see docs/plugins.md.

A kind is told by its extension; a kind may also claim files of another kind's extension by their first bytes
(a mailbox saved as .txt), which :meth:`Kinds.of` asks of an existing file.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ingest.records import Loaded

SNIFF_BYTES = 4096  # what a sniffing kind is shown of a file: its first bytes


@dataclass(frozen=True)
class Limits:
    """What reading one file may take. One object, not loose arguments, so that a limit added later breaks no
    loader written before it."""

    max_bytes: int  # the largest article (NEWSRAG_MAX_ARTICLE_MB): a larger record, message or page is refused
    max_items: int  # the most messages or pages read from one mailbox or archive (NEWSRAG_MAX_ARCHIVE_ITEMS)


class Loader(Protocol):
    """Reads one file (already checked for its size): each article in it as ``(where, Article)``, or
    ``(where, BadInput)`` saying why there is none. It raises only for what it cannot foresee (then the file fails
    alone with the error's name); an ``OSError`` becomes "cannot read"."""

    def __call__(self, path: Path, origin: str, limits: Limits, /) -> Iterator[Loaded]: ...


@dataclass(frozen=True)
class FileKind:
    """One kind of file, registered once; the walk, the loader, the uploads, the app and the docs all read it."""

    name: str  # "pdf": what `newsrag formats` and a clash call it
    extensions: tuple[str, ...]  # lower case, each with its dot; a double one (".warc.gz") is told whole
    # The loader, or "module:function" naming it: imported when a file of the kind is first read, so that the
    # libraries behind it (pypdf, python-docx, warcio) cost nothing until then, and a loader module may use the
    # table of kinds (its size_limit) without an import cycle.
    load: Loader | str
    media_types: tuple[str, ...] = ()  # what a web server or a mail client calls it
    # How many articles' worth (NEWSRAG_MAX_ARTICLE_MB) one file may be. A file read a record at a time may be
    # far larger than one article; one parsed whole, or carrying images and fonts beside its text, a little.
    size_factor: int = 1
    # One file may hold many articles: one of them never "replaces" another read from the same file.
    many: bool = False
    too_large: str = ""  # what "too large for ..." calls a file of the kind; by default "a news article", or
    # "one file of articles; split it" for a kind of many
    # For the table in docs/formats.md (`newsrag formats --markdown`): what one article is, where its title,
    # source and date come from, and anything else a user should know.
    article: str = ""
    metadata: str = ""
    notes: str = ""
    plugin: str = ""  # the entry point that registered it; "" for a kind built in
    # Files of another kind's extensions that this kind reads when their first bytes say they are its own (a
    # mailbox saved as .txt, as pipermail names its archives): ``sniff``, "module:function" or the function, is
    # given a file's first SNIFF_BYTES and says whether the file is of this kind.
    claims: tuple[str, ...] = ()
    sniff: Callable[[bytes], bool] | str = ""

    def __post_init__(self) -> None:
        if not self.name or not self.extensions:
            raise ValueError(f"a file kind needs a name and at least one extension: {self!r}")
        bad = [e for e in self.extensions if not e.startswith(".") or e != e.lower() or len(e) < 2 or "/" in e]
        if bad:
            raise ValueError(f"kind {self.name!r}: extensions are lower case and start with a dot, not {bad}")
        if isinstance(self.load, str) and ":" not in self.load:
            raise ValueError(f"kind {self.name!r}: load names a function as 'module:function', not {self.load!r}")
        if self.size_factor < 1:
            raise ValueError(f"kind {self.name!r}: size_factor is at least 1")
        if bool(self.claims) != bool(self.sniff):
            raise ValueError(f"kind {self.name!r}: claims and sniff go together")

    @property
    def origin(self) -> str:
        """Where the kind comes from: "built in", or the plugin that registered it."""
        return f"plugin {self.plugin!r}" if self.plugin else "built in"

    def loader(self) -> Loader:
        if not isinstance(self.load, str):
            return self.load
        module, _, name = self.load.partition(":")
        loader: Loader = getattr(importlib.import_module(module), name)
        return loader

    def sniffs(self, path: Path) -> bool:
        """Whether the file at ``path`` is of this kind by its first bytes (False if it cannot be read)."""
        if not self.sniff or not path.is_file():
            return False
        try:
            with path.open("rb") as stream:
                head = stream.read(SNIFF_BYTES)
        except OSError:
            return False
        sniff = self.sniff
        if isinstance(sniff, str):
            module, _, name = sniff.partition(":")
            sniff = getattr(importlib.import_module(module), name)
        return bool(sniff(head))

    def size_limit(self, max_bytes: int) -> int:
        """The largest file of the kind read, for articles of at most ``max_bytes``."""
        return max_bytes * self.size_factor

    def refusal(self) -> str:
        """What a file too large for its kind is too large for."""
        return self.too_large or ("one file of articles; split it" if self.many else "a news article")


class KindClash(ValueError):
    """A kind that claims a name or an extension another kind has."""


class Kinds:
    """The kinds of file newsrag reads, in the order they were registered, told apart by extension."""

    def __init__(self, kinds: Iterable[FileKind] = ()) -> None:
        self._kinds: list[FileKind] = []
        self._by_extension: dict[str, FileKind] = {}
        self._claimed: dict[str, list[FileKind]] = {}  # extension -> the kinds that may claim its files
        self.add(*kinds)

    def add(self, *kinds: FileKind) -> None:
        """Register ``kinds``, all or none: :class:`KindClash` names the first name or extension already taken."""
        claimed: dict[str, FileKind] = {}
        names = {k.name: k for k in self._kinds}
        for kind in kinds:
            if kind.name in names:
                raise KindClash(f"a kind named {kind.name!r} is registered already ({names[kind.name].origin})")
            names[kind.name] = kind
            for extension in kind.extensions:
                owner = self._by_extension.get(extension) or claimed.get(extension)
                if owner is not None:
                    raise KindClash(f"{extension} files are read as {owner.name!r} already ({owner.origin})")
                claimed[extension] = kind
        self._kinds.extend(kinds)
        self._by_extension.update(claimed)
        for kind in kinds:
            for extension in kind.claims:
                self._claimed.setdefault(extension, []).append(kind)

    def __iter__(self) -> Iterator[FileKind]:
        return iter(self._kinds)

    def extensions(self) -> tuple[str, ...]:
        """Every extension read, kind by kind in the order registered."""
        return tuple(self._by_extension)

    def file_type(self, path: str | Path) -> str:
        """The extension ``path`` has: its lower-cased suffix, a double one registered (``.warc.gz``) whole, or ""."""
        name = Path(path).name.lower()
        double = [e for e in self._by_extension if e.count(".") > 1 and name.endswith(e) and len(name) > len(e)]
        return max(double, key=len) if double else Path(name).suffix

    def of(self, path: str | Path) -> FileKind | None:
        """The kind of the file ``path`` names, or None for a file newsrag does not read.

        Told by the extension; for an existing file whose extension another kind claims (a .txt that is a
        mailbox), by its first bytes.
        """
        extension = self.file_type(path)
        for claimant in self._claimed.get(extension, ()):
            if claimant.sniffs(Path(path)):
                return claimant
        return self._by_extension.get(extension)
