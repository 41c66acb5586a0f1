"""Independent numerical oracle for the C++ statistics (scipy; tests only).

Reads the JSON that stats_table prints and recomputes every value from the
formulas in STATISTICS.md with scipy, written without looking at the C++.
Exits non-zero on any mismatch.
"""
import json
import math
import sys

import numpy as np
from scipy.optimize import brentq, minimize_scalar
from scipy.special import logsumexp, xlogy

GRID = np.array([1.25, 1.5, 2, 3, 5, 10, 20])
DEFAULT_MAX_BURST = 5.0
LINEAR_MAX_EXPECTED_EVENTS = 4.0  # the switched process's rule, B > 1
ROLLBACK_SHARE, PROMOTION_SHARE = 0.5, 0.25


def kl(p, q):
    return xlogy(p, p / q) + xlogy(1 - p, (1 - p) / (1 - q))


def nearest_null_divergence(a, b, pa, pb, ratio0):
    """KL from independent events (a, b requests at rates pa, pb) to the
    nearest null law, the canary at ratio0 times an unknown baseline rate,
    found by numerical minimization of the Poisson divergence."""
    def divergence(log_q):
        q = math.exp(log_q)
        return sum(r * (p * math.log(p / null) - p + null)
                   for r, p, null in ((a, pa, q), (b, pb, ratio0 * q)) if p > 0)
    return minimize_scalar(divergence, bounds=(-30, 0), method="bounded",
                           options={"xatol": 1e-13}).fun


def bound(a, b, pa, pb, alpha, beta, ratio0):
    return kl(1 - beta, alpha) / nearest_null_divergence(a, b, pa, pb, ratio0)


def linear_bet(rising0, rising1, burst):
    """The rising arm's slope a and the falling arm's exponent b per event:
    maximise rising1 log(1 + a) + (1 - rising1) b over b < 0, with a set by
    rising0 a + (1 - rising0)(e^(bB) - 1)/B = 0. Solved numerically here, at
    the growth's stationary point (the C++ uses the closed form)."""
    def slope(b):
        return -(1 - rising0) * math.expm1(b * burst) / (burst * rising0)

    def growth_derivative(b):
        d_slope = -(1 - rising0) * math.exp(b * burst) / rising0
        return rising1 * d_slope / (1 + slope(b)) + (1 - rising1)

    # Negative at b = 0 (rising1 > rising0), positive far below.
    b = brentq(growth_derivative, -60.0 / burst, 0.0, xtol=1e-15, rtol=1e-15)
    return slope(b), b


def log_e(rows, ratio0, worse, burst):
    """Half the grid mixture on counts divided by the declared burst bound;
    for B > 1, half the same mixture with the rising arm's factor 1 + a x in
    every interval whose rising arm expects at most 4 events by its earlier
    rate (none before any history)."""
    burst = max(1.0, burst)
    chord = np.zeros(len(GRID))
    switched = np.zeros(len(GRID))
    seen_requests = seen_events = 0.0
    for na, nb, ea, eb in rows:
        rising_requests, rising_events = (nb, eb) if worse else (na, ea)
        linear = seen_requests > 0 and rising_requests * seen_events / seen_requests <= LINEAR_MAX_EXPECTED_EVENTS
        seen_requests += rising_requests
        seen_events += rising_events
        if ea + eb > 0 and na > 0 and nb > 0:
            theta0 = nb * ratio0 / (na + nb * ratio0)
            mult = GRID if worse else 1 / GRID
            theta = nb * ratio0 * mult / (na + nb * ratio0 * mult)
            step = (eb * np.log(theta / theta0) + ea * np.log((1 - theta) / (1 - theta0))) / burst
            chord += step
            if not linear:
                switched += step
                continue
            for g in range(len(GRID)):
                if worse:
                    a, b = linear_bet(theta0, theta[g], burst)
                    switched[g] += math.log1p(a * eb) + b * ea
                else:
                    a, b = linear_bet(1 - theta0, 1 - theta[g], burst)
                    switched[g] += math.log1p(a * ea) + b * eb
    log_chord = logsumexp(chord) - math.log(len(GRID))
    if burst == 1:
        return log_chord
    return float(logsumexp([log_chord, logsumexp(switched) - math.log(len(GRID))]) - math.log(2))


def grid_exponents(burst):
    """Every exponent t (per event, times B) a component puts on an arm's
    events under the chord bound, weights 1..99%: both arms of the chord
    components and the falling arm of the linear ones (the rising arm's
    linear factor needs no burst bound)."""
    out = []
    for w in np.linspace(0.01, 0.99, 99):
        theta0 = w * 1.25 / ((1 - w) + w * 1.25)
        for mult in np.concatenate([GRID, 1 / GRID]):
            theta = w * 1.25 * mult / ((1 - w) + w * 1.25 * mult)
            out += [math.log(theta / theta0), math.log((1 - theta) / (1 - theta0))]
            if burst > 1:
                if mult > 1:
                    out.append(linear_bet(theta0, theta, burst)[1] * burst)
                else:
                    out.append(linear_bet(1 - theta0, 1 - theta, burst)[1] * burst)
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
                    case["alpha"], case["beta"], case["null_ratio"]), rel=1e-7)
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
    # the least whole numbers that do.
    for case in table["covering"]:
        checked += 1
        mean, burst = case["mean"], case["max_burst"]
        if not geometric_bursts_covered(mean, burst, grid_exponents(burst)):
            failures.append(f"maxBurst {burst} does not cover geometric bursts of mean {mean}")
        elif mean > 1 and geometric_bursts_covered(mean, burst - 1, grid_exponents(burst - 1)):
            failures.append(f"maxBurst {burst} is loose for geometric bursts of mean {mean}")

    for failure in failures:
        print("MISMATCH", failure)
    print(f"{checked - len(failures)} of {checked} values match scipy")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
