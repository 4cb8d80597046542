"""HumanEval-C, derived from HumanEval-X C++: the problems whose types map to C.

Rule (docs/humaneval-x.md): the C++ entry point's signature becomes a C one; the docstring stays.
Types: int, long, long long, float, double, bool (stdbool.h) stay; `string` -> `const char *` (a
returned string is `char *`); `vector<T>` of a scalar -> `T *name, int name_size`; `vector<string>` ->
`const char **name, int name_size`; a returned vector is `T *` (or `char **`) with its length stored
through a last parameter `int *returned_size`. Returned memory is the sample's (malloc'ed, static, ...);
the harness never frees it. Anything else (nested vectors, maps, boost::any) does not map, nor does a
prompt with a C++ helper function the sample could call (its body is C++), nor an entry named after a
C library function: those problems are excluded, each with its reason (excluded.json).

The tests stay C++, unchanged: the harness (the problem's `test`) declares the sample's C function
under another C++ name bound to its symbol (`__asm__`), defines an adapter with the original C++
signature that converts arguments and results, and then has the original test call the adapter. So a
C test is exactly the C++ test. There is no C canonical solution: the harness is validated with
`reference` (the C++ canonical solution in a namespace) behind `reference_wrapper` (an extern "C"
function with the C signature converting the other way), i.e. through the same C interface.
"""
from __future__ import annotations

import re

from humaneval.languages.cpp import test_source
from humaneval.languages.launcher import DONE_MARKER
from humaneval.languages.mutants import signature_line, split_params

SCALARS = {"int": "int", "long": "long", "long long": "long long", "float": "float", "double": "double",
           "bool": "bool"}
LIBC_NAMES = {"strlen"}  # entry points whose name <string.h> etc. already declares
C_HEADERS = "stdio.h stdlib.h string.h math.h stdbool.h ctype.h limits.h".split()
HARNESS_HELPERS = """#include <cstring>
using namespace std;
static void humaneval_c_check(bool ok, const char *what) {
    if (!ok) { fprintf(stderr, "C sample returned %s\\n", what); abort(); }
}
static string humaneval_c_string(const char *s) { humaneval_c_check(s != NULL, "a NULL string"); return string(s); }
template <class T> static vector<T> humaneval_c_array(const T *p, int n) {
    humaneval_c_check(n >= 0 && (n == 0 || p != NULL), "a NULL array or a negative length");
    return vector<T>(p, p + n);
}
static vector<string> humaneval_c_strings(char **p, int n) {
    humaneval_c_check(n >= 0 && (n == 0 || p != NULL), "a NULL array or a negative length");
    vector<string> out;
    for (int i = 0; i < n; i++) out.push_back(humaneval_c_string(p[i]));
    return out;
}
"""
REFERENCE_HELPERS = """#include <cstring>
template <class T> static T *humaneval_ref_array(const std::vector<T> &v, int *size) {
    T *out = (T *)malloc(sizeof(T) * (v.size() + 1));
    for (size_t i = 0; i < v.size(); i++) out[i] = v[i];
    *size = (int)v.size();
    return out;
}
static char **humaneval_ref_strings(const std::vector<std::string> &v, int *size) {
    char **out = (char **)malloc(sizeof(char *) * (v.size() + 1));
    for (size_t i = 0; i < v.size(); i++) out[i] = strdup(v[i].c_str());
    *size = (int)v.size();
    return out;
}
"""
WRAPPER = """
#undef main
int main() {{ humaneval_x_test_main(); printf("%s\\n", "{marker}"); return 0; }}
"""


class Unmapped(ValueError):
    """A problem the C translation does not cover; the message is the reason recorded in excluded.json."""


def kind_of(cpp: str) -> tuple[str, str]:
    """(kind, C element type): scalar, string, array (of a scalar) or strings; Unmapped otherwise."""
    cpp = re.sub(r"\s+", " ", cpp.replace("const ", "").replace("&", "")).strip()
    if cpp in SCALARS:
        return "scalar", SCALARS[cpp]
    if cpp == "string":
        return "string", "char"
    match = re.fullmatch(r"vector ?< ?(.*?) ?>", cpp)
    if match and match.group(1) in SCALARS and match.group(1) != "bool":
        return "array", SCALARS[match.group(1)]
    if match and match.group(1) == "string":
        return "strings", "char *"
    raise Unmapped(f"type {cpp!r} has no C mapping")


def parse_signature(prompt: str) -> tuple[str, str, list[tuple[str, str]]]:
    """(C++ return type, name, [(C++ type, parameter name)]) of the entry point."""
    line = signature_line(prompt).rstrip().rstrip("{")
    match = re.match(r"^\s*(.*?)\s*\b(\w+)\s*\((.*)\)\s*$", line)
    if match is None:
        raise Unmapped(f"cannot parse the signature {line!r}")
    params = []
    for param in split_params(match.group(3)):
        typed = re.match(r"^(.*?)\s*(\w+)$", param.replace("&", " ").strip())  # CPP/52: "vector<int>l"
        params.append((typed.group(1).strip(), typed.group(2)))
    return match.group(1), match.group(2), params


def c_signature(ret: str, name: str, params, c_name: str | None = None) -> str:
    c_params = []
    for cpp, param in params:
        kind, element = kind_of(cpp)
        c_params += {"scalar": [f"{element} {param}"], "string": [f"const char *{param}"],
                     "array": [f"{element} *{param}", f"int {param}_size"],
                     "strings": [f"const char **{param}", f"int {param}_size"]}[kind]
    kind, element = kind_of(ret)
    c_ret = {"scalar": element, "string": "char *", "array": f"{element} *", "strings": "char **"}[kind]
    if kind in ("array", "strings"):
        c_params.append("int *returned_size")
    space = "" if c_ret.endswith("*") else " "
    return f"{c_ret}{space}{c_name or name}({', '.join(c_params)})"


def harness_adapter(ret: str, name: str, params) -> str:
    """C++: the sample's function bound by symbol, and an adapter with the original C++ signature."""
    entry = f"humaneval_c_{name}"
    lines = [f'extern "C" {c_signature(ret, name, params, entry)} __asm__("{name}");',
             f"{ret} {name}({', '.join(f'{cpp} {param}' for cpp, param in params)}) {{"]
    args = []
    for cpp, param in params:
        kind, _ = kind_of(cpp)
        if kind == "strings":
            lines.append(f"    vector<const char *> {param}_c;")
            lines.append(f"    for (auto &s : {param}) {param}_c.push_back(s.c_str());")
        args += {"scalar": [param], "string": [f"{param}.c_str()"],
                 "array": [f"{param}.data()", f"(int){param}.size()"],
                 "strings": [f"{param}_c.data()", f"(int){param}_c.size()"]}[kind]
    kind, _ = kind_of(ret)
    if kind in ("array", "strings"):
        lines.append("    int returned_size = -1;")
        args.append("&returned_size")
    call = f"{entry}({', '.join(args)})"
    lines.append({"scalar": f"    return {call};", "string": f"    return humaneval_c_string({call});",
                  "array": f"    auto r = {call};\n    return humaneval_c_array(r, returned_size);",
                  "strings": f"    auto r = {call};\n    return humaneval_c_strings(r, returned_size);"}[kind])
    return "\n".join(lines) + "\n}\n"


def reference_wrapper(ret: str, name: str, params) -> str:
    """C++: an extern "C" function with the C signature that calls humaneval_ref::name (the C++ canonical)."""
    args = []
    for cpp, param in params:
        kind, element = kind_of(cpp)
        args.append({"scalar": param, "string": f"std::string({param})",
                     "array": f"std::vector<{element}>({param}, {param} + {param}_size)",
                     "strings": f"std::vector<std::string>({param}, {param} + {param}_size)"}[kind])
    kind, _ = kind_of(ret)
    call = f"humaneval_ref::{name}({', '.join(args)})"
    body = {"scalar": f"return {call};", "string": f"return strdup({call}.c_str());",
            "array": f"return humaneval_ref_array({call}, returned_size);",
            "strings": f"return humaneval_ref_strings({call}, returned_size);"}[kind]
    return f'{REFERENCE_HELPERS}extern "C" {c_signature(ret, name, params)} {{\n    {body}\n}}\n'


def c_prompt(cpp_prompt: str, signature: str) -> str:
    """The C++ prompt with its includes and `using namespace std;` replaced and the entry's signature in C."""
    line = signature_line(cpp_prompt)
    head, _, tail = cpp_prompt.rpartition(line)
    head = "".join(text for text in head.splitlines(keepends=True)
                   if not re.match(r"\s*(#include|using namespace)", text))
    includes = "".join(f"#include <{header}>\n" for header in C_HEADERS)
    return head + includes + signature + "{" + tail


def translate_problem(cpp: dict, marker: str) -> dict:
    ret, name, params = parse_signature(cpp["prompt"])
    if name in LIBC_NAMES:
        raise Unmapped(f"the entry point {name}() is a C library function")
    helpers = [line for line in cpp["prompt"].splitlines()
               if re.match(r"^\s*(?!(if|for|while|switch|else|return)\b)\S.*\(.*\).*\{\s*$", line)]
    if len(helpers) > 1:
        raise Unmapped(f"the prompt defines a C++ helper function ({helpers[0].strip()})")
    signature = c_signature(ret, name, params)  # raises Unmapped for types without a C mapping
    test = (HARNESS_HELPERS + harness_adapter(ret, name, params) + "#define main humaneval_x_test_main\n"
            + test_source(cpp) + WRAPPER.format(marker=marker))
    number = cpp["task_id"].split("/")[1]
    return {"task_id": f"C/{number}", "prompt": c_prompt(cpp["prompt"], signature), "test": test,
            "reference": cpp["prompt"], "reference_solution": cpp["canonical_solution"],
            "reference_wrapper": reference_wrapper(ret, name, params)}


def translate(cpp_problems: dict) -> tuple[list[dict], dict[str, str]]:
    """(C problems, {excluded C++ task id: reason})."""
    problems, excluded = [], {}
    for task_id, cpp in cpp_problems.items():
        try:
            problems.append(translate_problem(cpp, DONE_MARKER))
        except Unmapped as reason:
            excluded[task_id] = str(reason)
    return problems, excluded
