#!/usr/bin/env python3
"""Transcribes DCLM's own mapper tests (github.com/mlfoundations/dclm, tests/baselines/mappers) into data our tests
replay: tests/Dclm.Data.Tests/fixtures/dclm/mapper-cases.jsonl, one JSON object per assertion with the source file
and line, the mapper, its arguments, the input page and DCLM's expected result.

DCLM's mapper code is not run (nor copied): every mapper name the tests import is replaced by a recorder, and each
test function is executed as written. A recorder returns a placeholder whose comparison (`== [page]`, `== []`,
`== [{CONTENT: ...}]`, `result[0]['word_count'] == 9`, `len(...) == 4`) records the expected value and succeeds, so the
assertions that follow still run; when a modifier's expected page is recorded, the test's page takes that content,
as DCLM's in-place modifiers leave it. Calls inside `pytest.raises` (bad argument types, missing keys) are not
recorded: C# types rule them out.

    python3 scripts/transcribe-dclm-mapper-tests.py /work/.mirror/mlfoundations+dclm/repo   # a clone of mlfoundations/dclm
"""
import ast
import builtins
import contextlib
import copy
import json
import os
import subprocess
import sys
import types

repo = sys.argv[1]
commit = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Dclm.Data.Tests", "fixtures", "dclm", "mapper-cases.jsonl")


def show(path):
    return subprocess.run(["git", "-C", repo, "show", f"HEAD:{path}"], capture_output=True, text=True, check=True).stdout


SOURCES = ["baselines/mappers/filters/content_filters.py", "baselines/mappers/filters/metadata_filters.py",
           "baselines/mappers/modifiers.py", "baselines/mappers/core_utils.py", "baselines/mappers/enrichers/enrichers.py"]
TESTS = {
    "tests/baselines/mappers/filters/test_content_filters.py": "baselines.mappers.filters",
    "tests/baselines/mappers/filters/test_metadata_filters.py": "baselines.mappers.filters",
    "tests/baselines/mappers/modifiers/test_modifiers.py": "baselines.mappers.modifiers",
    "tests/baselines/mappers/test_core_utils.py": "baselines.mappers.core_utils",
    "tests/baselines/mappers/enrichers/test_enrichers.py": "baselines.mappers.enrichers.enrichers",
}

# Mapper names per module, and which are factories (@factory_function: configured first, then called with a page).
names, factories = {}, set()
for source in SOURCES:
    tree = ast.parse(show(source))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            names.setdefault(source, []).append(node.name)
            if any(isinstance(d, ast.Name) and d.id == "factory_function" for d in node.decorator_list):
                factories.add(node.name)

# The mappers DCLM-Baseline uses (and the helpers they rest on); cases of other mappers are only counted.
SUPPORTED = {
    "page_length_filter", "word_length_filter", "symbol_ratio_filter", "bullet_count_filter", "ellipsis_count_filter",
    "alphabetic_word_ratio_filter", "stop_word_filter", "repetition_filter", "massive_web_repetition_filters",
    "word_removal_ratio_filter", "url_substring_filter", "language_filter", "quality_filter",
    "uppercase_ratio_line_modifier", "numeric_ratio_line_modifier", "counter_line_modifier", "line_length_modifier",
    "substring_line_modifier", "url_removal_modifier", "newline_removal_modifier",
    "split_paragraphs", "split_words", "word_counter_enricher",
}

CONTENT, URL = "text", "url"
cases = []
state = {"raises": 0, "file": None}


def caller_line():
    frame = sys._getframe(2)
    while frame and frame.f_code.co_filename != state["file"]:
        frame = frame.f_back
    return frame.f_lineno if frame else None


def plain(value):
    """JSON-able copy of an argument (pages are recorded separately)."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, float) and value == float("inf"):
        return "inf"
    return value


class Result:
    """What a recorded call returns: comparisons record the expectation and succeed."""

    def __init__(self, case, page, path=()):
        self.case, self.page, self.path = case, page, path

    def __getitem__(self, key):
        return Result(self.case, self.page, self.path + (key,))

    def __eq__(self, other):
        case = dict(self.case)
        if self.path:
            case["path"] = list(self.path)
            case["expected"] = {"value": plain(other)}
        elif isinstance(other, list) and len(other) == 0:
            case["expected"] = {"kept": False}
        elif isinstance(other, list) and len(other) == 1 and other[0] is self.page:
            case["expected"] = {"kept": True}
        elif isinstance(other, list) and len(other) == 1 and isinstance(other[0], dict) and CONTENT in other[0]:
            case["expected"] = {"kept": True, "text": plain(other[0][CONTENT])}
            if isinstance(self.page, dict):
                self.page[CONTENT] = copy.deepcopy(other[0][CONTENT])  # the in-place modification DCLM makes
        else:
            case["expected"] = {"value": plain(other)}
        cases.append(case)
        return True

    __hash__ = None


class Length:
    def __init__(self, result):
        self.result = result

    def __eq__(self, other):
        case = dict(self.result.case)
        case["expected"] = {"length": other}
        cases.append(case)
        return True


def recording_len(value):
    return Length(value) if isinstance(value, Result) else builtins.len(value)


def recorder(name):
    def record(args, kwargs, line):
        page = next((a for a in args if isinstance(a, dict)), None)
        rest = [plain(a) for a in args if a is not page]
        case = {"source": f"{state['short']}:{line}", "mapper": name, "args": rest, "kwargs": plain(kwargs)}
        if page is not None:
            case["page"] = plain(page)
        return case, page

    if name in factories:
        def configure(*config_args, **config_kwargs):
            def apply(*args, **kwargs):
                line = caller_line()
                if state["raises"]:
                    return None
                page = next((a for a in args if isinstance(a, dict)), None)
                case = {"source": f"{state['short']}:{line}", "mapper": name, "args": plain(list(config_args)), "kwargs": plain(config_kwargs), "page": plain(page)}
                extra = [plain(a) for a in args if a is not page]
                if extra or kwargs:
                    case["call_args"], case["call_kwargs"] = extra, plain(kwargs)
                return Result(case, page)
            return apply
        return configure

    def call(*args, **kwargs):
        line = caller_line()
        if state["raises"]:
            return None
        if name == "language_filter" and not isinstance(args[1] if len(args) > 1 else kwargs.get("keep_languages"), list):
            raise TypeError("The keep_languages argument must be a list.")  # DCLM's own argument check
        case, page = record(args, kwargs, line)
        return Result(case, page)
    return call


# A stand-in for pytest: raises() swallows (and stops recording), warns() and marks pass through.
fake_pytest = types.ModuleType("pytest")


@contextlib.contextmanager
def raises(*_args, **_kwargs):
    state["raises"] += 1
    try:
        yield
    except BaseException:
        pass
    finally:
        state["raises"] -= 1


@contextlib.contextmanager
def warns(*_args, **_kwargs):
    yield


fake_pytest.raises = raises
fake_pytest.warns = warns
fake_pytest.mark = types.SimpleNamespace(timeout=lambda *a, **k: (lambda f: f), skip=lambda *a, **k: (lambda f: f))
fake_pytest.main = lambda *a, **k: None
sys.modules["pytest"] = fake_pytest

modules = {}
for dotted in ["baselines", "baselines.core", "baselines.core.constants", "baselines.mappers", "baselines.mappers.filters",
               "baselines.mappers.modifiers", "baselines.mappers.core_utils", "baselines.mappers.enrichers",
               "baselines.mappers.enrichers.enrichers"]:
    modules[dotted] = sys.modules[dotted] = types.ModuleType(dotted)
modules["baselines.core.constants"].CONTENT = CONTENT
modules["baselines.core.constants"].URL = URL
exports = {
    "baselines.mappers.filters": names[SOURCES[0]] + names[SOURCES[1]],
    "baselines.mappers.modifiers": names[SOURCES[2]],
    "baselines.mappers.core_utils": names[SOURCES[3]],
    "baselines.mappers.enrichers.enrichers": names[SOURCES[4]],
}
for dotted, functions in exports.items():
    module = modules[dotted]
    module.CONTENT, module.URL = CONTENT, URL
    for function in functions:
        setattr(module, function, recorder(function))
    module.__all__ = functions + ["CONTENT", "URL"]

for path, _ in TESTS.items():
    source = show(path)
    state["file"] = "<dclm>/" + path
    state["short"] = path
    scope = {"__name__": "dclm_test", "len": recording_len}
    exec(compile(source, state["file"], "exec"), scope)
    for name, function in list(scope.items()):
        if name.startswith("test_") and callable(function):
            try:
                function()
            except Exception as error:  # a test that computes with results (sums, loops over them) cannot be replayed
                print(f"  {path}::{name} stopped: {type(error).__name__}: {error}", file=sys.stderr)

def serializable(case):
    try:
        json.dumps(case)
        return True
    except TypeError:
        return False


unsupported = {}
for case in cases:
    if case["mapper"] not in SUPPORTED or not serializable(case):
        unsupported[case["mapper"]] = unsupported.get(case["mapper"], 0) + 1
total = len(cases)
kept, seen = [], set()
for case in cases:
    key = json.dumps(case, sort_keys=True) if case["mapper"] in SUPPORTED and serializable(case) else None
    if key is not None and key not in seen:  # loops such as `for _ in range(100)` repeat identical cases
        seen.add(key)
        kept.append(case)
cases = kept
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w", encoding="utf-8") as f:
    f.write(json.dumps({"dclm_commit": commit, "generated_by": "scripts/transcribe-dclm-mapper-tests.py", "cases": len(cases)}) + "\n")
    for case in cases:
        f.write(json.dumps(case, ensure_ascii=False) + "\n")
by_mapper = {}
for case in cases:
    by_mapper[case["mapper"]] = by_mapper.get(case["mapper"], 0) + 1
print(f"{total} assertions recorded, {len(cases)} of DCLM-Baseline's mappers written; not transcribed:")
for mapper, count in sorted(unsupported.items()):
    print(f"  {mapper:40} {count}")
print("written:")
for mapper, count in sorted(by_mapper.items()):
    print(f"  {mapper:40} {count}")
