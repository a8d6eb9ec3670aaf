"""The fan-out of bench/fanout.sh done with wechatpy 1.8.18, as its users
write it: read the openids, then send_template to each in a
ThreadPoolExecutor of 64 threads; nothing recorded (a crash loses who got
it). Prints the sends, wall time and peak RSS as JSON."""

import json
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from wechatpy_emulator import emulator_client

base, appid, secret, template_id, openids_file = sys.argv[1:6]
openids = open(openids_file).read().split()
client = emulator_client(base, appid, secret)
data = {
    "thing1": {"value": "钢笔"},
    "thing2": {"value": "顺丰速运"},
    "character_string3": {"value": "SF1234567890"},
    "time4": {"value": "2026-12-06 10:00"},
}


def send(openid):
    client.message.send_template(openid, template_id, data)
    return 1


start = time.perf_counter()
with ThreadPoolExecutor(max_workers=64) as pool:
    sent = sum(pool.map(send, openids))
seconds = time.perf_counter() - start
print(json.dumps({
    "sent": sent, "seconds": seconds, "per_second": sent / seconds,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
