"""Reads of the request path: plain statements whose rows come back as tuples, wherever they run.

A lookup (a credential, an organization with the caller's role) is written once against
:class:`Reads` and runs on whatever the store lends it:

- :class:`ConnectionReads`: a synchronous SQLAlchemy connection (SQLite on the loop's thread);
- :class:`AsyncConnectionReads`: an ``AsyncConnection``, such as a session's that holds a
  transaction, whose writes the read must see;
- :class:`DriverReads`: an asyncpg connection from the store's reader pool. Each statement is
  compiled by SQLAlchemy once, then run as asyncpg's prepared statement; parameters and rows go
  through the columns' own type processors, so values are those SQLAlchemy would give. What is
  skipped is SQLAlchemy's per-execution machinery (cache keys, execution contexts, events,
  greenlets), which costs several times the round trip itself on the request path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Select, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "AsyncConnectionReads",
    "CompiledReads",
    "ConnectionReads",
    "DriverReads",
    "Reads",
    "StatementWatch",
]

Rows = Sequence[Sequence[Any]]
Processor = Callable[[Any], Any] | None


class Reads(Protocol):
    async def all(self, statement: Select[*tuple[Any, ...]], parameters: Mapping[str, Any]) -> Rows:
        """Every row of a read-only ``statement`` with its bind ``parameters``."""
        ...


@dataclass(frozen=True, slots=True)
class ConnectionReads:
    connection: Connection

    async def all(self, statement: Select[*tuple[Any, ...]], parameters: Mapping[str, Any]) -> Rows:
        return self.connection.execute(statement, parameters).all()


@dataclass(frozen=True, slots=True)
class AsyncConnectionReads:
    connection: AsyncConnection

    async def all(self, statement: Select[*tuple[Any, ...]], parameters: Mapping[str, Any]) -> Rows:
        return (await self.connection.execute(statement, parameters)).all()


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # bind parameter names, in positional order
    defaults: Mapping[str, Any]  # values the statement holds itself (``literal(1)``, ``== "x"``)
    binds: tuple[Processor, ...]
    results: tuple[Processor, ...]

    def _value(self, name: str, parameters: Mapping[str, Any]) -> Any:
        if name in parameters:
            return parameters[name]
        if name in self.defaults:
            return self.defaults[name]
        raise ArgumentError(f"A value is required for bind parameter {name!r}")

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        values = (self._value(name, parameters) for name in self.names)
        return [
            value if process is None else process(value)
            for value, process in zip(values, self.binds, strict=True)
        ]

    def row(self, record: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None or value is None else process(value)
            for value, process in zip(record, self.results, strict=True)
        )


class CompiledReads:
    """Statements compiled once for a dialect, by identity (they are built once, at import).

    Statements built anew for each call would each be compiled here too: the cache is bounded,
    and is emptied when full rather than grown.
    """

    LIMIT = 256

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._compiled: dict[int, tuple[Select[*tuple[Any, ...]], _Compiled]] = {}

    def __call__(self, statement: Select[*tuple[Any, ...]]) -> _Compiled:
        found = self._compiled.get(id(statement))
        if found is not None and found[0] is statement:
            return found[1]
        compiled = self._compile(statement)
        if len(self._compiled) >= self.LIMIT:
            self._compiled.clear()
        self._compiled[id(statement)] = (statement, compiled)  # held: its id stays its own
        return compiled

    def _compile(self, statement: Select[*tuple[Any, ...]]) -> _Compiled:
        dialect = self.dialect
        compiled = statement.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ())
        defaults = {
            name: bind.effective_value
            for name, bind in ((name, compiled.binds[name]) for name in names)
            if not bind.required
        }
        binds = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in names
        )
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.exported_columns
        )
        return _Compiled(str(compiled), names, defaults, binds, results)


@dataclass(frozen=True, slots=True)
class DriverReads:
    """Reads on an asyncpg connection; asyncpg keeps each SQL text's prepared statement."""

    connection: Any  # asyncpg.Connection (untyped)
    compiled: CompiledReads
    watch: StatementWatch

    async def all(self, statement: Select[*tuple[Any, ...]], parameters: Mapping[str, Any]) -> Rows:
        compiled = self.compiled(statement)
        self.watch.saw(compiled.sql)
        records = await self.connection.fetch(compiled.sql, *compiled.arguments(parameters))
        return [compiled.row(record) for record in records]


class StatementWatch:
    """Who wants to see the statements a store runs (tests, the bench), on every path."""

    def __init__(self, engines: Sequence[Engine]) -> None:
        self._engines = engines
        self._watchers: list[list[str]] = []

    def saw(self, statement: str) -> None:
        for seen in self._watchers:
            seen.append(statement)

    @contextlib.contextmanager
    def __call__(self) -> Iterator[list[str]]:
        """Within the block, the SQL of every statement run, in order."""
        seen: list[str] = []

        def before(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
            seen.append(statement)

        for engine in self._engines:
            event.listen(engine, "before_cursor_execute", before)
        self._watchers.append(seen)
        try:
            yield seen
        finally:
            self._watchers.remove(seen)
            for engine in self._engines:
                event.remove(engine, "before_cursor_execute", before)
