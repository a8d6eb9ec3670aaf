"""Runs a command and appends its wall time and peak RSS as a JSON line to
the file named by $MEASURE_OUT (for machines without GNU time).

    MEASURE_OUT=m.jsonl python3 bench/measure.py LABEL cmd args...
"""

import json
import os
import resource
import subprocess
import sys
import time

label, command = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
code = subprocess.call(command)
seconds = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(os.environ["MEASURE_OUT"], "a") as out:
    out.write(json.dumps({"label": label, "seconds": seconds, "peak_rss_mb": peak_kb / 1024, "exit": code}) + "\n")
sys.exit(code)
