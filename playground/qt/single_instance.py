"""One running app per user (and per PLAYGROUND_HOME): a second start raises the first window."""

from __future__ import annotations

import hashlib
import os

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket


def server_name() -> str:
    from playground.core.base.paths import user_dirs

    key = str(user_dirs().config) + str(os.getuid() if hasattr(os, "getuid") else "")
    return "llm-playground-" + hashlib.sha1(key.encode()).hexdigest()[:12]


def another_instance_running(name: str | None = None, timeout_ms: int = 300) -> bool:
    """True (and the other instance is asked to come to the front) when one already runs."""
    sock = QLocalSocket()
    sock.connectToServer(name or server_name())
    if not sock.waitForConnected(timeout_ms):
        return False
    sock.write(b"raise\n")
    sock.waitForBytesWritten(timeout_ms)
    sock.disconnectFromServer()
    return True


class InstanceServer(QObject):
    sig_raise_requested = Signal()
    """another start of the app asked this one to show itself"""

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.server = QLocalServer(self)
        self.name = name or server_name()
        QLocalServer.removeServer(self.name)  # a stale socket from a crashed run
        self.listening = self.server.listen(self.name)
        self.server.newConnection.connect(self._on_connection)

    def _on_connection(self) -> None:
        conn = self.server.nextPendingConnection()
        if conn is not None:
            conn.readyRead.connect(lambda: (conn.readAll(), self.sig_raise_requested.emit()))
            conn.disconnected.connect(conn.deleteLater)
