"""The push-path workload of wxmass-callback's `push_path` bench, run through
wechatpy: check `signature`, then `decrypt_message` (checks `msg_signature`,
decrypts), then `parse_message`. Reads the request as JSON on stdin (made by
`cargo run --example bench_fixture`: a MASSSENDJOBFINISH, or with `template`
a TEMPLATESENDJOBFINISH) and prints pushes per second as JSON."""

import json
import sys
import time

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import check_signature


def main() -> None:
    f = json.load(sys.stdin)
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    crypto = WeChatCrypto(f["token"], f["encoding_aes_key"], f["appid"])

    def one() -> None:
        check_signature(f["token"], f["signature"], f["timestamp"], f["nonce"])
        xml = crypto.decrypt_message(f["body"], f["msg_signature"], f["timestamp"], f["nonce"])
        msg = parse_message(xml)
        if msg.event == "masssendjobfinish":
            assert msg.sent_count == 9980
        else:
            assert msg.event == "templatesendjobfinish" and msg.status == "failed:user block"

    for _ in range(500):  # warm up
        one()
    # The mean over the whole timed run: the same statistic as criterion's
    # mean estimate on the Rust side.
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(200):
            one()
        n += 200
        now = time.perf_counter()
        if now >= deadline:
            break
    rate = n / (now - start)
    import wechatpy

    print(json.dumps({"pushes_per_sec": rate, "wechatpy": wechatpy.__version__}))


if __name__ == "__main__":
    main()
