"""gunicorn's settings for this project; gunicorn reads this file from the folder it starts in.

Command-line options still win (the Dockerfile's --bind, the test suite's live server's logs).
The number of workers comes from WEB_CONCURRENCY (gunicorn's own variable), else 1.
"""

import glob
import os
import shutil
import tempfile

from project.env import env_bool

# SIGTERM (docker stop, a rolling deploy): the master stops accepting connections, and each
# worker finishes the request it is serving, within graceful_timeout seconds, before it exits.
# Give the container longer than this to stop (compose.yaml's stop_grace_period).
graceful_timeout = 30

# With --access-logfile, each line ends with the request's id (project.request_id).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms %({x-request-id}o)s'

# Metrics: every worker writes its figures to files in one folder, and a scrape adds them up
# (project.metrics). Set here, before anything imports prometheus-client, which reads it once.
METRICS_DIRECTORY_MADE_HERE = False
if env_bool("METRICS_ENABLED", False) and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="graphql-auth-metrics-")
    METRICS_DIRECTORY_MADE_HERE = True


def on_starting(server):
    """A folder given by the operator may hold a previous run's files: they would be counted again."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory and not METRICS_DIRECTORY_MADE_HERE:
        for path in glob.glob(os.path.join(directory, "*.db")):
            os.remove(path)


def child_exit(server, worker):
    """What a worker that exited held open (WebSockets, subscriptions) no longer counts."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if METRICS_DIRECTORY_MADE_HERE:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
