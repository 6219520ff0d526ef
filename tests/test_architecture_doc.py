"""docs/architecture.md draws the workflow table as a state diagram; it must not drift."""
import re
from pathlib import Path

from app.ordering.states import State
from app.ordering.workflow import TABLE

DOC = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"


def _drawn_edges() -> set[tuple[str, str, str]]:
    block = DOC.read_text().split("```mermaid", 1)[1].split("```", 1)[0]
    edges = set()
    for source, target, names in re.findall(r"^\s*(\S+) --> (\S+): (.+)$", block, re.M):
        for name in names.split(","):
            edges.add((State.DRAFT if source == "[*]" else source, target, name.strip()))
    return edges


def _table_edges() -> set[tuple[str, str, str]]:
    # `override` may set any state with a remark: the text says so instead of 81 arrows.
    return {(source, action.target, action.name)
            for action in TABLE.values() if action.target and action.name != "override"
            for source in action.sources}


def test_the_state_diagram_is_the_workflow_table():
    assert _drawn_edges() == _table_edges()


def test_every_action_is_named_in_the_doc():
    text = DOC.read_text()
    missing = [name for name in TABLE if f"`{name}`" not in text and f": {name}" not in text
               and f", {name}" not in text]
    assert not missing
