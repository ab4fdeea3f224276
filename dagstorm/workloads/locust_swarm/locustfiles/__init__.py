"""Locustfiles and their runtime: imported only inside ``locust`` processes.

Importing anything here imports Locust, which monkey-patches the process with
gevent: the harness never does; it spawns ``locust -f <file>`` instead.
"""
