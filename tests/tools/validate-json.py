#!/usr/bin/env python3
"""Validates a JSON document against one of sshcert's JSON Schemas (draft 2020-12).

usage: validate-json.py SCHEMA FILE...  FILE may be - for stdin
       validate-json.py --check SCHEMA   checks that SCHEMA itself is a valid draft 2020-12 schema

Exit 0 when every FILE is valid, 1 when one is not (every error is printed with the file and
the path inside it), 2 on usage errors, an unreadable schema or a missing jsonschema module
(Debian: python3-jsonschema). Tests must not skip when the module is missing: the exit status
says so and the test fails.
"""
import json
import sys


def load(path):
    if path == "-":
        return json.load(sys.stdin)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main(argv):
    try:
        from jsonschema import Draft202012Validator, FormatChecker
        from jsonschema.exceptions import SchemaError
    except ImportError as e:
        print(f"validate-json: the jsonschema module is missing ({e}); "
              "install python3-jsonschema", file=sys.stderr)
        return 2
    check_only = len(argv) > 1 and argv[1] == "--check"
    if len(argv) < 3 or (check_only and len(argv) != 3):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    schema_path = argv[2] if check_only else argv[1]
    try:
        schema = load(schema_path)
    except (OSError, ValueError) as e:
        print(f"validate-json: {schema_path}: {e}", file=sys.stderr)
        return 2
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as e:
        print(f"validate-json: {schema_path} is not a valid draft 2020-12 schema: {e.message}",
              file=sys.stderr)
        return 1
    if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
        print(f"validate-json: {schema_path} does not declare draft 2020-12", file=sys.stderr)
        return 1
    if check_only:
        return 0
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    rc = 0
    for path in argv[2:]:
        try:
            doc = load(path)
        except (OSError, ValueError) as e:
            print(f"validate-json: {path}: not JSON: {e}", file=sys.stderr)
            rc = 1
            continue
        errors = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
        for e in errors:
            where = "/".join(str(p) for p in e.absolute_path) or "(root)"
            print(f"validate-json: {path}: {where}: {e.message}", file=sys.stderr)
        if errors:
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
