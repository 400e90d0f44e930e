"""bqingest: stream CloudEvents from Pub/Sub through Apache Beam into BigQuery, and serve them."""

import os

# gRPC's fork handlers restart its poller in a forked child; when subprocess then closes the
# child's descriptors before exec, that poller finds its epoll fd gone and aborts the child
# (SIGABRT, "epoll_wait error: Bad file descriptor"; grpc/grpc#43055). bqingest forks only to
# exec at once (`bqingest up`, the tests' child processes) and never uses gRPC across a fork, so
# it turns the handlers off. gRPC reads this once, when it is first imported: it must be set
# before, which importing this package first does. Measured: 4 of 400 forks of a process
# publishing through gRPC aborted with the handlers on, 0 of 400 with them off.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")

__version__ = "0.1.0"
