"""The people list as a lazily fetching table: a name, how many memories, first and last seen.

Every name is known at once (`Reverie.person_list`), and each person's figures are a
read of their rows in `person_days`; they are still read a page at a time, off the main
thread, as the view scrolls, so that a store with thousands of people shows its first
screen at once: `fetchMore` asks for the next page by `wanted(names)` and the owner
(`PeoplePane`) answers with `add_rows` when its job ends. Until then the rows are not
there (`rowCount` counts only people with figures), so a view never shows a half-read
row, and `canFetchMore` is False while a page is awaited.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from reverie.core.store.people import Person
from reverie.desktop.labels import plural, short_date

ModelIndex = QModelIndex | QPersistentModelIndex

PersonRole = Qt.ItemDataRole.UserRole + 1  # the row's Person
NameRole = Qt.ItemDataRole.UserRole + 2  # str: the person's name

PAGE = 40  # people whose figures one read fetches (about two screens)
_NO_PARENT = QModelIndex()
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class PeopleColumn(enum.IntEnum):
    """The table's columns."""

    NAME = 0
    MEMORIES = 1
    FIRST = 2
    LAST = 3


_HEADERS = {PeopleColumn.NAME: "Person", PeopleColumn.MEMORIES: "Memories",
            PeopleColumn.FIRST: "First seen", PeopleColumn.LAST: "Last seen"}


class PeopleModel(QAbstractTableModel):
    """People by name; their figures fetched a page at a time through `wanted`."""

    wanted = Signal(list)  # list[str]: the names of the next page to read figures for

    def __init__(self, *, page_size: int = PAGE) -> None:
        super().__init__()
        self._page_size = page_size
        self._names: list[str] = []  # every person the list holds, in order
        self._rows: list[Person] = []  # the first len(_rows) of them, with figures
        self._awaiting: tuple[str, ...] | None = None  # the page asked for
        self._changing = False  # rows are being reset or inserted: no fetch in between

    # --- contents -------------------------------------------------------------------

    def set_names(self, names: Sequence[str]) -> None:
        """Hold `names` (in this order), with no figures read yet; a page awaited for
        the old list is dropped when it comes."""
        self._changing = True
        try:
            self.beginResetModel()
            self._names = list(names)
            self._rows = []
            self._awaiting = None
            self.endResetModel()
        finally:
            self._changing = False

    def add_rows(self, people: Sequence[Person]) -> None:
        """The figures of the page asked for; anything else (a page for a list since
        replaced) is ignored."""
        names = tuple(person.name for person in people)
        if names != self._awaiting:
            return
        self._awaiting = None
        if people:
            first = len(self._rows)
            self._changing = True
            try:
                self.beginInsertRows(QModelIndex(), first, first + len(people) - 1)
                self._rows.extend(people)
                self.endInsertRows()
            finally:
                self._changing = False

    def drop_request(self) -> None:
        """The page asked for will not come (its read failed): ask again on the next
        `fetchMore`."""
        self._awaiting = None

    @property
    def names(self) -> list[str]:
        """Every name the list holds, read or not."""
        return list(self._names)

    @property
    def awaiting(self) -> bool:
        """True while a page of figures is asked for and not yet given."""
        return self._awaiting is not None

    def row_of(self, name: str) -> int:
        """The row of `name` among the rows with figures; -1 if not there (yet)."""
        for row, person in enumerate(self._rows):
            if person.name == name:
                return row
        return -1

    def person(self, row: int) -> Person:
        """The person in `row`."""
        return self._rows[row]

    # --- lazy fetching --------------------------------------------------------------

    def canFetchMore(self, parent: ModelIndex = _NO_PARENT) -> bool:
        """More names than rows, and no page already asked for. False while rows are
        being changed: whoever hears our signals (Qt's model tester) must not start a
        nested insert."""
        if parent.isValid() or self._changing:
            return False
        return self._awaiting is None and len(self._rows) < len(self._names)

    def fetchMore(self, parent: ModelIndex = _NO_PARENT) -> None:
        """Ask for the next page's figures (`wanted`); rows come with `add_rows`."""
        if not self.canFetchMore(parent):
            return
        start = len(self._rows)
        page = tuple(self._names[start:start + self._page_size])
        self._awaiting = page
        self.wanted.emit(list(page))

    # --- the table ------------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = _NO_PARENT) -> int:
        """People with figures read (none under a row)."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = _NO_PARENT) -> int:
        """Name, memories, first seen, last seen."""
        return 0 if parent.isValid() else len(PeopleColumn)

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        """Rows are selectable and have no children."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemNeverHasChildren)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS.get(PeopleColumn(section)) if 0 <= section < len(_HEADERS) else None
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """The cell's text, the whole row's description for screen readers, and the
        person (`PersonRole`) and name (`NameRole`) in every column."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        person = self._rows[index.row()]
        column = PeopleColumn(index.column())
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return person_summary(person)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if column is PeopleColumn.MEMORIES else None
        return {PersonRole: person, NameRole: person.name,
                Qt.ItemDataRole.DisplayRole: cell_text(person, column)}.get(role)


def cell_text(person: Person, column: PeopleColumn) -> str:
    """What one cell of the table reads."""
    if column is PeopleColumn.NAME:
        return person.name
    if column is PeopleColumn.MEMORIES:
        return str(person.memories)
    when = person.first if column is PeopleColumn.FIRST else person.last
    return f"{when.day} {when:%b %Y}" if when is not None else "—"  # no weekday: narrow


def person_summary(person: Person) -> str:
    """"Jordan: 9 memories, first 6 Jan 2026, last 27 Mar 2026"."""
    text = f"{person.name}: {plural(person.memories, 'memory', 'memories')}"
    if person.first is not None and person.last is not None:
        text += f", first {short_date(person.first)}, last {short_date(person.last)}"
    return text
