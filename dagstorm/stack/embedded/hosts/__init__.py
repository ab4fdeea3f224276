"""Worker hosts: Celery workers in network namespaces of their own.

``namespaces`` makes and removes the namespaces and veth links, ``plan`` decides
each worker's host, ``links`` wires the per-host Toxiproxy proxies, ``lifecycle``
brings a stack's hosts up and down with its workers, ``registry`` remembers what
was made (so ``down`` and ``recover`` clean up after a SIGKILL), and ``faults``
partitions a host or slows or drops its traffic.
"""
