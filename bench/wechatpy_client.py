"""wechatpy 1.8.18's get_mass against the emulator, from N threads, for S
seconds; prints calls per second as JSON. Used by bench/client-vs-peers.sh."""

import json
import sys
import threading
import time

from wechatpy_emulator import emulator_client

base, appid, secret, msg_id = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
seconds, threads = float(sys.argv[5]), int(sys.argv[6])


client = emulator_client(base, appid, secret)
client.message.get_mass(msg_id)
count = [0] * threads
deadline = time.perf_counter() + seconds


def work(i):
    while time.perf_counter() < deadline:
        client.message.get_mass(msg_id)
        count[i] += 1


start = time.perf_counter()
workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(json.dumps({"wechatpy": sum(count) / (time.perf_counter() - start), "threads": threads}))
