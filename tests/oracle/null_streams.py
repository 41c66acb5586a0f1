"""Validity oracle: streams simulated here, judged by the real C++ judge.

The event model below is written independently of the C++ code (Python's
standard library only): request counts per interval around a steady rate
split by the canary's weight, errors per request either independent
(Poisson) or in clusters of 1..MAX_BURST events (cluster starts Poisson,
sizes uniform), separately in each arm. Each stream is a CSV fed to
`canaryctl backtest --csv`, which asks a locally started canary-analyzer to
run the live JudgeComparative over it (docs/BACKTEST.md).

Checked: with a good canary (equal error rates) the share of streams
rolled back is at or under the design level alpha x 0.5 within Monte-Carlo
error: the count may not exceed the 99.9% quantile of Binomial(N, level),
so a valid judge fails this test at most 0.1% of the time, while a false
rollback rate of 3x the level fails it almost surely. A canary with 4x the
baseline's error rate must be rolled back in every stream.

Usage: null_streams.py CANARYCTL ANALYZER_ADDRESS
"""
import json
import math
import random
import subprocess
import sys

ALPHA = 0.05  # design level for false rollbacks: ALPHA * 0.5 = 2.5%
LEVEL = ALPHA * 0.5
MAX_BURST = 5  # the judge's declared bound, and the largest cluster here
RATE = 200.0  # requests per second, both arms together
ERROR_RATE = 0.01
INTERVAL = 15  # seconds; judged every 2 intervals (a 30 s analysis cadence)
PLAN = [(0.2, 300), (0.5, 300), (0.8, 300)]  # canary weight, seconds
STREAMS = 200  # per null scenario
BAD_STREAMS = 5


def poisson(rng, mean):
    """Knuth's method: means here are at most a few dozen."""
    if mean <= 0:
        return 0
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def errors(rng, requests, rate, clustered):
    if not clustered:
        return min(requests, poisson(rng, requests * rate))
    mean_size = (1 + MAX_BURST) / 2
    clusters = poisson(rng, requests * rate / mean_size)
    return min(requests,
               sum(rng.randint(1, MAX_BURST) for _ in range(clusters)))


def stream(rng, canary_rate, clustered):
    lines, end = [], 0
    for weight, seconds in PLAN:
        for _ in range(seconds // INTERVAL):
            end += INTERVAL
            total = max(0, round(rng.gauss(RATE * INTERVAL,
                                           math.sqrt(RATE * INTERVAL))))
            canary = round(total * weight)
            baseline = total - canary
            lines.append(",".join(str(v) for v in (
                end, errors(rng, canary, canary_rate, clustered), canary,
                errors(rng, baseline, ERROR_RATE, clustered), baseline,
                weight)))
    return "\n".join(lines) + "\n"


def first_rollback(canaryctl, analyzer, csv):
    run = subprocess.run(
        [canaryctl, "backtest", "--csv", "--insecure", "--analyzer", analyzer,
         "--alpha", str(ALPHA), "--max-burst", str(MAX_BURST),
         "--judge-every", "2", "-o", "json"],
        input=csv, capture_output=True, text=True, timeout=300, check=False)
    if run.returncode != 0:
        sys.exit(f"canaryctl backtest failed: {run.stderr.strip()}")
    return json.loads(run.stdout)["firstRollback"]


def binomial_quantile(n, p, q):
    """The least k with P(X <= k) >= q for X ~ Binomial(n, p)."""
    cdf, k = 0.0, 0
    while True:
        cdf += math.comb(n, k) * p**k * (1 - p)**(n - k)
        if cdf >= q:
            return k
        k += 1


def main():
    canaryctl, analyzer = sys.argv[1], sys.argv[2]
    rng = random.Random(20261127)
    bound = binomial_quantile(STREAMS, LEVEL, 0.999)
    failed = False
    for name, clustered in (("independent errors", False),
                            ("clusters of 1..5 in both arms", True)):
        rollbacks = sum(
            first_rollback(canaryctl, analyzer,
                           stream(rng, ERROR_RATE, clustered)) > 0
            for _ in range(STREAMS))
        verdict = "ok" if rollbacks <= bound else "TOO MANY"
        print(f"good canary, {name}: {rollbacks}/{STREAMS} rolled back "
              f"(design level {LEVEL:.1%}, bound {bound}): {verdict}")
        failed |= rollbacks > bound
    caught = sum(
        first_rollback(canaryctl, analyzer,
                       stream(rng, 4 * ERROR_RATE, True)) > 0
        for _ in range(BAD_STREAMS))
    print(f"bad canary (4x errors, clustered): {caught}/{BAD_STREAMS} "
          "rolled back")
    failed |= caught < BAD_STREAMS
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
