#!/usr/bin/python3
"""docs/rules.schema.json agrees with graft's rule loader.

Usage: check_schema.py GRAFT SOURCE_DIR

Checks that the schema is draft 2020-12 JSON, validates every rules.d/*.yaml
file and every ```yaml example of docs/rules.md against it (with a small
validator for the keywords the schema uses), and that a file using every
key the schema allows loads in `graft rules` while files the schema rejects
(an unknown key, a wrong type) do not.  Exits 77 (skipped) without PyYAML.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    sys.exit(77)

TYPES = {
    "object": dict, "array": list, "string": str, "boolean": bool,
    "integer": int, "number": (int, float),
}


def is_type(value, name):
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, TYPES[name])


def errors(schema, value, root, path="$"):
    """The violations of value against schema (the keywords rules.schema.json uses)."""
    if "$ref" in schema:
        node = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        return errors(node, value, root, path)
    out = []
    if "type" in schema and not is_type(value, schema["type"]):
        return [f"{path}: not of type {schema['type']}"]
    if "const" in schema and value != schema["const"]:
        out.append(f"{path}: not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: not one of {schema['enum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            out.append(f"{path}: does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0):
            out.append(f"{path}: too short")
    if is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"{path}: below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            out.append(f"{path}: above {schema['maximum']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                out.append(f"{path}: missing {key}")
        for key, item in value.items():
            if key in props:
                out += errors(props[key], item, root, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                out.append(f"{path}: unknown key {key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            out += errors(schema["items"], item, root, f"{path}[{i}]")
    if "oneOf" in schema:
        fits = [s for s in schema["oneOf"] if not errors(s, value, root, path)]
        if len(fits) != 1:
            out.append(f"{path}: matches {len(fits)} of oneOf")
    if "if" in schema and not errors(schema["if"], value, root, path):
        out += errors(schema.get("then", {}), value, root, path)
    return out


def graft_accepts(graft, text):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(text)
    try:
        r = subprocess.run([graft, "rules", f.name], capture_output=True, text=True)
        return r.returncode == 0, r.stderr
    finally:
        os.unlink(f.name)


def main():
    graft, src = sys.argv[1], sys.argv[2]
    with open(os.path.join(src, "docs", "rules.schema.json")) as f:
        schema = json.load(f)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    failures = []

    files = sorted(glob.glob(os.path.join(src, "rules.d", "*.yaml")))
    with open(os.path.join(src, "docs", "rules.md")) as f:
        examples = re.findall(r"```yaml\n(.*?)```", f.read(), re.S)
    docs = [(f, open(f).read()) for f in files] + [(f"rules.md example {i + 1}", e) for i, e in enumerate(examples)]
    for name, text in docs:
        for e in errors(schema, yaml.safe_load(text), schema):
            failures.append(f"{name}: {e}")

    every_key = (
        "version: 1\nrules:\n  - name: every_key\n    doc: all keys\n    phase: 1\n    benefit: 2\n"
        "    exact: false\n    tolerance: 0.01\n    when: cheaper\n    allow_escape: true\n"
        "    pattern: y = Relu($x)\n    where: [is_const($x)]\n    replace: y = $x\n")
    rule_keys = set(schema["$defs"]["rule"]["properties"])
    used = set(yaml.safe_load(every_key)["rules"][0])
    if used != rule_keys:
        failures.append(f"the every-key file uses {sorted(used)}, the schema allows {sorted(rule_keys)}")
    if errors(schema, yaml.safe_load(every_key), schema):
        failures.append("the schema rejects the every-key file")
    ok, err = graft_accepts(graft, every_key)
    if not ok:
        failures.append("graft rejects the every-key file: " + err)

    every_func = (
        "functions:\n  - name: graft::EveryKey\n    doc: all keys\n    inputs: [x]\n    outputs: [y]\n"
        "    attributes: [alpha, \"beta = 0.5\"]\n    body: y = LeakyRelu($x) {alpha = @alpha}\n"
        "rules:\n  - name: uses_it\n    pattern: y = Relu($x)\n    replace: y = graft::EveryKey($x)\n")
    func_keys = set(schema["$defs"]["function"]["properties"])
    used = set(yaml.safe_load(every_func)["functions"][0])
    if used != func_keys:
        failures.append(f"the every-key function uses {sorted(used)}, the schema allows {sorted(func_keys)}")
    if errors(schema, yaml.safe_load(every_func), schema):
        failures.append("the schema rejects the every-key function")
    ok, err = graft_accepts(graft, every_func)
    if not ok:
        failures.append("graft rejects the every-key function: " + err)

    rejected = [
        "functions:\n  - name: graft::F\n    input: [x]\n    outputs: [x]\n    body: y = Relu($x)\nrules: []\n",
        "functions:\n  - name: graft::F\n    inputs: x\n    outputs: [y]\n    body: y = Relu($x)\nrules: []\n",
        "functions:\n  - name: graft::F\n    inputs: [x]\n    outputs: [y]\nrules: []\n",
        "functions:\n  - name: graft::9F\n    inputs: [x]\n    outputs: [y]\n    body: y = Relu($x)\nrules: []\n",
        "rules:\n  - name: a\n    patern: y = Relu($x)\n    pattern: y = Relu($x)\n    replace: y = $x\n",
        "rules:\n  - name: a\n    phase: high\n    pattern: y = Relu($x)\n    replace: y = $x\n",
        "rules:\n  - name: a\n    exact: false\n    pattern: y = Relu($x)\n    replace: y = $x\n",
        "rules:\n  - name: a\n    when: faster\n    pattern: y = Relu($x)\n    replace: y = $x\n",
        "rules:\n  - name: 9a\n    pattern: y = Relu($x)\n    replace: y = $x\n",
        "rules:\n  - name: a\n    pattern: y = Relu($x)\n",
        "version: 2\nrules: []\n",
        "rulez: []\n",
    ]
    for text in rejected:
        if not errors(schema, yaml.safe_load(text), schema):
            failures.append("the schema accepts:\n" + text)
        if graft_accepts(graft, text)[0]:
            failures.append("graft accepts:\n" + text)

    for f in failures:
        print(f)
    print(f"{len(docs)} files and examples checked, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
