#!/usr/bin/env python3
"""Prompt-lookup speculation over `dclm serve`: greedy streamed completions of each prompt file, then four at once,
against a server without drafts and one with them, the two taking turns for --rounds rounds. Prints the median
decode tokens/s after the first streamed token, the server's CPU time per generated token (utime + stime of its
process, steadier than wall time on a loaded machine), the acceptance from /metrics, and whether every text was
identical. Each server first completes every prompt twice, unmeasured (JIT). Usage: bench/speculation-serve.py [--spec "--lookup-ngram 3 --draft-max 4"] PROMPT_FILE..."""
import argparse, concurrent.futures, json, os, statistics, subprocess, time, urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("prompts", nargs="+")
parser.add_argument("--dclm", default="dotnet src/Dclm.Cli/bin/Release/net10.0/dclm.dll")
parser.add_argument("--serve", default="--threads 2 --parallel 4 --kv-type f32", help="options of both servers")
parser.add_argument("--spec", default="--lookup-ngram 3 --draft-max 4", help="options of the speculating server")
parser.add_argument("--max-tokens", type=int, default=120)
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--port", type=int, default=18080)
args = parser.parse_args()
prompts = [open(p).read() for p in args.prompts]
tick = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick


def start(options, port):
    process = subprocess.Popen(args.dclm.split() + ["serve", "--port", str(port)] + args.serve.split() + options.split(),
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    for line in process.stderr:
        if "model loaded" in line:
            return process
    raise SystemExit(f"the server did not start: {process.wait()}")


def complete(port, prompt):
    """Streams one greedy completion; returns its text, token events and decode tokens/s after the first."""
    body = json.dumps({"prompt": prompt, "max_tokens": args.max_tokens, "temperature": 0, "stream": True}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions", body, {"Content-Type": "application/json"})
    first = last = None
    text, tokens = "", 0
    with urllib.request.urlopen(request) as response:
        for raw in response:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            piece = json.loads(line[6:])["choices"][0].get("text", "")
            if piece:
                now = time.perf_counter()
                first, last, text, tokens = first or now, now, text + piece, tokens + 1
    return text, tokens, (tokens - 1) / (last - first) if tokens > 1 and last > first else 0.0


def metric(port, name):
    for line in urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])


rates = {"plain": {}, "lookup": {}}
cpu = {"plain": {}, "lookup": {}}
texts = {"plain": {}, "lookup": {}}
for round_ in range(args.rounds):
    for mode in (["plain", "lookup"] if round_ % 2 == 0 else ["lookup", "plain"]):
        port = args.port + 2 * round_ + (mode == "lookup")
        server = start(args.spec if mode == "lookup" else "", port)
        try:
            # JIT and tiered compilation of both paths (drafted or not) before anything is measured.
            for prompt in prompts + prompts:
                complete(port, prompt)
            for i, prompt in enumerate(prompts):
                before = cpu_seconds(server.pid)
                text, tokens, rate = complete(port, prompt)
                rates[mode].setdefault(i, []).append(rate)
                cpu[mode].setdefault(i, []).append(1000 * (cpu_seconds(server.pid) - before) / tokens)
                texts[mode][i] = text
            before, started = cpu_seconds(server.pid), time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                results = list(pool.map(lambda k: complete(port, prompts[k % len(prompts)]), range(4)))
            tokens = sum(r[1] for r in results)
            rates[mode].setdefault("4 at once", []).append(tokens / (time.perf_counter() - started))
            cpu[mode].setdefault("4 at once", []).append(1000 * (cpu_seconds(server.pid) - before) / tokens)
            for k, result in enumerate(results):
                texts[mode][f"4 at once, {k}"] = result[0] == texts[mode][k % len(prompts)]
            if mode == "lookup":
                print(f"round {round_ + 1}: drafted {metric(port, 'dclm_draft_tokens_total'):.0f}, accepted "
                      f"{metric(port, 'dclm_draft_accepted_tokens_total'):.0f} ({metric(port, 'dclm_draft_acceptance_rate'):.1%})", flush=True)
        finally:
            server.terminate()
            server.wait()
    print(f"round {round_ + 1} done, load average {open('/proc/loadavg').read().split()[0]}", flush=True)

for key in rates["plain"]:
    plain, lookup = statistics.median(rates["plain"][key]), statistics.median(rates["lookup"][key])
    plain_cpu, lookup_cpu = statistics.median(cpu["plain"][key]), statistics.median(cpu["lookup"][key])
    name = args.prompts[key] if isinstance(key, int) else key
    print(f"{name}: plain {plain:.1f} tok/s, lookup {lookup:.1f} tok/s ({lookup / plain:.2f}x); "
          f"server CPU ms/token plain {plain_cpu:.2f}, lookup {lookup_cpu:.2f} ({plain_cpu / lookup_cpu:.2f}x)")
print("identical text:", texts["plain"] == texts["lookup"])
