#!/usr/bin/env python3
"""Checks that every command line the rendered manifests run exists in the real binaries.

Reads rendered Kubernetes manifests (output of `kubectl kustomize`), finds every invocation of
vtgate, vttablet, vtctl and mysqlctl (container command/args, exec probes and hooks, `bash -c`
scripts, and the shell scripts shipped in ConfigMaps), and checks each flag and subcommand
against the binary's own `--help`. Also checks that every `/vt/scripts/...` and `/vt/config/...`
path the pods use is a key of the ConfigMap mounted there.

Usage: check_flags.py --bin-dir DIR MANIFEST.yaml...   Exit status 1 on any problem.
"""

import argparse
import os
import re
import shlex
import subprocess
import sys

import yaml

BINARIES = ("vtgate", "vttablet", "vtctl", "mysqlctl")
# Binaries every deployment must run at least once (mysqlctl is not used in the pods: MariaDB runs
# from the official image).
REQUIRED = ("vtgate", "vttablet", "vtctl")
# vtctl subcommands the workflow Jobs use before vtctl has them (issue 5). Skipped, with a note,
# only while the binary lacks them; once they exist their flags are checked like any other.
PENDING = {"vtctl": {"MoveTables", "Reshard"}}
# Paths inside the pods that are ConfigMap mounts, and the ConfigMap behind each.
MOUNTS = {"/vt/scripts/": "vitess-scripts", "/vt/config/": "vitess-config"}
SHELLS = ("bash", "sh")
OPERATORS = {";", "&&", "||", "|", "(", ")", "&", "!", "{", "}"}
KEYWORDS = {"then", "do", "else", "elif", "if", "while", "until", "exec", "time"}
FLAG_RE = re.compile(r"^\s*(?:-[A-Za-z], )?(--[A-Za-z0-9][A-Za-z0-9_-]*)(?:[ =]<[^>]+>)?")
COMMAND_RE = re.compile(r"^\s{2}([A-Za-z][A-Za-z0-9_-]*)\b")


class Help:
    """Flags and subcommands of one binary (or subcommand), read from `--help`."""

    def __init__(self, argv):
        out = subprocess.run(argv + ["--help"], capture_output=True, text=True, check=False)
        self.ok = out.returncode == 0
        self.flags = {}  # flag -> takes a value
        self.commands = set()
        section = None
        for line in out.stdout.splitlines():
            if line and not line.startswith(" "):
                section = line.rstrip(":")
                continue
            if section == "Commands":
                m = COMMAND_RE.match(line)
                if m and m.group(1) != "help":
                    self.commands.add(m.group(1))
            elif section == "Options":
                m = FLAG_RE.match(line)
                if m:
                    self.flags[m.group(1)] = "<" in m.group(0)


class Checker:
    def __init__(self, bin_dir):
        self.bin_dir = bin_dir
        self.helps = {}
        self.errors = []
        self.notes = set()
        self.seen = {b: 0 for b in BINARIES}
        self.configmaps = {}

    def help(self, *words):
        if words not in self.helps:
            self.helps[words] = Help([os.path.join(self.bin_dir, words[0]), *words[1:]])
        return self.helps[words]

    def error(self, where, text):
        self.errors.append(f"{where}: {text}")

    # --- one invocation -------------------------------------------------------------------
    def check_invocation(self, where, argv):
        binary = os.path.basename(argv[0])
        self.seen[binary] += 1
        top = self.help(binary)
        if not top.ok:
            self.error(where, f"{binary} --help failed")
            return
        rest = argv[1:]
        sub, rest = self.check_flags(where, binary, top.flags, rest, stop_at_positional=bool(top.commands))
        if not top.commands:
            return
        if sub is None:
            self.error(where, f"{binary} needs a subcommand")
            return
        if sub.startswith("$"):
            self.error(where, f"{binary} subcommand {sub!r} is a variable and cannot be checked")
            return
        if sub not in top.commands:
            if sub in PENDING.get(binary, ()):
                self.notes.add(f"{binary} {sub}: not in this binary yet (issue 5); its flags are not checked")
            else:
                self.error(where, f"{binary} has no subcommand {sub!r}")
            return
        flags = dict(self.help(binary, sub).flags)
        # Actions such as `MoveTables ... create` have flags of their own.
        for word in rest:
            if re.fullmatch(r"[a-z]+", word):
                action = self.help(binary, sub, word)
                if action.ok:
                    flags.update(action.flags)
        self.check_flags(where, f"{binary} {sub}", flags, rest, stop_at_positional=False)

    def check_flags(self, where, name, flags, args, stop_at_positional):
        """Checks flags in args; returns (first positional, the args after it) when stopping."""
        i = 0
        while i < len(args):
            token = args[i]
            if token.startswith("--"):
                flag = token.split("=", 1)[0]
                if flag not in flags:
                    self.error(where, f"{name} has no flag {flag}")
                elif flags[flag] and "=" not in token:
                    i += 1  # its value
            elif token.startswith("-") and len(token) > 1 and not token.startswith("$"):
                self.error(where, f"{name}: {token!r} is not a --flag (single-dash flags are Vitess's old style)")
            elif stop_at_positional:
                return token, args[i + 1:]
            i += 1
        return None, []

    # --- finding invocations ----------------------------------------------------------------
    def check_argv(self, where, argv):
        if not argv:
            return
        base = os.path.basename(argv[0])
        self.check_paths(where, argv)
        if base in BINARIES:
            self.check_invocation(where, argv)
        elif base in SHELLS:
            if "-c" in argv[1:]:
                index = argv.index("-c")
                if index + 1 < len(argv):
                    self.check_script(where + " (script)", argv[index + 1])
            elif len(argv) > 1 and not argv[1].startswith("$"):
                self.check_script_path(where, argv[1])

    def check_script_path(self, where, path):
        for prefix, configmap in MOUNTS.items():
            if path.startswith(prefix):
                # The ConfigMap's scripts are checked once, as ConfigMap data; here only that
                # the script is there.
                if path[len(prefix):] not in self.configmaps.get(configmap, {}):
                    self.error(where, f"{path} is not a key of ConfigMap {configmap}")
                return
        self.error(where, f"runs {path}, which no checked ConfigMap provides")

    def check_paths(self, where, tokens):
        for token in tokens:
            for path in re.findall(r"/vt/(?:scripts|config)/[A-Za-z0-9_.-]+", token):
                prefix = path[: path.index("/", 4) + 1]
                name = path[len(prefix):]
                if name not in self.configmaps.get(MOUNTS[prefix], {}):
                    self.error(where, f"{path} is not a key of ConfigMap {MOUNTS[prefix]}")

    def check_script(self, where, text):
        for number, line in script_lines(text):
            place = f"{where}:{number}"
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            try:
                tokens = list(lexer)
            except ValueError as e:
                if any(re.search(rf"\b{b}\b", line) for b in BINARIES):
                    self.error(place, f"cannot parse a line that may run a binary: {e}")
                continue
            self.check_paths(place, tokens)
            for i, token in enumerate(tokens):
                at_command = i == 0 or tokens[i - 1] in OPERATORS or tokens[i - 1] in KEYWORDS
                if not at_command:
                    continue
                if os.path.basename(token) in BINARIES:
                    end = i + 1
                    while end < len(tokens) and not is_operator(tokens[end]):
                        end += 1
                    self.check_invocation(place, tokens[i:end])
                elif token in SHELLS and i + 1 < len(tokens) and tokens[i + 1].startswith("/vt/"):
                    self.check_script_path(place, tokens[i + 1])

    def check_document(self, doc):
        kind, name = doc.get("kind", "?"), doc.get("metadata", {}).get("name", "?")
        where = f"{kind}/{name}"
        if kind == "ConfigMap":
            for key, value in (doc.get("data") or {}).items():
                if key.endswith(".sh"):
                    self.check_script(f"{where}/{key}", value)
            return
        for path, node in walk(doc, where):
            if isinstance(node, dict) and ("command" in node or "args" in node):
                argv = list(node.get("command") or []) + list(node.get("args") or [])
                if all(isinstance(a, str) for a in argv):
                    self.check_argv(path, argv)


def is_operator(token):
    return token in OPERATORS or set(token) <= set("<>&|;")


def script_lines(text):
    """(line number, logical line) of a shell script: continuations joined, heredocs skipped."""
    lines = text.split("\n")
    heredoc_end = None
    number = 0
    while number < len(lines):
        start = number
        line = lines[number]
        number += 1
        if heredoc_end is not None:
            if line.strip() == heredoc_end:
                heredoc_end = None
            continue
        while line.endswith("\\") and number < len(lines):
            line = line[:-1] + " " + lines[number]
            number += 1
        if line.lstrip().startswith("#"):
            continue
        m = re.search(r"<<-?\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?", line)
        if m and "<<<" not in line:
            heredoc_end = m.group(1)
        yield start + 1, line


def walk(node, path):
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            label = value.get("name", index) if isinstance(value, dict) else index
            yield from walk(value, f"{path}[{label}]")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("manifests", nargs="+")
    options = parser.parse_args()
    checker = Checker(options.bin_dir)
    for manifest in options.manifests:
        with open(manifest, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        checker.configmaps = {
            d["metadata"]["name"]: d.get("data") or {} for d in docs if d.get("kind") == "ConfigMap"
        }
        before = len(checker.errors)
        for doc in docs:
            checker.check_document(doc)
        for i in range(before, len(checker.errors)):
            checker.errors[i] = f"{os.path.basename(manifest)}: {checker.errors[i]}"
    for binary in REQUIRED:
        if checker.seen[binary] == 0:
            checker.errors.append(f"no manifest runs {binary}: nothing of it was checked")
    for note in sorted(checker.notes):
        print(f"check-flags: note: {note}")
    for error in checker.errors:
        print(f"check-flags: ERROR {error}", file=sys.stderr)
    counts = ", ".join(f"{b} {n}" for b, n in checker.seen.items())
    print(f"check-flags: invocations checked: {counts}; {len(checker.errors)} problem(s)")
    return 1 if checker.errors else 0


if __name__ == "__main__":
    sys.exit(main())
