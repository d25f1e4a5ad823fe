"""Cross-checks the goldens against Python's Jinja2 set up the way transformers' apply_chat_template sets it up
(ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, raise_exception, strftime_now).

    python3 check-goldens-jinja2.py     # needs jinja2 >= 3.1; prints one line per template, exits 1 on a mismatch
"""
import json
import sys
from datetime import datetime
from pathlib import Path

from jinja2.exceptions import TemplateError
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def main():
    failures = 0
    for golden_file in sorted((RESOURCES / "chat" / "goldens").glob("*.json")):
        golden = json.loads(golden_file.read_text(encoding="utf-8"))
        source = RESOURCES / golden["source"]
        if source.suffix == ".json":
            text = json.loads(source.read_text(encoding="utf-8"))["chat_template"]
        else:
            text = source.read_text(encoding="utf-8")
        now = datetime.fromisoformat(golden["now"].replace("Z", "+00:00"))
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
        env.filters["tojson"] = tojson
        env.globals["raise_exception"] = raise_exception
        env.globals["strftime_now"] = lambda fmt: now.strftime(fmt)
        template = env.from_string(text)
        ok = 0
        for case in golden["cases"]:
            try:
                got = {"prompt": template.render(messages=case["messages"], tools=None, documents=None,
                                                 add_generation_prompt=True, **golden["special_tokens"])}
            except TemplateError as e:
                got = {"error": e.message}
            want = {k: case[k] for k in ("prompt", "error") if k in case}
            if got == want:
                ok += 1
            else:
                failures += 1
                print(f"MISMATCH {golden['template']} {case['name']}:\n  jinja2: {got!r}\n  golden: {want!r}")
        print(f"{golden['template']}: {ok}/{len(golden['cases'])} cases equal under Jinja2")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
