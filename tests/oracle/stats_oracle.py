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
DEFAULT_MAX_BURST = 5.0
ROLLBACK_SHARE, PROMOTION_SHARE = 0.5, 0.25


def kl(p, q):
    return xlogy(p, p / q) + xlogy(1 - p, (1 - p) / (1 - q))


def bound(a, b, pa, pb, alpha, beta):
    q = (a * pa + b * pb) / (a + b)
    info = sum(r * p * math.log(p / q) for r, p in ((a, pa), (b, pb)) if p > 0)
    return kl(1 - beta, alpha) / info


def log_e(rows, ratio0, worse, burst):
    """The grid mixture on counts divided by the declared burst bound."""
    llr = np.zeros(len(GRID))
    for na, nb, ea, eb in rows:
        if ea + eb > 0 and na > 0 and nb > 0:
            theta0 = nb * ratio0 / (na + nb * ratio0)
            mult = GRID if worse else 1 / GRID
            theta = nb * ratio0 * mult / (na + nb * ratio0 * mult)
            llr += (eb * np.log(theta / theta0) + ea * np.log((1 - theta) / (1 - theta0))) / max(1.0, burst)
    return logsumexp(llr) - math.log(len(GRID))


def grid_exponents():
    """Every exponent t a grid component puts on an event, weights 1..99%."""
    out = []
    for w in np.linspace(0.01, 0.99, 99):
        theta0 = w * 1.25 / ((1 - w) + w * 1.25)
        for mult in np.concatenate([GRID, 1 / GRID]):
            theta = w * 1.25 * mult / ((1 - w) + w * 1.25 * mult)
            out += [math.log(theta / theta0), math.log((1 - theta) / (1 - theta0))]
    return out


def geometric_bursts_covered(mean, burst, exponents):
    """E exp(t S/B) - 1 <= (E S/B)(e^t - 1) for geometric S (support 1, 2, ...)."""
    p = 1 / mean
    for t in exponents:
        u = t / burst
        if math.exp(u) * (1 - p) >= 1:
            return False
        mgf = p * math.exp(u) / (1 - (1 - p) * math.exp(u))
        if mgf - 1 > mean / burst * math.expm1(t) + 1e-12:
            return False
    return True


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
        check(f"log E (ratio0 {case['ratio0']}, worse {case['worse']}, burst {case['burst']})",
              case["cpp"], log_e(case["rows"], case["ratio0"], case["worse"], case["burst"]))
    for case in table["evidence"]:
        rollback = math.log(1 / (case["alpha"] * ROLLBACK_SHARE))
        promotion = math.log(1 / (case["alpha"] * PROMOTION_SHARE))
        rows = case["rows"]
        worse = lambda lr: log_e(rows, math.exp(lr), True, DEFAULT_MAX_BURST) - rollback
        better = lambda lr: log_e(rows, math.exp(lr), False, DEFAULT_MAX_BURST) - promotion
        lo, hi = math.log(1e-4), math.log(1e4)
        low = math.exp(brentq(worse, lo, hi)) if worse(lo) >= 0 else 1e-4
        high = math.exp(brentq(better, lo, hi)) if better(hi) >= 0 else 1e4
        check("interval low", case["low"], low, rel=1e-6)
        check("interval high", case["high"], high, rel=1e-6)

    # The null suite's declared bounds cover its geometric bursts, and are
    # are the least whole numbers that do.
    exponents = grid_exponents()
    for case in table["covering"]:
        checked += 1
        mean, burst = case["mean"], case["max_burst"]
        if not geometric_bursts_covered(mean, burst, exponents):
            failures.append(f"maxBurst {burst} does not cover geometric bursts of mean {mean}")
        elif mean > 1 and geometric_bursts_covered(mean, burst - 1, exponents):
            failures.append(f"maxBurst {burst} is loose for geometric bursts of mean {mean}")

    for failure in failures:
        print("MISMATCH", failure)
    print(f"{checked - len(failures)} of {checked} values match scipy")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
