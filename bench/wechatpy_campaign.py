"""The campaign of bench/campaign-scale.sh done with wechatpy 1.8.18, the
way a script would: page every follower into a list, send it in batches with
mass/send, poll mass/get until every job is final. Prints wall time and peak
RSS as JSON."""

import json
import resource
import sys
import time

from wechatpy_emulator import emulator_client

base, appid, secret, batch_size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])


client = emulator_client(base, appid, secret)
start = time.perf_counter()
openids, next_openid = [], None
while True:
    page = client.user.get_followers(next_openid) if next_openid else client.user.get_followers()
    if not page.get("data"):
        break
    openids.extend(page["data"]["openid"])
    next_openid = page["next_openid"]
paged = time.perf_counter()
msg_ids = []
for i in range(0, len(openids), batch_size):
    sent = client.message.send_mass_text(openids[i : i + batch_size], "bench", client_msg_id=f"py-{i}")
    msg_ids.append(sent["msg_id"])
submitted = time.perf_counter()
pending = set(msg_ids)
while pending:
    for msg_id in list(pending):
        if client.message.get_mass(msg_id)["msg_status"] != "SENDING":
            pending.discard(msg_id)
    if pending:
        time.sleep(0.2)
done = time.perf_counter()
print(json.dumps({
    "followers": len(openids), "batches": len(msg_ids),
    "page_seconds": paged - start, "send_seconds": submitted - paged, "wall_seconds": done - start,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
