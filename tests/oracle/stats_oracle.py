"""Independent numerical oracle for the C++ statistics (scipy; tests only).

Reads the JSON that stats_table prints and recomputes every value from the
formulas in STATISTICS.md with scipy, written without looking at the C++.
Exits non-zero on any mismatch.
"""
import json
import math
import sys

import numpy as np
from scipy.optimize import brentq
from scipy.special import logsumexp, xlogy

GRID = np.array([1.25, 1.5, 2, 3, 5, 10, 20])
MIN_INTERVALS = 3
UNKNOWN_DISPERSION = 5.0


def kl(p, q):
    return xlogy(p, p / q) + xlogy(1 - p, (1 - p) / (1 - q))


def bound(a, b, pa, pb, alpha, beta):
    q = (a * pa + b * pb) / (a + b)
    info = sum(r * p * math.log(p / q) for r, p in ((a, pa), (b, pb)) if p > 0)
    return kl(1 - beta, alpha) / info


def dispersion(history):
    """Pearson chi-square / (J - 1), inflated by its standard error; >= 1."""
    rows = [(n, e) for n, e in history if n > 0]
    events = sum(e for _, e in rows)
    if len(rows) < MIN_INTERVALS or events <= 0:
        return UNKNOWN_DISPERSION
    requests = sum(n for n, _ in rows)
    p = events / requests
    pearson = sum((e - n * p) ** 2 / (n * p) for n, e in rows)
    j = len(rows)
    return max(1.0, pearson / (j - 1) * (1 + 1.645 * math.sqrt(2 / (j - 1))))


def has_events(history):
    return sum(e for n, e in history if n > 0) > 0


def borrowed(own, other):
    """An arm without events takes the other's factor, once both have history."""
    if not has_events(own) and len([1 for n, _ in own if n > 0]) >= MIN_INTERVALS and has_events(other):
        return dispersion(other)
    return dispersion(own)


def log_e(rows, ratio0, worse, adjust):
    llr = np.zeros(len(GRID))
    base_hist, can_hist = [], []
    for na, nb, ea, eb in rows:
        if ea + eb > 0 and na > 0 and nb > 0:
            # Only the arm whose events weigh against rejection may borrow.
            fa = (borrowed(base_hist, can_hist) if worse else dispersion(base_hist)) if adjust else 1.0
            fb = (dispersion(can_hist) if worse else borrowed(can_hist, base_hist)) if adjust else 1.0
            ra, rb = na / fa, nb / fb
            theta0 = rb * ratio0 / (ra + rb * ratio0)
            mult = GRID if worse else 1 / GRID
            theta = rb * ratio0 * mult / (ra + rb * ratio0 * mult)
            llr += eb / fb * np.log(theta / theta0) + ea / fa * np.log((1 - theta) / (1 - theta0))
        base_hist.append((na, ea))
        can_hist.append((nb, eb))
    return logsumexp(llr) - math.log(len(GRID))


def close(a, b, rel=1e-9, abs_=1e-9):
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def main():
    table = json.load(open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin)
    failures, checked = [], 0

    def check(name, cpp, oracle, rel=1e-9):
        nonlocal checked
        checked += 1
        if not close(cpp, oracle, rel=rel, abs_=1e-9 * max(1.0, abs(oracle))):
            failures.append(f"{name}: C++ {cpp!r} vs scipy {oracle!r}")

    for case in table["logsumexp"]:
        check("logsumexp", case["cpp"], float(logsumexp(case["values"])))
    for case in table["kl"]:
        check(f"kl({case['p']},{case['q']})", case["cpp"], float(kl(case["p"], case["q"])))
    for case in table["bound"]:
        check("detection bound", case["cpp"],
              bound(case["baseline_rps"], case["canary_rps"], case["baseline_rate"], case["canary_rate"],
                    case["alpha"], case["beta"]))
    for case in table["eprocess"]:
        check(f"log E (ratio0 {case['ratio0']}, worse {case['worse']}, adjust {case['adjust']})",
              case["cpp"], log_e(case["rows"], case["ratio0"], case["worse"], case["adjust"]))
    for case in table["evidence"]:
        threshold = math.log(2 / case["alpha"])
        rows = case["rows"]
        worse = lambda lr: log_e(rows, math.exp(lr), True, True) - threshold
        better = lambda lr: log_e(rows, math.exp(lr), False, True) - threshold
        lo, hi = math.log(1e-4), math.log(1e4)
        low = math.exp(brentq(worse, lo, hi)) if worse(lo) >= 0 else 1e-4
        high = math.exp(brentq(better, lo, hi)) if better(hi) >= 0 else 1e4
        check("interval low", case["low"], low, rel=1e-6)
        check("interval high", case["high"], high, rel=1e-6)

    for failure in failures:
        print("MISMATCH", failure)
    print(f"{checked - len(failures)} of {checked} values match scipy")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
