"""Requests per second of the same documents sent as text, as a trusted document id, and as an APQ hash.

    python -m bench.persisted [--rounds 15] [--requests 100]

Like bench.run: one process, Django's full stack through the test client, a fresh SQLite
database with one user and 100 tasks, the sync view, scenarios interleaved round by round,
medians. The trusted documents are a manifest written to a temporary file before the server
reads its settings; the APQ hashes are registered once before measuring. Rates are per second
of this process's CPU time (time.process_time), which other work on a shared machine does not
change as much as it changes the wall clock.
"""

import argparse
import hashlib
import json
import os
import statistics
import tempfile
import time

ME = "query Me { me { id username email } }"
TASK_LIST = (
    "query TaskList { tasks(first: 100) { totalCount edges { node { "
    "id title description completed createdAt updatedAt owner { username } } } } }"
)
DOCUMENTS = {"me": ME, "tasks(first: 100)": TASK_LIST}


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


manifest = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
json.dump({f"sha256:{sha256(text)}": text for text in DOCUMENTS.values()}, manifest)
manifest.close()
os.environ["GRAPHQL_TRUSTED_DOCUMENTS"] = manifest.name

from django.test import Client  # noqa: E402

from accounts.sessions import start_session  # noqa: E402
from bench.run import seed  # noqa: E402  (sets Django up)


def requests_per_second(request, count):
    started = time.process_time()
    for _ in range(count):
        request()
    return count / (time.process_time() - started)


def post(client, headers, body):
    body = json.dumps(body)
    return lambda: client.post("/graphql/", body, content_type="application/json", **headers)


def measured_requests():
    user, _ = seed()
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {start_session(user).access}"}
    requests = {}
    for name, text in DOCUMENTS.items():
        requests[f"{name}: text"] = post(client, headers, {"query": text})
        requests[f"{name}: documentId"] = post(client, headers, {"documentId": f"sha256:{sha256(text)}"})
        # A trailing space: the manifest does not hold this text, so it is found in the APQ store.
        registered = text + " "
        apq = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(registered)}}}
        post(client, headers, {"query": registered, **apq})()
        requests[f"{name}: APQ hash"] = post(client, headers, apq)
    return requests


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=100, help="requests per scenario per round")
    arguments = parser.parse_args()

    requests = measured_requests()
    for name, request in requests.items():
        response = request()
        assert response.status_code == 200 and "errors" not in response.json(), (name, response.content[:300])
        requests_per_second(request, arguments.requests)  # warm up

    rates = {name: [] for name in requests}
    for _ in range(arguments.rounds):
        for name, request in requests.items():
            rates[name].append(requests_per_second(request, arguments.requests))
    medians = {name: statistics.median(values) for name, values in rates.items()}

    print(
        f"{arguments.rounds} rounds x {arguments.requests} requests each; median requests per CPU second (CPU ms/request)"
    )
    for name, rate in medians.items():
        print(f"  {name:<32} {rate:8.0f} req/s  ({1000 / rate:6.2f} ms)")
    for document in DOCUMENTS:
        text = medians[f"{document}: text"]
        print(
            f"  {document}: documentId / text {medians[f'{document}: documentId'] / text:5.2f}, "
            f"APQ hash / text {medians[f'{document}: APQ hash'] / text:5.2f}"
        )


if __name__ == "__main__":
    main()
