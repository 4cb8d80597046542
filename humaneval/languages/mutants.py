"""Known-wrong completions for every HumanEval-X language: the canonical solution, its result changed.

MultiPL-E's --testing idea, done without knowing each problem's types: the completion closes the
prompt's function with a body that calls the canonical solution (re-declared under another name, from
the prompt's own signature) and returns a changed copy of its result: booleans negated, numbers + 1,
strings + "?", lists one element longer (Go: first element changed, as some Go tests compare only a
prefix); other types get an empty/zero/null value. So the sample
compiles (where the canonical does) and terminates, and only the test's checks can catch it.
"""
from __future__ import annotations

import re

from humaneval import mutants as python_mutants

REAL = "humaneval_real"
CPP_WRONG = """auto humaneval_wrong = [](auto v) {
    using T = decltype(v);
    if constexpr (std::is_same_v<T, bool>) return (T)!v;
    else if constexpr (std::is_arithmetic_v<T>) return (T)(v + 1);
    else if constexpr (std::is_same_v<T, std::string>) return (T)(v + "?");
    else if constexpr (std::is_same_v<T, boost::any>) return (T)std::string("wrong");  // has no value_type
    else if constexpr (std::is_same_v<T, std::vector<typename T::value_type>>) { v.push_back(typename T::value_type{}); return v; }
    else return T{};
};
"""
JAVA_WRONG = """
    @SuppressWarnings("unchecked")
    static <T> T humanevalWrong(T v) {
        Object o = v;
        if (o instanceof Boolean) return (T) (Object) !((Boolean) o);
        if (o instanceof Integer) return (T) (Object) ((Integer) o + 1);
        if (o instanceof Long) return (T) (Object) ((Long) o + 1);
        if (o instanceof Double) return (T) (Object) ((Double) o + 1);
        if (o instanceof String) return (T) (Object) (o + "?");
        if (o instanceof List) { List<Object> l = new ArrayList<>((List<Object>) o); l.add(null); return (T) l; }
        return null;
    }
"""
JS_WRONG = """  function humanevalWrong(v) {
    if (typeof v === 'boolean') return !v;
    if (typeof v === 'number') return v + 1;
    if (typeof v === 'string') return v + '?';
    if (Array.isArray(v)) return [...v, null];
    return 'wrong';
  }
"""
GO_WRONG = """func humanevalWrong[T any](v T) T {
    var out any = v
    switch x := out.(type) {
    case bool:
        out = !x
    case int:
        out = x + 1
    case float64:
        out = x + 1
    case string:
        out = x + "?"
    case []int:  // the first element changed: some tests compare only a prefix (Go/33, Go/37)
        y := append([]int{}, x...)
        if len(y) == 0 { y = append(y, 0) } else { y[0]++ }
        out = y
    case []string:
        y := append([]string{}, x...)
        if len(y) == 0 { y = append(y, "") } else { y[0] += "?" }
        out = y
    case []float64:
        y := append([]float64{}, x...)
        if len(y) == 0 { y = append(y, 0) } else { y[0]++ }
        out = y
    default:
        var zero T
        return zero
    }
    return out.(T)
}
"""
RUST_WRONG = """    trait HumanevalWrong { fn humaneval_wrong(self) -> Self; }
    impl HumanevalWrong for bool { fn humaneval_wrong(self) -> Self { !self } }
    macro_rules! numbers { ($($t:ty),*) => { $(impl HumanevalWrong for $t { fn humaneval_wrong(self) -> Self { self + (1 as $t) } })* } }
    numbers!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64);
    impl HumanevalWrong for String { fn humaneval_wrong(self) -> Self { self + "?" } }
    impl HumanevalWrong for char { fn humaneval_wrong(self) -> Self { if self == 'a' { 'b' } else { 'a' } } }
    impl<'a> HumanevalWrong for &'a str { fn humaneval_wrong(self) -> Self { if self == "?" { "!" } else { "?" } } }
    impl<T: Default> HumanevalWrong for Vec<T> { fn humaneval_wrong(mut self) -> Self { self.push(T::default()); self } }
    impl<T> HumanevalWrong for Option<T> { fn humaneval_wrong(self) -> Self { match self { Some(_) => None, None => panic!("wrong") } } }
    impl<A: HumanevalWrong, B> HumanevalWrong for (A, B) { fn humaneval_wrong(self) -> Self { (self.0.humaneval_wrong(), self.1) } }
    impl<A: HumanevalWrong, B, C> HumanevalWrong for (A, B, C) { fn humaneval_wrong(self) -> Self { (self.0.humaneval_wrong(), self.1, self.2) } }
"""


def split_params(params: str) -> list[str]:
    """Top-level comma split (commas inside <...>, (...), [...] stay)."""
    parts, depth, current = [], 0, ""
    for ch in params:
        depth += ch in "<([{"
        depth -= ch in ">)]}"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return [p.strip() for p in parts + [current] if p.strip()]


def signature_line(prompt: str) -> str:
    """The entry point's signature: the prompt's last line that opens a function body (a doc comment may
    follow it, e.g. CPP/10; CPP/38's declaration field holds part of a body, so the prompt is used)."""
    pattern = r"^\s*(?!(if|for|while|switch|else|return)\b)\S.*\(.*\).*\{\s*$"
    lines = [line for line in prompt.splitlines() if re.match(pattern, line)]
    if not lines:
        raise ValueError(f"no function signature in the prompt: {prompt[-200:]!r}")
    return lines[-1]


def c_like(prompt: str) -> tuple[str, str, list[str]]:
    """(signature text without the brace, function name, parameter names) for C++/Java/Go/Rust."""
    line = signature_line(prompt).rstrip().rstrip("{").rstrip()
    match = re.search(r"(\w+)\s*(<[^()]*>)?\s*\((.*)\)", line)
    if match is None:
        raise ValueError(f"no function signature in the prompt's last line: {line!r}")
    name, params = match.group(1), split_params(match.group(3))
    return line, name, params


def real_and_call(prompt: str, param_name) -> tuple[str, str]:
    """(the entry's signature renamed to REAL, the call REAL(args...)); param_name(param) -> its name."""
    line, name, params = c_like(prompt)
    real = line.replace(name + "(", f"{REAL}(", 1).replace(name + "<", f"{REAL}<", 1)
    return real, f"{REAL}({', '.join(param_name(p) for p in params)})"


def last_word(param: str) -> str:  # C++/Java: "vector<int> xs" -> xs
    return re.findall(r"\w+", param)[-1]


def wrong_cpp(problem: dict) -> str:
    real, call = real_and_call(problem["prompt"], last_word)
    return f"{real};\n{CPP_WRONG}return humaneval_wrong({call});\n}}\n{real}{{\n" + problem["canonical_solution"]


def wrong_java(problem: dict) -> str:
    real, call = real_and_call(problem["prompt"], last_word)
    return f"return humanevalWrong({call});\n}}\n{JAVA_WRONG}\n{real} {{\n" + problem["canonical_solution"]


def wrong_go(problem: dict) -> str:
    # Go: in "a, b int" the parts are "a" and "b int"; each starts with its name
    real, call = real_and_call(problem["prompt"], lambda p: p.split()[0])
    return f"return humanevalWrong({call})\n}}\n{GO_WRONG}\n{real} {{\n" + problem["canonical_solution"]


def wrong_rust(prompt: str, canonical: str) -> str:
    real, call = real_and_call(prompt, lambda p: p.split(":")[0].replace("mut ", "").strip())
    return f"\n{RUST_WRONG}\n    return {call}.humaneval_wrong();\n{real} {{\n" + canonical + "\n}\n"


def wrong_js(problem: dict) -> str:
    line = signature_line(problem["prompt"])
    match = re.search(r"\((.*)\)\s*=>\s*\{", line)
    if match is None:
        raise ValueError(f"no arrow function in the prompt's last line: {line!r}")
    params = match.group(1)
    names = [p.split("=")[0].strip() for p in split_params(params)]
    return (f"{JS_WRONG}  return humanevalWrong({REAL}({', '.join(names)}));\n  function {REAL}({params}) {{\n"
            + problem["canonical_solution"] + "\n}\n")


def wrong_ts(problem: dict) -> str:
    """TypeScript (translate_ts): the typed arrow signature; the wrapper returns `any` so tsc accepts it."""
    line = signature_line(problem["prompt"])
    match = re.search(r"\((.*)\)(\s*:[^=]*)?\s*=>\s*\{", line)
    if match is None:
        raise ValueError(f"no arrow function in the prompt's last line: {line!r}")
    params, result = match.group(1), match.group(2) or ""
    names = [p.split("=")[0].split(":")[0].rstrip("?").strip() for p in split_params(params)]
    wrong = JS_WRONG.replace("function humanevalWrong(v)", "function humanevalWrong(v: any): any")
    return (f"{wrong}  return humanevalWrong({REAL}({', '.join(names)}));\n  function {REAL}({params}){result} {{\n"
            + problem["canonical_solution"] + "\n}\n")


def wrong_completion(language: str, problem: dict) -> str:
    if language == "python":
        return python_mutants.wrong_completion({**problem, "entry_point": _python_entry(problem)}, 0)
    if language == "rust":
        return wrong_rust(problem["prompt"] + problem["declaration"], problem["canonical_solution"])
    if language == "c":  # a C++ completion for c.reference_job: the C++ canonical's broken variant (translate_c)
        return wrong_cpp({"prompt": problem["reference"], "canonical_solution": problem["reference_solution"]})
    return {"cpp": wrong_cpp, "java": wrong_java, "go": wrong_go, "js": wrong_js, "ts": wrong_ts}[language](problem)


def _python_entry(problem: dict) -> str:
    return re.findall(r"^def (\w+)\(", problem["prompt"], flags=re.M)[-1]
