"""Reading millions of rows: a query's result in chunks of the database driver's own tuples.

SQLAlchemy's ``Row`` objects cost about a microsecond each, which at ten million rows is most
of an analysis's load time; the driver's tuples are what the analysis turns into numpy arrays
anyway. The query is compiled with its parameters inlined (they are the program's own values,
such as a tokenizer key, never user text), so one SQL string runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

from sqlalchemy import Engine, Select


def driver_chunks(
    engine: Engine, query: Select[Any], size: int
) -> Generator[Sequence[Any], None, None]:
    """The query's rows, ``size`` at a time, as the driver returns them. The cursor is
    closed when the iterator is exhausted or closed."""
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        cursor = connection.connection.cursor()
        try:
            cursor.execute(sql)
            while rows := cursor.fetchmany(size):
                yield rows
        finally:
            cursor.close()
