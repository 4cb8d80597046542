"""Hand-written correct multi-turn MTPB programs, one completion per turn, for the MultiPL-E-style check:
these must pass (all 5 test cases), and the same with a broken last turn must fail.

SOLUTIONS[problem_id](inputs) -> completions, one per prompt of that problem. `inputs` is the test case's
input dict; completions are written the way a model would answer each filled-in prompt.
DEFECT_SOLUTIONS are correct programs for problems whose golds the reference checker cannot accept
(41: None golds, 89: dict golds): they pass under strict on every case, and fail faithful where the
gold is None or a dict.
"""
from __future__ import annotations


def _p1(i):
    return [f"my_string = {i['A']!r}", "my_string = my_string.lower()", "chars = set(my_string)",
            "chars = sorted(chars)", "print(chars)"]


def _p2(i):
    return [f"numbers = {i['numbers']}", "total = sum(numbers)",
            "normalized = [n / total * 100 for n in numbers]",
            "formatted = [f'{n:.1f}' for n in normalized]", "print(formatted)"]


def _p3(i):
    return ["def minutes_to_seconds(minutes):\n    return minutes * 60",
            "def hours_to_seconds(hours):\n    return hours * 3600",
            f"print(hours_to_seconds({i['a1']}) + minutes_to_seconds({i['a2']}))"]


def _p4(i):
    return ["def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a",
            "def square(x):\n    return x * x",
            f"square(fibonacci({i['a1']}))"]  # a bare last expression: the AST rewrite prints it


def _p6(i):  # pandas: the printed value is a Series
    return ["import pandas as pd",
            f"df = pd.DataFrame({{'Yes': [{i['a1']}, {i['a2']}], 'No': [{i['a3']}, {i['a4']}]}})",
            "means = df.mean()", "print(means)"]


def _p10(i):  # inputs[1] and inputs[4] are the same test case
    return ["def to_binary(number):\n    return bin(number)[2:]",
            "def to_hex(binary):\n    return int(binary, 2)",
            f"my_hex = {i['a1']}", "my_binary = to_binary(my_hex)", "result = to_hex(my_binary)",
            "print(result)"]


def _p33(i):
    return [f"n = {i['n']}", "total = (n - 2) * 180", "import math\nangle = math.radians(total)",
            "angle = round(angle, 2)", "print(angle)"]


def _p57(i):  # upstream lists a 6th output; the 5th input is a string holding the array
    return [f"my_array = {i['A']}",
            "best, current, start, best_range = my_array[0], 0, 0, (0, 1)\n"
            "for end, value in enumerate(my_array):\n"
            "    if current <= 0:\n        start, current = end, value\n    else:\n        current += value\n"
            "    if current > best or end == 0:\n        best, best_range = current, (start, end + 1)\n"
            "max_subarray = my_array[best_range[0]:best_range[1]]",
            "sum_subarry = sum(max_subarray)", "print(sum_subarry)"]


def _p61(i):  # numpy; two inputs are 1-d, whose "diagonal" the golds take as the first element
    return [f"my_matrix = np.atleast_2d({i['A']})", "diag_elements = np.diagonal(my_matrix)",
            "print(diag_elements.sum())"]


def _p63(i):
    return [f"a = np.array({i['A']})", f"b = np.array({i['B']})", "result = a @ b", "print(result.sum())"]


def _p65(i):
    return [f"my_numbers = {i['A']}",
            "import math\ndef exp_list(values, shift=0.0):\n    return [math.exp(v - shift) for v in values]",
            "def sum_list(values):\n    return sum(values)",
            "def log_number(x):\n    return math.log(x)",
            "peak = max(my_numbers)\nprint(peak + log_number(sum_list(exp_list(my_numbers, peak))))"]


def _p84(i):  # numpy; some golds are ints while the program prints a float
    return [f"X = np.array({i['X']})", "Xn = X @ X.T", "np.fill_diagonal(Xn, 0)", "print(float(Xn.max()))"]


def _p88(i):  # numpy; the printed value is a 2-d array
    return [f"x = {i['x']}", "vocab = sorted(set(x))", "v2i = {v: k for k, v in enumerate(vocab)}",
            "features = np.zeros((len(x), len(vocab)), dtype=int)",
            "for row, value in enumerate(x):\n    features[row, v2i[value]] = 1", "print(features)"]


def _p109(i):  # gold is the *string* "True"/"False"
    return [f"my_array = {i['A']}", "my_sum = sum(my_array)",
            "def has_half_subset(values):\n    reachable = {0}\n    for v in values:\n"
            "        reachable |= {r + v for r in reachable}\n    return str(my_sum / 2 in reachable)",
            "print(has_half_subset(my_array))"]


def _p115(i):  # numpy scalars; some golds are ints
    return [f"my_array = {i['A']}", "mean_number = np.mean(my_array)", "median_number = np.median(my_array)",
            "print(mean_number - median_number)"]


def _p41(i):  # gold None for two cases
    return ["def count_values(values):\n    counts = {}\n    for v in values:\n"
            "        counts[v] = counts.get(v, 0) + 1\n    return counts",
            f"counts = count_values({i['lst']})",
            f"top = max(counts, key=counts.get) if counts else None\n"
            f"print(top if top is not None and counts[top] > len({i['lst']}) / 2 else None)"]


def _p89(i):  # dict golds; case 2 wants type names ("int"), not str(type) ("<class 'int'>")
    return [f"x = {i['x']}", f"mapped = list(map({i['fun']}, x))",
            "mapped = [m.__name__ if isinstance(m, type) else str(m) for m in mapped]",
            "results = {key: [] for key in mapped}",
            "for key, value in zip(mapped, x):\n    results[key].append(value)", "print(results)"]


SOLUTIONS = {"1": _p1, "2": _p2, "3": _p3, "4": _p4, "6": _p6, "10": _p10, "33": _p33, "57": _p57,
             "61": _p61, "63": _p63, "65": _p65, "84": _p84, "88": _p88, "109": _p109, "115": _p115}
DEFECT_SOLUTIONS = {"41": _p41, "89": _p89}
BROKEN_LAST_TURN = "print('<broken>')"
