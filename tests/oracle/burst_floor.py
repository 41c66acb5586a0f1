"""The floor for any test valid when bad events come in bursts of up to 5.

For each benchmark regression a null law Q is given here: both arms'
events in bursts of 1-5 (compound Poisson, size laws below), the canary
at 1.25 times the baseline's rate (the judge's null at margin 0.25). Q
was found by minimizing KL(P || Q) numerically, P the regression with
independent events; any Q in the null serves, a poorly chosen one just
gives a lower floor. A test that rolls back P with power 1 - beta within
a mean of tau seconds while rolling back Q at most alpha of the time
needs tau * KL(P || Q) per second >= kl(1 - beta || alpha) (Wald's
identity and the data-processing inequality), so no valid test beats
kl / KL, with the traffic held at the benchmark's first step (a 20%
canary; its 50% step would add information faster). Checks each Q is in
the null, recomputes KL by exact Panjer sums (scipy only for Poisson
terms), and asserts the floors that docs/STATISTICS.md quotes. Also the small regression's whole plan: the
information it holds at the judge's rollback level, with and without
bursts.
"""
import math
import sys

import numpy as np
from scipy.stats import poisson

from stats_oracle import kl, nearest_null_divergence

MAX_BURST = 5
RATIO0 = 1.25
INTERVAL = 5.0  # seconds

# name: (canary requests, baseline requests per interval, baseline rate,
#        canary rate, baseline rate q of Q, canary sizes, baseline sizes,
#        floor in seconds that the docs quote)
SCENARIOS = {
    "medium 0.1% -> 0.5%": (200, 800, 0.001, 0.005, 0.00232266,
                            [0.9263, 0.0737, 0, 0, 0],
                            [0.8327, 0.0182, 0, 0, 0.1491], 62),
    "large 0.1% -> 2%": (200, 800, 0.001, 0.02, 0.00601581,
                         [0.3488, 0.3217, 0.2226, 0.0952, 0.0117],
                         [0.5505, 0.0121, 0, 0, 0.4374], 12),
    "latency 1% -> 4%": (200, 800, 0.01, 0.04, 0.0130766,
                         [0.0529, 0.146, 0.3789, 0.2499, 0.1723],
                         [0.9434, 0, 0, 0, 0.0566], 15),
    "10x at 20 req/s, 1% -> 10%": (100, 400, 0.01, 0.10, 0.0250393,
                                   [0.0099, 0.0309, 0.4071, 0.2592, 0.2929],
                                   [0.7453, 0, 0, 0, 0.2547], 7.5),
}
# The small regression 0.1% -> 0.2%: 5 minutes at 20%, 5 at 50% of 200 req/s.
SMALL_STEPS = [(200, 800, 0.00114226, [0.986814, 0.013186, 0, 0, 0],
                [0.992216, 0.006838, 0.000857, 0, 0.00009]),
               (500, 500, 0.00137857, [0.991426, 0.008574, 0, 0, 0],
                [0.963916, 0.014773, 0.001941, 0, 0.01937])]


def compound_poisson_pmf(mean, sizes, last):
    """P(count = k), k <= last, for a Poisson number of bursts with the size
    law `sizes` on 1..len(sizes) and `mean` events expected (Panjer)."""
    sizes = np.asarray(sizes, dtype=float)
    if len(sizes) > MAX_BURST or abs(sizes.sum() - 1) > 1e-3 or (sizes < 0).any():
        raise ValueError(f"not a size law: {sizes}")
    sizes = sizes / sizes.sum()
    bursts = mean / float(np.dot(np.arange(1, len(sizes) + 1), sizes))
    pmf = np.zeros(last + 1)
    pmf[0] = math.exp(-bursts)
    for k in range(1, last + 1):
        j = np.arange(1, min(len(sizes), k) + 1)
        pmf[k] = bursts / k * np.sum(j * sizes[j - 1] * pmf[k - j])
    return pmf


def kl_poisson_vs(mean, pmf_q):
    k = np.arange(len(pmf_q))
    p = poisson.pmf(k, mean)
    keep = p > 0
    return float(np.sum(p[keep] * (np.log(p[keep]) - np.log(pmf_q[keep]))))


def kl_to_burst_null(n_canary, n_baseline, rate_b, rate_c, q, canary_sizes,
                     baseline_sizes):
    """Per interval: KL(independent regression || Q)."""
    x, y = n_canary * rate_c, n_baseline * rate_b
    last = int(max(x, y) + 40 * math.sqrt(max(x, y)) + 60)
    return (kl_poisson_vs(x, compound_poisson_pmf(RATIO0 * q * n_canary, canary_sizes, last)) +
            kl_poisson_vs(y, compound_poisson_pmf(q * n_baseline, baseline_sizes, last)))


def kl_to_independent_null(n_canary, n_baseline, rate_b, rate_c, ratio0):
    """Per interval: KL(regression || the nearest independent null law)."""
    return nearest_null_divergence(n_baseline, n_canary, rate_b, rate_c, ratio0)


def main():
    failures = []
    needed = kl(0.9, 0.01)  # the benchmark's bound: alpha 0.01, beta 0.1
    print("| regression | bound, no margin | bound, margin's null | floor, bursts <= 5 |")
    for name, (nc, nb, rb, rc, q, cs, bs, quoted) in SCENARIOS.items():
        seconds = [needed / (kl_to_independent_null(nc, nb, rb, rc, r0) / INTERVAL)
                   for r0 in (1.0, RATIO0)]
        floor = needed / (kl_to_burst_null(nc, nb, rb, rc, q, cs, bs) / INTERVAL)
        print(f"| {name} | {seconds[0]:.1f} s | {seconds[1]:.1f} s | {floor:.1f} s |")
        if floor < quoted:
            failures.append(f"{name}: floor {floor:.2f} s below the quoted {quoted} s")
        if not seconds[0] < seconds[1] < floor:
            failures.append(f"{name}: bounds out of order {seconds} {floor}")

    # The small regression over its whole plan (60 intervals a step), at the
    # judge's rollback level alpha/2 = 0.005 and power 0.9.
    needed_small = kl(0.9, 0.005)
    independent = sum(60 * kl_to_independent_null(nc, nb, 0.001, 0.002, RATIO0)
                      for nc, nb, _, _, _ in SMALL_STEPS)
    bursts = sum(60 * kl_to_burst_null(nc, nb, 0.001, 0.002, q, cs, bs)
                 for nc, nb, q, cs, bs in SMALL_STEPS)
    print(f"small regression, whole plan: {independent:.2f} nats if independent, "
          f"{bursts:.2f} with bursts <= 5; 90% power at level 0.005 needs {needed_small:.2f}")
    if not bursts < independent < needed_small:
        failures.append("the small regression's plan holds enough for 90% power")

    for failure in failures:
        print("FAIL", failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
