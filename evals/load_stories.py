"""The load test's stories: invented articles whose names appear nowhere else, and the checks on answers.

Each client of ``evals/load.py`` owns one story and asks about it. Because the stories share their
shape (a bridge, its city, river, opening date and architect) but none of their names, an answer can
be traced to the story it came from: the title of its first citation, the passage of its best sentence.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October")
FIRST_NAMES = ("Ines", "Tomas", "Lena", "Ravi", "Mira", "Jonas", "Aiko", "Pavel", "Noor", "Elena", "Kofi", "Sanna")
FOLLOW_UP = "Who was its architect?"


@dataclass(frozen=True)
class Story:
    """One invented article whose bridge, city, river and architect are named nowhere else."""

    bridge: str
    city: str
    river: str
    architect: str
    day: int
    month: str

    @property
    def title(self) -> str:
        return f"{self.bridge} Bridge opens in {self.city}"

    @property
    def opened(self) -> str:
        return f"{self.day} {self.month}"

    @property
    def names(self) -> tuple[str, ...]:
        return self.bridge, self.city, self.river, self.architect.split()[-1]

    def question(self, turn: int) -> str:
        if turn == 0:
            return f"When did the {self.bridge} Bridge in {self.city} open?"
        return f"Who was the architect of the {self.bridge} Bridge in {self.city}?"

    def expected(self, turn: int) -> str:
        return self.opened if turn == 0 else self.architect.split()[-1]

    def markdown(self) -> str:
        month = MONTHS.index(self.month) + 1
        return (
            f"---\ntitle: {self.title}\nsource: Load Test Gazette\ndate: 2025-{month:02d}-{self.day:02d}\n---\n"
            f"The {self.bridge} Bridge in {self.city} opened to traffic on {self.opened} 2025, after four years"
            f" of construction.\nIts architect is {self.architect}, who won the design competition in 2019.\n"
            f"The bridge crosses the {self.river} river and carries two tram lines and a cycle path.\n"
            f"City officials expect thousands of vehicles a day to cross it.\n"
        )


def stories(n: int, seed: int = 6) -> list[Story]:
    """``n`` stories with invented names, all distinct; ``stories(m)`` is a prefix of ``stories(n)`` for m < n."""
    rng = random.Random(seed)
    used: set[Any] = set()

    def fresh(make: Any) -> Any:
        while (x := make()) in used:
            pass
        used.add(x)
        return x

    def word() -> str:
        return fresh(
            lambda: (
                "".join(rng.choice("bdgklmnprstvz") + rng.choice("aeiou") for _ in range(3)).title() + rng.choice("nrs")
            )
        )

    if n > 28 * len(MONTHS):
        raise ValueError(f"at most {28 * len(MONTHS)} stories (one per opening date)")
    out = []
    for _ in range(n):
        day, month = fresh(lambda: (rng.randint(1, 28), rng.choice(MONTHS)))
        out.append(Story(word(), word(), word(), f"{rng.choice(FIRST_NAMES)} {word()}", day, month))
    return out


def judge(own: Story, turn: int, text: str, titles: list[str], clients: list[Story]) -> str:
    """ok, wrong (its own fact is missing, or it leads with a passage not from its story) or mixed.

    An answer is mixed up when it leads with another client's story: its first citation, the passage
    of its best sentence. A follow-up may also quote similar sentences of other stories further on
    (the extractive engine weighs the earlier question's words lightly); :func:`strays` counts those.
    """
    lead = titles[0] if titles else ""
    if any(lead == s.title for s in clients if s != own):
        return "mixed"
    return "ok" if lead == own.title and own.expected(turn) in text else "wrong"


def strays(own: Story, titles: list[str]) -> bool:
    return any(title != own.title for title in titles)


def write(stories_: list[Story], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{s.bridge.lower()}.md" for s in stories_]
    for path, story in zip(paths, stories_, strict=True):
        path.write_text(story.markdown(), encoding="utf-8")
    return paths


def check_log(index_dir: Path, known: list[Story], since: float) -> dict[str, Any]:
    """The server's question log: no logged conversation holds turns about two stories."""
    from rag.core.settings import load_settings
    from rag.service.history import HistoryLog

    log = HistoryLog(load_settings(index_dir=index_dir).history_path)
    turns = [t for t in log.recent(10**7) if t.created_at >= since]
    conversations: dict[str, list[Any]] = defaultdict(list)
    for t in turns:
        conversations[t.conversation_id].append(t)
    by_title = {s.title: s.bridge for s in known}
    mixed = []
    for conversation_id, conv in conversations.items():
        asked = {s.bridge for s in known if s.bridge in conv[0].question}
        leads = asked | {by_title.get(t.citations[0]["title"], "?") for t in conv if t.citations}
        if len(leads) > 1 or len(conv) > 2 or (conv[0].channel == "api" and len(conv) > 1):
            mixed.append(conversation_id)
    return {"turns": len(turns), "conversations": len(conversations), "mixed": len(mixed), "mixed_ids": mixed[:10]}
