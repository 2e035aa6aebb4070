"""Two requests timed in pairs whose order alternates, for the benchmarks that ask whether an
answer's timing tells one case from the other (bench.not_found, bench.password_reset)."""

import statistics


def alternating(first, second, pairs):
    """The milliseconds of `pairs` calls of each, `first` before `second` in every other pair."""
    first_ms, second_ms = [], []
    for index in range(pairs):
        if index % 2:
            first_ms.append(first())
            second_ms.append(second())
        else:
            second_ms.append(second())
            first_ms.append(first())
    return first_ms, second_ms


def report(first_label, first_ms, second_label, second_ms):
    """Each median, and the median and interquartile range of the per-pair difference: a
    difference large against that spread is one an attacker could measure."""
    differences = [a - b for a, b in zip(first_ms, second_ms, strict=True)]
    quartiles = statistics.quantiles(differences, n=4)
    width = max(len(first_label), len(second_label), 30)
    print(f"  {first_label:<{width}}  {statistics.median(first_ms):6.3f}")
    print(f"  {second_label:<{width}}  {statistics.median(second_ms):6.3f}")
    print(f"  {'median of the difference':<{width}}  {statistics.median(differences):+6.3f}")
    print(f"  {'interquartile range of that':<{width}}  {quartiles[0]:+6.3f} .. {quartiles[2]:+6.3f}")
