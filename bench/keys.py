"""What each signing algorithm costs: issuing tokens at login, and verifying one on every request.

    python -m bench.keys [--rounds 15] [--operations 200] [--logins 5]

One process, the production settings (Argon2 included) on a fresh SQLite file, each algorithm's
key ring swapped in with override_settings, as a restart with that configuration would give.
Per algorithm, interleaved round by round, medians over the rounds of:

- sign: `tokens.ACCESS.issue` + `tokens.REFRESH.issue`, the two signatures a login or a refresh makes;
- verify: `tokens.ACCESS.decode` of an access token, what every authenticated request does;
- tokenAuth: the whole login mutation through Django's stack (password hash, session and
  refresh token rows, audit event, both signatures);
- me: `{ me { id } }` with the access token through the whole stack (verify plus the session query).
"""

import argparse
import json
import os
import statistics
import tempfile
import time

BENCH_FOLDER = tempfile.mkdtemp(prefix="bench-keys-")
os.environ.update(
    DJANGO_SETTINGS_MODULE="project.settings",
    DJANGO_DEBUG="0",
    DJANGO_SECRET_KEY="bench-secret-key-" + "x" * 48,
    DJANGO_ALLOWED_HOSTS="testserver",
    DATABASE_URL=f"sqlite:///{BENCH_FOLDER}/bench.sqlite3",
    DJANGO_STATIC_ROOT=BENCH_FOLDER,
    LOGIN_RATE_LIMIT="1000000/s",
    LOG_LEVEL="WARNING",
)

import django  # noqa: E402

django.setup()

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from accounts import keys, tokens  # noqa: E402
from accounts.models import LoginSession, User  # noqa: E402

PASSWORD = "bench password 12345"
LOGIN = "mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { access } }"
ME = "{ me { id } }"


def rsa_2048_pem():
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def key_rings():
    return {
        "HS256": keys.hmac_key_ring("HS256", [keys.generate("HS256")]),
        "RS256 (2048 bits)": keys.private_key_ring("RS256", [rsa_2048_pem()]),
        "RS256 (3072 bits)": keys.private_key_ring("RS256", [keys.generate("RS256")]),
        "ES256": keys.private_key_ring("ES256", [keys.generate("ES256")]),
        "EdDSA": keys.private_key_ring("EdDSA", [keys.generate("EdDSA")]),
    }


def post(client, query, variables=None, **headers):
    response = client.post(
        "/graphql/", json.dumps({"query": query, "variables": variables or {}}), "application/json", **headers
    )
    payload = response.json()
    assert response.status_code == 200 and "errors" not in payload, payload
    return payload["data"]


def seconds_per_operation(operation, count):
    started = time.perf_counter()
    for _ in range(count):
        operation()
    return (time.perf_counter() - started) / count


def measurements(user, arguments):
    """name -> (operation, how many per round), for the ring in force."""
    client = Client()
    access = post(client, LOGIN, {"u": user.username, "p": PASSWORD})["tokenAuth"]["access"]
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {access}"}
    session = LoginSession.objects.get(pk=tokens.ACCESS.decode(access).session_id)
    return access, {
        "sign": (lambda: (tokens.ACCESS.issue(user, session), tokens.REFRESH.issue(user, session)),
                 arguments.operations),
        "verify": (lambda: tokens.ACCESS.decode(access), arguments.operations),
        "tokenAuth": (lambda: post(client, LOGIN, {"u": user.username, "p": PASSWORD}), arguments.logins),
        "me": (lambda: post(client, ME, **bearer), arguments.operations // 4),
    }  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--operations", type=int, default=200, help="signatures and verifications per round")
    parser.add_argument("--logins", type=int, default=5, help="tokenAuth calls per round (Argon2 makes each slow)")
    arguments = parser.parse_args()

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    user = User.objects.create_user("bench", "bench@example.com", PASSWORD)

    rings = key_rings()
    prepared, token_sizes = {}, {}
    for name, ring in rings.items():
        with override_settings(JWT={**settings.JWT, "KEYS": ring}):
            access, prepared[name] = measurements(user, arguments)
            token_sizes[name] = len(access)
            for operation, count in prepared[name].values():
                seconds_per_operation(operation, max(1, count // 4))  # warm up

    times = {name: {measured: [] for measured in prepared[name]} for name in rings}
    for _ in range(arguments.rounds):
        for name, ring in rings.items():
            with override_settings(JWT={**settings.JWT, "KEYS": ring}):
                for measured, (operation, count) in prepared[name].items():
                    times[name][measured].append(seconds_per_operation(operation, count))

    print(f"{arguments.rounds} rounds; medians. sign = access + refresh token, verify = one access token.")
    print(f"{'algorithm':<18} {'sign µs':>9} {'verify µs':>10} {'tokenAuth ms':>13} {'me ms':>7} {'access bytes':>13}")
    for name in rings:
        median = {measured: statistics.median(values) for measured, values in times[name].items()}
        print(
            f"{name:<18} {median['sign'] * 1e6:9.0f} {median['verify'] * 1e6:10.0f} "
            f"{median['tokenAuth'] * 1e3:13.1f} {median['me'] * 1e3:7.2f} {token_sizes[name]:13d}"
        )


if __name__ == "__main__":
    main()
