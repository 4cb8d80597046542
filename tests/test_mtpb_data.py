"""MTPB problem loading/validation, path resolution, prompt rendering, program assembly and the AST rewrite."""
import json

import pytest

from mtpb import data
from mtpb.program import PREFIX, build_program, rewrite_last_print


@pytest.fixture(scope="module")
def problems(shared_data):
    return data.load(shared_data / "mtpb.jsonl")


def good_problem(**changes):
    problem = {"id": "7", "name": "n", "description": "d", "category": "math",
               "prompts": ["Set x to {a}.", "Print x in the format \"{{:.1f}}\"."],
               "inputs": [{"a": i} for i in range(5)], "outputs": list(range(5)), "max_gen_length": 128}
    problem.update(changes)
    return {k: v for k, v in problem.items() if v is not ...}


def test_real_file_loads(problems):
    assert len(problems) == 115 and list(problems)[:3] == ["1", "2", "3"]
    assert all(len(p.inputs) == len(p.outputs) == 5 for p in problems.values())
    defaults = [pid for pid, p in problems.items() if p.max_gen_length == data.DEFAULT_MAX_GEN_LENGTH]
    assert {"39", "40", "41", "42", "43", "44", "45"} <= set(defaults)
    # upstream quirks tolerated and recorded: problem 57 has a 6th output and an unused input key
    assert problems["57"].outputs == (1, 5, 1, 2, 10010)
    assert any("surplus" in n for n in problems["57"].notes) and any("'B'" in n for n in problems["57"].notes)
    assert problems["38"].dataset_files == ("datasets/mlbootcamp5_train.csv",)
    assert problems["46"].dataset_files == ("datasets/melb_data.csv",)


def test_render_fills_inputs_and_keeps_escaped_braces(problems):
    rendered = problems["46"].render(0)
    assert rendered[-1].endswith('Use the format "{:.1f} {:.1f}".')
    assert "train set size of 80%, test set size of 20%" in rendered[5]
    assert problems["1"].render(3)[0] == 'Assign the string "Jerry jERRY JeRRRY" to a variable named "my_string".'


def test_placeholders():
    assert data.placeholders("a {x} {{y}} {z[0]} {w.real:>4}") == {"x", "z", "w"}


@pytest.mark.parametrize("changes, message", [
    ({"prompts": ...}, "problem 7: missing field 'prompts'"),
    ({"category": 3}, "problem 7: field 'category' must be a string"),
    ({"prompts": []}, "field 'prompts' must be a non-empty list"),
    ({"prompts": ["{a"]}, "field 'prompts[0]' is not a valid format template"),
    ({"prompts": ["{} and {a}"]}, "field 'prompts[0]' has a positional placeholder"),
    ({"inputs": [{"a": 1}] * 4}, "field 'inputs' must be a list of 5 dicts"),
    ({"outputs": [1, 2]}, "field 'outputs' must be a list of 5 gold values"),
    ({"inputs": [{"a": 1}] * 4 + [{"b": 1}]}, "field 'inputs[4]' lacks key(s) ['a']"),
    ({"inputs": [{"a": 1}] * 4 + [[1]]}, "field 'inputs[4]' must be a dict"),
    ({"prompts": ["{a:d}"], "inputs": [{"a": "s"}] * 5}, "field 'prompts' cannot be filled with inputs[0]"),
    ({"max_gen_length": 0}, "field 'max_gen_length' must be a positive integer"),
])
def test_invalid_problem_names_line_id_and_field(tmp_path, changes, message):
    path = tmp_path / "mtpb.jsonl"
    path.write_text(json.dumps(good_problem(id="6")) + "\n" + json.dumps(good_problem(**changes)) + "\n")
    with pytest.raises(ValueError) as err:
        data.load(path)
    assert f"{path} line 2: " in str(err.value) and message in str(err.value)


def test_invalid_file_level_errors(tmp_path):
    path = tmp_path / "mtpb.jsonl"
    path.write_text(json.dumps(good_problem()) + "\n{not json\n")
    with pytest.raises(ValueError, match=r"line 2: malformed JSON"):
        data.load(path)
    path.write_text(json.dumps(good_problem()) + "\n" + json.dumps(good_problem()) + "\n")
    with pytest.raises(ValueError, match=r"line 2: problem 7: duplicate id \(first on line 1\)"):
        data.load(path)
    path.write_text(json.dumps({"name": "x"}) + "\n")
    with pytest.raises(ValueError, match=r"line 1: missing field 'id'"):
        data.load(path)
    path.write_text("\n")
    with pytest.raises(ValueError, match="no problems found"):
        data.load(path)


def test_missing_max_gen_length_defaults_to_256():
    problem = data.parse(json.dumps(good_problem(max_gen_length=...)))["7"]
    assert problem.max_gen_length == 256 and problem.notes == ()


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "UPSTREAM_URL", "http://127.0.0.1:9/mtpb.jsonl")  # refused at once
    return tmp_path


def test_resolve_path_precedence(no_env, monkeypatch, shared_data):
    real = shared_data / "mtpb.jsonl"
    assert data.resolve_path(real) == real
    monkeypatch.setenv(data.ENV_VAR, str(real))
    assert data.resolve_path() == real
    with pytest.raises(FileNotFoundError, match="--problems: MTPB problems file not found"):
        data.resolve_path(no_env / "nope.jsonl")
    monkeypatch.setenv(data.ENV_VAR, str(no_env / "nope.jsonl"))
    with pytest.raises(FileNotFoundError, match=r"\$MTPB_PATH: MTPB problems file not found"):
        data.resolve_path()


def test_offline_without_a_file_says_how_to_provide_one(no_env):
    with pytest.raises(FileNotFoundError) as err:
        data.resolve_path()
    message = str(err.value)
    assert "Pass --problems PATH, set MTPB_PATH=PATH, or put mtpb.jsonl at" in message
    assert str(data.cache_path()) in message and not data.cache_path().exists()


def test_download_fills_the_cache_once(no_env, monkeypatch, shared_data):
    monkeypatch.setattr(data, "UPSTREAM_URL", (shared_data / "mtpb.jsonl").resolve().as_uri())
    path = data.resolve_path()
    assert path == data.cache_path() and len(data.load(path)) == 115
    monkeypatch.setattr(data, "UPSTREAM_URL", "http://127.0.0.1:9/x")
    assert data.resolve_path() == path  # served from the cache now


def test_download_rejects_an_invalid_file(no_env, monkeypatch):
    bad = no_env / "bad.jsonl"
    bad.write_text("<html>rate limited</html>\n")
    monkeypatch.setattr(data, "UPSTREAM_URL", bad.as_uri())
    with pytest.raises(FileNotFoundError):
        data.resolve_path()
    assert not data.cache_path().exists()


def test_build_program_is_the_reference_history():
    program = build_program(["Set x to 1.", "Print x."], ["x = 1", "print(x)"])
    assert program == "# Import libraries.\n\nimport numpy as np\n\n# Set x to 1.\nx = 1\n\n# Print x.\nprint(x)\n\n"
    assert program.startswith(PREFIX)
    with pytest.raises(ValueError, match="2 prompts but 1 completions"):
        build_program(["a", "b"], ["x"])


@pytest.mark.parametrize("code, expected", [
    ("def f(a):\n    return a ** 2\nf(2)", "def f(a):\n    return a ** 2\nprint(f(2))"),  # reference self-test
    ("df.groupby('gender')['alco'].value_counts()", "print(df.groupby('gender')['alco'].value_counts())"),
    ("x = 1\nx", "x = 1\nprint(x)"),
    ("print(1)\n# trailing comment", "print(1)\n# trailing comment"),  # already prints: untouched
    ("print_result(3)", "print_result(3)"),  # reference: any name starting with 'print' counts
    ("x = print(3)", "x = print(3)"),
    ("x = f()", "x = print(f())"),  # reference quirk: any last statement with a value is wrapped
    ("x += 1", "x += print(1)"),
    ("obj.print(3)", "print(obj.print(3))"),
    ("for i in range(3):\n    i", "for i in range(3):\n    i"),  # no value: unchanged
    ("x: int", "x: int"),  # unparse fails on print(None-node): unchanged, like the reference
    ("def broken(:\n", "def broken(:\n"),  # does not parse: unchanged
    ("# only a comment\n", "# only a comment\n"),  # empty body: unchanged
])
def test_rewrite_last_print(code, expected):
    assert rewrite_last_print(code) == expected
