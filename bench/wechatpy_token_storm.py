"""A token storm through wechatpy 1.8.18: the access token is invalidated,
then N threads call get_mass at once. Prints the token fetches the emulator
served (as JSON). Used by bench/token-storm.sh."""

import json
import sys
import threading
import time
import urllib.request

from wechatpy import WeChatClient

base, appid, secret, msg_id, calls = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])


class EmulatorClient(WeChatClient):
    API_BASE_URL = base + "/cgi-bin/"

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=base + "/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


def fetches():
    with urllib.request.urlopen(base + "/_emulator/stats") as r:
        f = json.load(r)["token_fetches"]
    return f["classic"] + f["stable"] + f["stable_forced"]


client = EmulatorClient(appid, secret)
client.message.get_mass(msg_id)  # a token, cached
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


start = time.perf_counter()
threads = [threading.Thread(target=call, args=(i,)) for i in range(calls)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.perf_counter() - start
print(json.dumps({"calls": calls, "succeeded": sum(ok), "token_fetches": fetches() - before, "seconds": elapsed}))
