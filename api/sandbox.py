"""The query workers' sandbox: no network, a big stack, bounded memory (issue 11).

A worker that evaluates a client's query must not be able to reach anything: not the cloud metadata service,
not a database on localhost, not another SPARQL endpoint. Rather than trusting every parser to spot every SERVICE,
the worker moves into a network namespace of its own before it opens the store: it holds a loopback interface that
is down and nothing else, so every connect() fails with ENETUNREACH whatever the query says. As root this is
`unshare(CLONE_NEWNET)`; otherwise a user namespace makes it possible without privileges.

Oxigraph's parser and evaluator recurse per level of a query's nesting; the worker runs them on a thread with a
256 MiB stack (memory is committed only as it is used), so the complexity limits of graph.query_check are far
below any crash."""

from __future__ import annotations

import ctypes
import os
import resource
import socket
import sys
import threading

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
STACK_BYTES = 256 * 1024 * 1024


class SandboxError(Exception):
    pass


def _unshare(flags: int) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) == 0:
        return 0
    return ctypes.get_errno()


def isolate_network() -> str:
    """Move this process into a new, empty network namespace; returns how. Raises SandboxError if impossible."""
    if not sys.platform.startswith("linux"):
        raise SandboxError(f"network isolation needs Linux namespaces (this is {sys.platform})")
    errno = _unshare(CLONE_NEWNET)
    how = "network namespace"
    if errno:
        errno = _unshare(CLONE_NEWUSER | CLONE_NEWNET)
        how = "user and network namespace"
    if errno:
        raise SandboxError(
            f"cannot isolate the query workers from the network (unshare: {os.strerror(errno)}); run as root, "
            "enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1), or start with "
            "--unsafe-worker-network to accept that queries may open connections"
        )
    if can_connect():
        raise SandboxError("the query workers' network namespace still reaches the network")
    return how


def can_connect() -> bool:
    """Whether this process can open a TCP connection (to its own loopback: the one thing a new namespace lacks)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        try:
            s.connect(("127.0.0.1", 9))
        except ConnectionRefusedError:
            return True  # a loopback that answers: the namespace is not empty
        except OSError:
            return False
    return True


def limit_address_space(megabytes: int) -> None:
    """A backstop for the parent's memory watch: an allocation past this fails inside the worker."""
    if megabytes:
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_on_big_stack(fn, *args) -> None:
    """Run `fn(*args)` on a thread with a 256 MiB stack and wait for it (the worker's whole job loop)."""
    threading.stack_size(STACK_BYTES)
    sys.setrecursionlimit(50_000)  # rdflib's parser recurses too; the stack now has room for it
    t = threading.Thread(target=fn, args=args, name="mdkg-query", daemon=True)
    t.start()
    t.join()
