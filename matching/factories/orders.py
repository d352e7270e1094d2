"""Production orders to match against a factory registry: read from CSV (or given as records), checked strictly.

CSV columns: design_id, category, materials, processes, quantity, due_in_days, description, and optionally
base_unit_cost_cents (the usual ex-factory cost per piece; a factory's unit cost is this x its
price_index). List fields are ';'-separated. All or nothing: the first bad line rejects the file with
its line and the reason. Unknown categories, materials and processes are refused with the known ones
listed; a quantity must be a whole number of pieces above 0; a design id may appear once.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from matching.errors import OrderDataError
from matching.factories.csv_safe import safe_row
from matching.factories.registry import csv_rows, read_text, split_list, whole_number

ORDER_COLUMNS: tuple[str, ...] = ("design_id", "category", "materials", "processes", "quantity", "due_in_days",
                                  "description")
OPTIONAL_ORDER_COLUMNS: tuple[str, ...] = ("base_unit_cost_cents",)


@dataclass(frozen=True)
class Order:
    """One design to produce: what it needs and how many pieces, by when."""

    design_id: str
    category: str
    materials: tuple[str, ...]
    processes: tuple[str, ...]
    quantity: int  # pieces
    due_in_days: int
    description: str = ""
    base_unit_cost_cents: int | None = None  # None: the caller prices it (e.g. from the taxonomy's norms)


def design_text(description: str, category: str, materials: Sequence[str], processes: Sequence[str] = ()) -> str:
    """A design's description followed by its category and materials, in the words of
    `capability.capability_text`, so that the two embed close together when the factory makes such
    things. Processes are not part of it (the hard constraints check them; see capability.py)."""
    head = description.strip().rstrip(".")
    need = f"makes {category}; materials {', '.join(materials)}"
    return f"{head}. {need}" if head else need


@dataclass(frozen=True)
class Vocabulary:
    """The names orders may use (from the taxonomy); unknown names are refused with these listed."""

    categories: frozenset[str]
    materials: frozenset[str]
    processes: frozenset[str]

    def check(self, order: Order) -> None:
        """Raise ValueError naming the first unknown category, material or process and the known ones."""
        if order.category not in self.categories:
            raise ValueError(f"unknown category {order.category!r}; known: {', '.join(sorted(self.categories))}")
        for what, names, known in (("materials", order.materials, self.materials),
                                   ("processes", order.processes, self.processes)):
            unknown = sorted(set(names) - known)
            if unknown:
                raise ValueError(f"unknown {what} {unknown}; known: {', '.join(sorted(known))}")


def _row_order(row: dict[str, str]) -> Order:
    for col in ("design_id", "category", "materials"):
        if not (row.get(col) or "").strip():
            raise ValueError(f"column {col!r} is empty")
    cost = (row.get("base_unit_cost_cents") or "").strip()
    return Order(design_id=row["design_id"].strip(), category=row["category"].strip(),
                 materials=split_list(row["materials"]), processes=split_list(row.get("processes") or ""),
                 quantity=whole_number(row.get("quantity") or "", "quantity", 1),
                 due_in_days=whole_number(row.get("due_in_days") or "", "due_in_days", 1),
                 description=(row.get("description") or "").strip(),
                 base_unit_cost_cents=whole_number(cost, "base_unit_cost_cents", 1) if cost else None)


def check_orders(orders: Sequence[Order], vocabulary: Vocabulary, *, file: str = "orders",
                 lines: Sequence[int] | None = None, unit: str = "line") -> list[Order]:
    """Check names against `vocabulary`, quantities and repeated design ids; raise OrderDataError with the
    line (`lines[i]`, default the 1-based position, called `unit`: "line" in a file, "item" in a JSON
    list) of the first bad order. Returns the orders."""
    seen: dict[str, int] = {}
    for i, order in enumerate(orders):
        line = lines[i] if lines is not None else i + 1
        try:
            vocabulary.check(order)
            if order.quantity < 1:
                raise ValueError(f"quantity must be a whole number of pieces above 0, got {order.quantity}")
            if order.due_in_days < 1:
                raise ValueError(f"due_in_days must be at least 1, got {order.due_in_days}")
            if not order.materials:
                raise ValueError("an order needs at least one material")
        except ValueError as exc:
            raise OrderDataError(file, line, str(exc), unit=unit) from None
        if order.design_id in seen:
            raise OrderDataError(file, line, f"design_id {order.design_id!r} repeats {unit} {seen[order.design_id]}",
                                 unit=unit)
        seen[order.design_id] = line
    if not orders:
        raise OrderDataError(file, None, "no orders")
    return list(orders)


def parse_orders_csv(text: str, vocabulary: Vocabulary, *, file: str = "<orders>") -> list[Order]:
    """Parse and check an orders CSV (module docstring); any bad line rejects the file with its line."""
    orders, lines = [], []
    for line, row in csv_rows(text, ORDER_COLUMNS, OrderDataError, file=file):
        try:
            orders.append(_row_order(row))
        except ValueError as exc:
            raise OrderDataError(file, line, str(exc)) from None
        lines.append(line)
    return check_orders(orders, vocabulary, file=file, lines=lines)


def read_orders_csv(path: str | Path, vocabulary: Vocabulary) -> list[Order]:
    """`parse_orders_csv` on a file."""
    return parse_orders_csv(read_text(path, OrderDataError), vocabulary, file=str(path))


def write_rows_csv(path: str | Path, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A plain CSV with a header (allocation, unplaced and candidate files); formula-like text is written
    as text (`csv_safe.safe_cell`), e.g. a factory id or reason that starts with '='."""
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(safe_row(columns))
        w.writerows(safe_row(r) for r in rows)
