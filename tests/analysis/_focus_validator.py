"""Run the FinOps Foundation's FOCUS validator on a CSV file and print its verdicts as JSON.

Run by tests/analysis/test_focus.py in an interpreter that has ``focus-validator``
(it needs Python >= 3.12), with the working directory that holds the
``focus_validator`` package (the validator opens its bundled currency list by a
relative path).  Usage: ``python _focus_validator.py DATA.csv VERSION``.

Prints ``{"passed": [...], "failed": [...], "skipped": [...], "or_branches": {...}}``:
the rule ids by status, as the validator's console summary counts them, and, for
each OR composite of the bundled rule model that passed, its alternative rules
(``"InvoiceId-C-003-C": ["InvoiceId-C-004-C", "InvoiceId-C-005-C"]``): the
validator reports every alternative as a rule of its own, so the alternatives a
dataset does not take show as failed although the rule they belong to holds.
"""

import contextlib
import json
import sys
from pathlib import Path

import focus_validator
from focus_validator.validator import Validator


def _or_alternatives(version: str) -> dict[str, list[str]]:
    rules_dir = Path(focus_validator.__file__).parent / "rules"
    model_file = next(iter(sorted(rules_dir.glob(f"model-{version}*.json"))))
    rules = json.loads(model_file.read_text())["ModelRules"]
    alternatives = {}
    for rule_id, rule in rules.items():
        requirement = rule.get("ValidationCriteria", {}).get("Requirement", {})
        if requirement.get("CheckFunction") == "OR":
            alternatives[rule_id] = [i["ModelRuleId"] for i in requirement.get("Items", [])
                                     if i.get("CheckFunction") == "CheckModelRule"]
    return alternatives


def main(data_file: str, version: str) -> None:
    validator = Validator(data_filename=data_file, output_destination=None, output_type="console",
                          rules_version=version, focus_dataset="CostAndUsage", rules_block_remote_download=True)
    with contextlib.redirect_stdout(sys.stderr):  # the console report; stdout carries the JSON
        results = validator.validate()
    status = {"passed": [], "failed": [], "skipped": []}
    for rule_id, entry in results.by_rule_id.items():
        if (entry.get("details") or {}).get("skipped"):
            status["skipped"].append(rule_id)
        else:
            status["passed" if entry.get("ok") else "failed"].append(rule_id)
    passed = set(status["passed"])
    status["or_branches"] = {r: kids for r, kids in _or_alternatives(version).items() if r in passed}
    print(json.dumps(status))


if __name__ == "__main__":
    main(*sys.argv[1:])
