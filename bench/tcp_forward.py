"""
A tiny TCP forwarder (asyncio, standard library only): ``LISTEN_ADDR:PORT`` → ``TARGET:PORT``.

The two-node drill (``bench/drill_nodes.py``) runs it on the bridge address so that the
nodes' network namespaces reach this machine's PostgreSQL, which listens on 127.0.0.1 only
and is not reconfigured; PostgreSQL sees the connections come from the loopback.

    .venv/bin/python bench/tcp_forward.py 10.231.13.1:15432 127.0.0.1:5432
"""

from __future__ import annotations

import asyncio
import contextlib
import sys


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def main(listen: str, target: str) -> None:
    listen_host, listen_port = listen.rsplit(":", 1)
    target_host, target_port = target.rsplit(":", 1)

    async def handle(reader, writer):
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                target_host, int(target_port)
            )
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    server = await asyncio.start_server(handle, listen_host, int(listen_port))
    print(f"forwarding {listen} to {target}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(sys.argv[1], sys.argv[2]))
