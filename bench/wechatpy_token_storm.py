"""A token storm through wechatpy 1.8.18: the access token is invalidated,
then N threads call get_mass at once, several rounds. Prints the token
fetches the emulator served in each round (as JSON). Used by
bench/token-storm.sh."""

import json
import sys
import threading
import time
import urllib.request

from wechatpy_emulator import emulator_client

base, appid, secret, msg_id, calls, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])


def fetches():
    with urllib.request.urlopen(base + "/_emulator/stats") as r:
        f = json.load(r)["token_fetches"]
    return f["classic"] + f["stable"] + f["stable_forced"]


client = emulator_client(base, appid, secret)
client.message.get_mass(msg_id)  # a token, cached


def storm():
    """Expires every token, then starts `calls` calls at once; returns the
    token fetches they caused and how many succeeded."""
    request = urllib.request.Request(base + "/_emulator/clock", data=b'{"advance_seconds": 7300}', method="POST")
    urllib.request.urlopen(request).read()
    before = fetches()
    barrier = threading.Barrier(calls)
    ok = [False] * calls

    def call(i):
        barrier.wait()
        try:
            client.message.get_mass(msg_id)
            ok[i] = True
        except Exception:  # noqa: BLE001 - a failed call is counted, not fatal
            pass

    threads = [threading.Thread(target=call, args=(i,)) for i in range(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return fetches() - before, sum(ok)


start = time.perf_counter()
runs = [storm() for _ in range(rounds)]
elapsed = time.perf_counter() - start
print(json.dumps({"calls": calls, "rounds": rounds, "token_fetches": [f for f, _ in runs],
                  "succeeded": min(s for _, s in runs), "seconds": elapsed / rounds}))
