"""
gunicorn's threaded worker, stopping without cutting a request off (config/gunicorn.py).

On SIGTERM (a deploy, a restart, a node scaled in; also when ``max_requests`` recycles a
worker) gunicorn's own ``gthread`` worker stops accepting, lets a kept-alive connection live
2 s more, and closes its listening socket only when it exits. Two kinds of requests were
cut off by a reset — after the request was sent, so neither the resident nor nginx could
tell whether a confirm had been stored:

- a request on a kept-alive connection sent more than 2 s after the signal (a phone user
  reads the page, then taps "Confirm");
- a connection the kernel had already queued on the listening socket, never accepted.

``GracefulThreadWorker`` changes both, and nothing else:

- kept-alive connections keep their normal ``keepalive`` time; a request on one is answered
  with ``Connection: close``, and one that does not come in time is closed as any idle
  connection would be;
- when it stops accepting, it accepts what is already queued (answered like the above) and
  closes its copy of the listening socket at once, so that, once every process of the old
  gunicorn has done so, a new connection is refused before anything is sent: a clear
  failure that nginx answers by trying the next web node, for a POST too.

``bench/drill_shutdown.py`` measures it.
"""

import errno

from gunicorn.workers.gthread import TConn, ThreadWorker


class GracefulThreadWorker(ThreadWorker):
    """A gthread worker that answers kept-alive and queued requests while it stops."""

    def _cap_keepalive(self, deadline):
        # gunicorn shortens every kept-alive connection to 2 s here; they keep their time.
        return

    def finish_request(self, conn, fs):
        super().finish_request(conn, fs)
        if not self.alive and self.keepalived_conns and self.keepalived_conns[-1] is conn:
            # Kept alive by a response begun before the signal: its normal time, not 2 s.
            # It is the newest entry, so the queue stays ordered by expiry.
            conn.set_timeout()

    def set_accept_enabled(self, enabled):
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive:
            self._stop_listening()

    def _stop_listening(self):
        """Accept the connections already queued, then close the listening sockets."""
        for listener in self.sockets:
            if listener.sock is None:
                continue
            listener.setblocking(False)
            name = listener.getsockname()
            while True:
                try:
                    client, address = listener.accept()
                except OSError as error:
                    if error.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.ECONNABORTED):
                        self.log.warning("Accepting a queued connection while stopping: %s", error)
                    if error.errno == errno.ECONNABORTED:
                        continue
                    break
                self.nr_conns += 1
                client.setblocking(True)
                self.enqueue_req(TConn(self.cfg, client, address, name))
            listener.close()
