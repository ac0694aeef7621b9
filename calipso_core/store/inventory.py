"""The inventory repository: objects and links of every environment.

Documents go in and come out as plain dicts, as the original Calipso stored them; the
identity fields live in indexed columns, the rest in the JSONB ``doc`` column. Every
write is a bulk statement per batch, never one round trip per object. Each method takes
an optional ``conn`` so that callers (event handlers, the scan engine) can make several
writes in one transaction.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    delete,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from calipso_core.db import dumps
from calipso_core.store.tables import UNSEARCHED, inventory, links, searched_doc
from calipso_core.types import Document

OBJECT_REQUIRED = ("id", "type", "name", "id_path", "name_path")
LINK_REQUIRED = ("link_type", "source_id", "target_id")
# Columns kept when a scan writes a document without them (set by other parts); a row's
# digest is kept when a writer gives none (the triggers of revisions 0007 and 0008 clear
# it when that writer changes the row).
_KEPT_WHEN_NULL = ("status", "last_scanned", "doc_hash")
UNIQUE_VIOLATION = "23505"
MERGE_ATTEMPTS = 3
_DIALECT = postgresql.dialect()
#: The digest of a row's document that the scan which wrote it computed (revisions 0007 for
#: objects, 0008 for links and cliques): not declared in the model, so that documents read
#: never carry it.
DOC_HASH = "doc_hash"
doc_hash = literal_column(DOC_HASH)
#: One object by id, built once: building it costs more than the database takes to
#: answer (the API's busiest read).
_OBJECT_BY_ID = select(inventory).where(inventory.c.environment == bindparam("environment"),
                                        inventory.c.id == bindparam("id"))


def split_document(table: Table, environment: str, doc: Document) -> dict[str, Any]:
    """A row for ``table``: column fields as columns, everything else in ``doc``."""
    row = {c.name: doc.get(c.name) for c in _document_columns(table)}
    row["environment"] = environment
    row["doc"] = {k: v for k, v in doc.items() if k not in table.c}
    if table is links:
        row["implicit"] = bool(doc.get("implicit", False))
    return row


def join_document(row: Any) -> Document:
    """The document of a row: its columns merged with its JSONB ``doc``, each key a plain
    ``str`` (SQLAlchemy names columns with a subclass of it, which orjson refuses: a
    document read and written back went to the standard library's encoder, 8x slower)."""
    mapping = row._mapping
    return {**(mapping["doc"] or {}), **{str(k): v for k, v in mapping.items() if k != "doc" and v is not None}}


def one_of(column, values: Iterable[str]):
    """``column = ANY(array)``: the values as one array parameter. An ``IN`` list of
    thousands of parameters (a scan's chunk of 2,000 ids) takes longer to build than the
    database takes to answer it."""
    return column == any_(literal(list(values), ARRAY(String)))


def match_conditions(table: Table, environment: str, match: Document) -> list:
    """Conditions on ``table`` for documents whose fields equal ``match``: column fields by
    equality, the others by JSONB containment (so nested values and list members match too)."""
    conditions = [table.c.environment == environment]
    in_doc = {}
    for key, value in match.items():
        if key in table.c and key != "doc":
            conditions.append(table.c[key] == value)
        else:
            in_doc[key] = value
    if in_doc:
        conditions.append(doc_contains(table, in_doc))
    return conditions


def doc_contains(table: Table, *fields: Document):
    """``doc @> fields`` (any of them, if more than one): on the inventory, through its
    index unless one names a map of ports (which the index leaves out)."""
    searched = table is inventory and not any(key in UNSEARCHED for f in fields for key in f)
    doc = searched_doc if searched else table.c.doc
    if len(fields) == 1:
        return doc.contains(fields[0])
    return doc.op("@>")(func.any(literal(list(fields), postgresql.ARRAY(JSONB))))  # one index scan for all


def _doc_without(fields: tuple[str, ...]):
    if not fields:
        return inventory.c.doc
    return inventory.c.doc.op("-", return_type=JSONB)(literal(list(fields), postgresql.ARRAY(Text)))


def _require(doc: Document, fields: tuple[str, ...], what: str) -> None:
    missing = [f for f in fields if doc.get(f) in (None, "")]
    if missing:
        raise ValueError(f"{what} {doc.get('id', doc)!r} lacks {', '.join(missing)}")


def _staged_values(table: Table) -> dict[str, str]:
    """Each column of ``table`` as SQL on a document staged as ``s.doc``: its field cast to
    the column's type (the column's default when missing), and for ``doc`` the rest."""
    values = {"environment": "%(environment)s"}
    for c in _document_columns(table):
        if c.name != "environment":
            value = f"CAST(s.doc ->> '{c.name}' AS {_cast_type(c)})"
            values[c.name] = f"coalesce({value}, {c.server_default.arg.text})" if c.server_default else value
    fields = table.c.keys()
    if table is inventory or table is links:
        values[DOC_HASH] = f"s.doc ->> '{DOC_HASH}'"
        fields = [*fields, DOC_HASH]
    values["doc"] = f"s.doc - '{{{','.join(fields)}}}'::text[]"
    return values


def content_hash(doc: Document) -> str:
    """A digest of what a document (an object, link or clique) holds, its ``last_scanned``
    aside: a scan that finds the same digest stored need not write it again."""
    content = {k: v for k, v in doc.items() if k not in ("last_scanned", DOC_HASH)} if (
        "last_scanned" in doc or DOC_HASH in doc) else doc  # a fetcher's documents have neither
    return hashlib.blake2b(dumps(content).encode(), digest_size=16).hexdigest()


def digest_changes(stored: Mapping[Any, str | None], digests: Mapping[Any, str]) -> tuple[list, list]:
    """What a scan that keeps digests writes and deletes, given the stored digest of each
    key (None: written without one) and the digest of each key it found: the keys found
    whose digest is not the stored one (new, changed, or written by another writer), and
    the stored keys no longer found."""
    return [key for key, digest in digests.items() if stored.get(key) != digest], [
        key for key in stored if key not in digests]


def _cast_type(column) -> str:
    """The SQL type of ``column`` without its collation (which a CAST does not take)."""
    type_ = column.type
    if getattr(type_, "collation", None):
        type_ = type_.copy()
        type_.collation = None
    return type_.compile(dialect=_DIALECT)


def _document_columns(table: Table) -> list:
    """The columns filled from a document's fields (all but ``doc`` and a link's serial id)."""
    return [c for c in table.c if c.name != "doc" and not (table is links and c.name == "id")]


def copy_upsert(conn: Connection, table: Table, environment: str, docs: list[Document], keys: list[str]) -> int:
    """Insert or update documents in one statement that splits them into columns and writes
    them (see ``_write_staged``); more than ``COPIED_ABOVE`` are first COPYed, one JSON
    document a line, into a temporary table, the others are given to it as one JSON
    array. Rows that would not change are not written; columns in ``_KEPT_WHEN_NULL`` keep
    their stored value when the new one is NULL. A document's ``doc_hash`` field, if given
    (``content_hash``), is stored as its digest. Returns how many rows were written."""
    copied = len(docs) > COPIED_ABOVE
    params = {"environment": environment}
    if copied:
        conn.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS calipso_staging (doc jsonb) ON COMMIT DROP")
        conn.exec_driver_sql("TRUNCATE calipso_staging")
        # Stored as sent, not compressed: each document is read once, right after.
        conn.exec_driver_sql("ALTER TABLE calipso_staging ALTER doc SET STORAGE EXTERNAL")
        _copy_in(conn, "calipso_staging (doc)", docs, lambda doc: (doc,))
    else:
        params["docs"] = dumps(docs)
    merge = conn.dialect.server_version_info >= (15,)
    statement = _write_staged(table, tuple(keys), merge, _STAGED if copied else _GIVEN)
    for attempt in itertools.count(1):
        try:
            with conn.begin_nested():
                return conn.exec_driver_sql(statement, params).rowcount
        except IntegrityError as error:
            # A row that another transaction inserted (and committed) after this statement
            # began: the next attempt, with a new snapshot, updates it.
            if not merge or attempt == MERGE_ATTEMPTS or getattr(error.orig, "pgcode", None) != UNIQUE_VIOLATION:
                raise


#: The staged documents, each read from its storage once: a document of more than 2 kB is
#: stored out of line, and every field taken from it (a column each) would read it again
#: (a vEdge's tunnel ports make it 80 kB at 400 hosts). ``||`` makes one copy in memory;
#: ``OFFSET 0`` keeps the planner from merging the subquery into the statement.
_STAGED = "(SELECT doc || '{}'::jsonb AS doc FROM calipso_staging OFFSET 0) s"
#: A few documents: staging them costs more than writing them (creating, emptying and
#: altering the temporary table, then COPY: 7-10 ms for a port written by an event, where
#: one statement takes about 1 ms).
_GIVEN = "(SELECT value AS doc FROM jsonb_array_elements(CAST(%(docs)s AS jsonb))) s"
COPIED_ABOVE = 100


@functools.cache
def _write_staged(table: Table, keys: tuple[str, ...], merge: bool, staged: str = _STAGED) -> str:
    """The statement writing the staged documents (``staged``: ``s.doc`` each) into
    ``table``, rows found by ``keys``.

    ``MERGE`` joins the staged rows with the stored ones and inserts the new ones as plain
    inserts; ``INSERT ... ON CONFLICT`` (servers before PostgreSQL 15) probes the key index
    and inserts speculatively, row by row: a third more work for new rows. Unlike ON
    CONFLICT, MERGE fails on a key that another transaction inserts meanwhile, hence the
    retries in ``copy_upsert``."""
    values = _staged_values(table)
    changing = [c for c in values if c not in keys]
    stored = f"({', '.join(f'{table.name}.{c}' for c in changing)})"
    if not merge:
        updates = {c: f"coalesce(excluded.{c}, {table.name}.{c})" if c in _KEPT_WHEN_NULL else f"excluded.{c}"
                   for c in changing}
        return (f"INSERT INTO {table.name} ({', '.join(values)}) SELECT {', '.join(values.values())} "
                f"FROM {staged} ON CONFLICT ({', '.join(keys)}) DO UPDATE "
                f"SET {', '.join(f'{c} = {v}' for c, v in updates.items())} "
                f"WHERE {stored} IS DISTINCT FROM ({', '.join(updates.values())})")
    updates = {c: f"coalesce(n.{c}, {table.name}.{c})" if c in _KEPT_WHEN_NULL else f"n.{c}" for c in changing}
    return (f"MERGE INTO {table.name} USING (SELECT {', '.join(f'{v} AS {c}' for c, v in values.items())} "
            f"FROM {staged}) n ON {' AND '.join(f'{table.name}.{c} = n.{c}' for c in keys)} "
            f"WHEN MATCHED AND {stored} IS DISTINCT FROM ({', '.join(updates.values())}) "
            f"THEN UPDATE SET {', '.join(f'{c} = {v}' for c, v in updates.items())} "
            f"WHEN NOT MATCHED THEN INSERT ({', '.join(values)}) VALUES ({', '.join(f'n.{c}' for c in values)})")


def _copy_in(conn: Connection, target: str, rows: Iterable, fields: Callable[[Any], Iterable]) -> None:
    """COPY ``rows`` into ``target`` (``table (columns)``), ``fields(row)`` giving each row's values."""
    with conn.connection.dbapi_connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {target} FROM STDIN", _CopyText(rows, fields))


class _CopyText:
    """Rows as COPY text, one line each, read a slice at a time: the server parses a slice
    while the next one is encoded. ``fields(row)`` gives a row's values in column order."""

    SLICE = 1000

    def __init__(self, rows: Iterable, fields: Callable[[Any], Iterable]):
        self._rows, self._fields = iter(rows), fields

    def read(self, size: int = -1) -> str:
        return "".join("\t".join(map(_copy_value, self._fields(row))) + "\n"
                       for row in itertools.islice(self._rows, self.SLICE))


def _copy_value(value) -> str:
    """A value in COPY's text format: NULL as ``\\N``; JSON for dicts and lists."""
    if value is None:
        return "\\N"
    if isinstance(value, dict | list):
        text = dumps(value)  # JSON escapes every control character: only backslashes to double
        return text.replace("\\", "\\\\")
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def analyze(engine: Engine, table: Table) -> None:
    """Refresh the planner's statistics of ``table`` after a scan rewrote it. Until
    autovacuum gets to it (a minute or more later) the planner takes a freshly filled table
    for a few rows: it then joins a handful of staged documents with every row of the
    environment, or filters 20,000 ports one by one where an index finds 20 (measured at
    20,000 instances: 45-180 ms statements that take 1 ms once analyzed). The documents are
    left out: queries filter on the columns, and sampling the documents doubles the cost."""
    columns = ", ".join(c.name for c in table.c if c.name != "doc")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"ANALYZE {table.name} ({columns})")


def copy_rows(conn: Connection, table: Table, rows: list[dict]) -> None:
    """Insert many rows (the columns: the first row's keys) by one COPY: half the time
    multi-row INSERTs take for a scan's cliques (4,000 rows, 9 MB of JSON: 0.25-0.35 s
    against 0.5-0.6 s), which spend it quoting values into statements."""
    if rows:
        columns = list(rows[0])
        arrays = {c for c in columns if c in table.c and isinstance(table.c[c].type, ARRAY)}
        _copy_in(conn, f"{table.name} ({', '.join(columns)})", rows,
                 lambda row: (_array_literal(row[c]) if c in arrays else row[c] for c in columns))


def _array_literal(items: list | None) -> str | None:
    """A list of strings as an array literal, each element quoted (COPY's escaping follows)."""
    if items is None:
        return None
    return "{" + ",".join('"' + str(i).replace("\\", "\\\\").replace('"', '\\"') + '"' for i in items) + "}"


def _follows_ancestor(old: Document, new_name_path: str, paths: dict[str, tuple[str, str]]) -> bool:
    """Whether an object's new name path is its old one moved as its nearest moved
    ancestor's was (``paths``: id path -> old and new name paths of each moved object)."""
    id_path = old["id_path"]
    while "/" in id_path[1:]:
        id_path = id_path.rsplit("/", 1)[0]
        if id_path in paths:
            old_prefix, new_prefix = paths[id_path]
            name = old["name_path"]
            return name.startswith(old_prefix + "/") and new_name_path == new_prefix + name[len(old_prefix):]
    return False


class Inventory:
    """Objects and links over one SQLAlchemy engine."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @contextmanager
    def connect(self, conn: Connection | None = None) -> Iterator[Connection]:
        """Use ``conn`` if given, else a new transaction committed at the end."""
        if conn is not None:
            yield conn
        else:
            with self.engine.begin() as new:
                yield new

    # -- objects ---------------------------------------------------------------------

    def upsert_objects(
        self, environment: str, docs: Iterable[Document], conn: Connection | None = None
    ) -> int:
        """Insert or replace objects by (environment, id); returns how many were written."""
        return self._upsert(inventory, environment, docs, OBJECT_REQUIRED, ["environment", "id"], conn)

    def mark_scanned(self, environment: str, ids: list[str], at: datetime, conn: Connection | None = None) -> None:
        """Set ``last_scanned`` of objects a scan found unchanged (their documents untouched)."""
        if ids:
            with self.connect(conn) as c:
                c.execute(update(inventory).where(inventory.c.environment == environment, one_of(inventory.c.id, ids))
                          .values(last_scanned=at))

    def _upsert(self, table: Table, environment: str, docs: Iterable[Document], required: tuple[str, ...],
                keys: list[str], conn) -> int:
        docs = list(docs)
        for doc in docs:
            _require(doc, required, "object" if table is inventory else "link")
        if not docs:
            return 0
        with self.connect(conn) as c:
            return copy_upsert(c, table, environment, docs, keys)

    def move_name_paths(self, environment: str, moved: Iterable[tuple[Document, str]],
                        conn: Connection | None = None) -> None:
        """Give the objects below those whose name path changed (their document as it was
        stored, their new name path) the new beginning of theirs. The deepest first: an
        object follows its nearest moved ancestor, and only objects still under an old
        name path are changed, not those written anew or already moved by a deeper one.
        An object that only follows its nearest moved ancestor (a port of a renamed
        network) needs no statement of its own: the ancestor's moves what is below it."""
        moved = sorted(moved, key=lambda m: -m[0]["id_path"].count("/"))
        paths = {old["id_path"]: (old["name_path"], new_name_path) for old, new_name_path in moved}
        with self.connect(conn) as c:
            for old, new_name_path in moved:
                if _follows_ancestor(old, new_name_path, paths):
                    continue
                prefix = old["name_path"] + "/"
                c.execute(update(inventory).where(
                    inventory.c.environment == environment,
                    inventory.c.id_path.startswith(old["id_path"] + "/", autoescape=True),
                    inventory.c.name_path.startswith(prefix, autoescape=True),
                ).values(name_path=new_name_path + "/" + func.substr(inventory.c.name_path, len(prefix) + 1)))

    def get(self, environment: str, object_id: str, conn: Connection | None = None) -> Document | None:
        with self.connect(conn) as c:
            row = c.execute(_OBJECT_BY_ID, {"environment": environment, "id": object_id}).first()
        return join_document(row) if row else None

    def get_many(self, environment: str, ids: Iterable[str], conn: Connection | None = None) -> list[Document]:
        query = select(inventory).where(inventory.c.environment == environment, one_of(inventory.c.id, ids))
        return self._documents(query, conn)

    def children(self, environment: str, object_id: str, conn: Connection | None = None) -> list[Document]:
        """The objects whose parent is ``object_id``."""
        query = select(inventory).where(
            inventory.c.environment == environment, inventory.c.parent_id == object_id
        )
        return self._documents(query.order_by(inventory.c.id), conn)

    def subtree(
        self, environment: str, object_id: str, include_self: bool = True, conn: Connection | None = None
    ) -> list[Document]:
        """The object and every object below it in the tree (by ``id_path``)."""
        with self.connect(conn) as c:
            root = self.get(environment, object_id, c)
            if root is None:
                return []
            query = select(inventory).where(
                inventory.c.environment == environment,
                inventory.c.id_path.startswith(root["id_path"] + "/", autoescape=True),
            )
            below = self._documents(query.order_by(inventory.c.id_path), c)
        return [root, *below] if include_self else below

    def find(
        self,
        environment: str,
        match: Document | None = None,
        limit: int | None = None,
        offset: int = 0,
        conn: Connection | None = None,
        without: tuple[str, ...] = (),
    ) -> list[Document]:
        """Objects whose fields equal ``match``: column fields by equality, the others
        by JSONB containment (so nested values and list members match too); their
        documents ``without`` the fields named (left in the database)."""
        columns = [*(c for c in inventory.c if c.name != "doc"), _doc_without(without).label("doc")]
        query = select(*columns).where(*match_conditions(inventory, environment, match or {}))
        query = query.order_by(inventory.c.id).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        return self._documents(query, conn)

    def count(self, environment: str, match: Document | None = None, conn=None) -> int:
        query = select(func.count()).select_from(inventory)
        query = query.where(*match_conditions(inventory, environment, match or {}))
        with self.connect(conn) as c:
            return c.scalar(query)

    def delete_subtree(self, environment: str, object_id: str, conn: Connection | None = None) -> list[str]:
        """Delete an object, everything below it and their links; returns deleted ids."""
        with self.connect(conn) as c:
            root = self.get(environment, object_id, c)
            if root is None:
                return []
            query = (
                delete(inventory)
                .where(
                    inventory.c.environment == environment,
                    or_(
                        inventory.c.id == object_id,
                        inventory.c.id_path.startswith(root["id_path"] + "/", autoescape=True),
                    ),
                )
                .returning(inventory.c.id)
            )
            ids = list(c.scalars(query))
            self.delete_links_of(environment, ids, c)
        return ids

    def delete_objects(self, environment: str, ids: Iterable[str], conn: Connection | None = None) -> int:
        ids = list(ids)
        with self.connect(conn) as c:
            result = c.execute(
                delete(inventory).where(inventory.c.environment == environment, one_of(inventory.c.id, ids))
            )
            self.delete_links_of(environment, ids, c)
        return result.rowcount

    def _documents(self, query, conn) -> list[Document]:
        with self.connect(conn) as c:
            return [join_document(row) for row in c.execute(query)]

    # -- links -----------------------------------------------------------------------

    def upsert_links(self, environment: str, docs: Iterable[Document], conn: Connection | None = None) -> int:
        """Insert or replace links by (environment, link_type, source_id, target_id)."""
        keys = ["environment", "link_type", "source_id", "target_id"]
        return self._upsert(links, environment, docs, LINK_REQUIRED, keys, conn)

    def find_links(
        self,
        environment: str,
        match: Document | None = None,
        limit: int | None = None,
        offset: int = 0,
        conn: Connection | None = None,
    ) -> list[Document]:
        query = select(links).where(*match_conditions(links, environment, match or {}))
        query = query.order_by(links.c.id).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        return self._documents(query, conn)

    def link_ids(self, environment: str, conn: Connection | None = None) -> dict[tuple[str, str, str], int]:
        """The id of each stored link by its type, source and target."""
        query = select(links.c.link_type, links.c.source_id, links.c.target_id, links.c.id).where(
            links.c.environment == environment)
        with self.connect(conn) as c:
            return {(row[0], row[1], row[2]): row[3] for row in c.execute(query)}

    def links_of(self, environment: str, ids: Iterable[str], conn: Connection | None = None) -> list[Document]:
        """Links whose source or target is one of ``ids``."""
        ids = list(ids)
        query = select(links).where(
            links.c.environment == environment, or_(one_of(links.c.source_id, ids), one_of(links.c.target_id, ids))
        )
        return self._documents(query.order_by(links.c.id), conn)

    def delete_links_of(self, environment: str, ids: Iterable[str], conn: Connection | None = None) -> int:
        ids = list(ids)
        if not ids:
            return 0
        query = delete(links).where(
            links.c.environment == environment, or_(one_of(links.c.source_id, ids), one_of(links.c.target_id, ids))
        )
        with self.connect(conn) as c:
            return c.execute(query).rowcount

    def delete_links(
        self, environment: str, keys: Iterable[tuple[str, str, str]], conn: Connection | None = None
    ) -> int:
        """Delete links by (link_type, source_id, target_id)."""
        keys = list(keys)
        if not keys:
            return 0
        query = delete(links).where(
            and_(
                links.c.environment == environment,
                tuple_(links.c.link_type, links.c.source_id, links.c.target_id).in_(keys),
            )
        )
        with self.connect(conn) as c:
            return c.execute(query).rowcount

    # -- sweeping --------------------------------------------------------------------

    def sweep(
        self, environment: str, under_id_paths: Iterable[str], scanned_before: datetime, conn=None,
        keep_under: Iterable[str] = (),
    ) -> list[str]:
        """Delete objects below the given id paths not seen since ``scanned_before``,
        except below ``keep_under`` (subtrees whose scan failed); returns their ids."""
        under = [inventory.c.id_path.startswith(p + "/", autoescape=True) for p in under_id_paths]
        if not under:
            return []
        query = delete(inventory).where(
            inventory.c.environment == environment,
            or_(*under),
            or_(inventory.c.last_scanned.is_(None), inventory.c.last_scanned < scanned_before),
            *(~inventory.c.id_path.startswith(p + "/", autoescape=True) for p in keep_under),
        ).returning(inventory.c.id)
        with self.connect(conn) as c:
            ids = list(c.scalars(query))
            self.delete_links_of(environment, ids, c)
        return ids

    def delete_environment(self, environment: str, conn: Connection | None = None) -> int:
        """Delete every object and link of an environment (history keeps them)."""
        with self.connect(conn) as c:
            c.execute(delete(links).where(links.c.environment == environment))
            return c.execute(delete(inventory).where(inventory.c.environment == environment)).rowcount
