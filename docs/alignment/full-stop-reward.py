#!/usr/bin/env python3
"""Reward command for `dclm align --method grpo|ppo`: reads JSON lines {"prompt", "completion"} on stdin and writes one
number a line: 1 when the completion is words closed by a full stop (it ended there, with the end-of-sequence token or
a line break), else 0."""
import json, re, sys

for line in sys.stdin:
    completion = json.loads(line)["completion"].split("\n")[0].strip()
    print(1 if re.search(r"[A-Za-z]", completion) and completion.endswith(".") else 0)
