"""SQLite's WAL checkpoints, run beside the writer instead of inside its commits.

In WAL mode a commit appends to the log, and a checkpoint copies the log back into the
database file and syncs that file to disk. By default SQLite checkpoints inside whichever
commit finds the log past 1000 pages, so that write, and every write queued behind it (SQLite
has one writer), waits for the copy and the sync: a few milliseconds every few seconds of
steady writing, which was most of the tail of the write latency (benchmarks/README.md).

The writer's connection turns that off (`wal_autocheckpoint=0`) and a `Checkpointer` thread
does it with a connection of its own: every `interval` seconds when something was committed,
or sooner once the writer has counted `commits_due` commits. Its checkpoints are PASSIVE: they
copy what no reader still needs and never wait for, or hold up, the writer and the readers.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)


class Checkpointer:
    def __init__(self, path: str, *, interval: float = 1.0, commits_due: int = 500) -> None:
        self._path = path
        self._interval = interval
        self._commits_due = commits_due
        self._commits = 0  # since the last checkpoint; counted by the writer thread
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="imagechat-checkpointer", daemon=True
            )
            self._thread.start()

    def committed(self) -> None:
        """The writer committed a transaction (called from its thread)."""
        self._commits += 1
        if self._commits >= self._commits_due:
            self._wake.set()

    def stop(self) -> None:
        """Stop after one last checkpoint of what was committed; waits for the thread."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        db: sqlite3.Connection | None = None
        try:
            while True:
                self._wake.wait(self._interval)
                self._wake.clear()
                if self._commits:
                    self._commits = 0
                    if db is None:
                        db = sqlite3.connect(self._path, isolation_level=None)
                    try:
                        db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    except sqlite3.Error as error:  # a full disk, say: the log just grows
                        log.warning("checkpointing %s failed: %r", self._path, error)
                if self._stopping:
                    return
        finally:
            if db is not None:
                db.close()
