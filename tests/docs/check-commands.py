#!/usr/bin/env python3
"""The commands the documentation shows still work, so README.md and docs/
cannot drift from the code again.

Usage: tests/docs/check-commands.py [--build DIR] [FILE.md...]
  (default: README.md, docs/*.md and tests/e2e/README.md; --build: the build
  directory that `build/` in the documents stands for, default build/)

From every fenced code block (sh, bash, console or no language), every
indented code line and every inline code span, it takes what names a program
or file of this repository (scripts/, tests/, bench/, build/, tools/, lua/,
conf.d/, docs/, ...) or the server's and control tool's names, and:
  - runs the commands that have no side effects, from the top of the
    checkout, and requires exit status 0:
      wolfguard --check-config DIR | --help | --version | --print-pin FILE
      wolfguardctl --help
      and `--help` of every repository script shown as a command
      (scripts/*.sh, tests/e2e/run.sh, tests/docs/check-commands.py);
  - checks that every other repository path it names exists (executable,
    when it is shown as a command), and that the test names given to
    tests/e2e/run.sh are tests it has;
  - leaves out the rest (starting servers, tests, benchmarks), and lists
    what it left out with -v.
Prints one line per failure and ends with "docs: N checked, M failed".
"""
import glob
import os
import re
import shlex
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
REPO_DIRS = ('scripts/', 'tests/', 'bench/', 'build/', 'tools/', 'lua/', 'conf.d', 'docs/', 'core/',
             'plugins/', 'sdk/')
# Scripts whose --help is run (it prints the usage and exits 0 without root).
HELP_SCRIPTS = re.compile(r'^(scripts/[a-z-]+\.sh|tests/e2e/run\.sh|tests/docs/check-commands\.py)$')
# A word that stands for something: <addr>, *, [test...], DIR, CERT.pem, NAME.
PLACEHOLDER = re.compile(r'[<>*\[\]{}|]|\.\.\.|^[A-Z][A-Z0-9_]+(\.[a-z]+)?$')
CODE_LANGS = ('', 'sh', 'bash', 'console', 'shell')


def code_lines(path):
    """(line number, text, kind) of every code line and inline span: kind is
    'block' for a code line, 'inline' for an inline span."""
    out, fence, lang, joined, start = [], None, '', '', 0
    prev_blank = True
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    for n, line in enumerate(lines, 1):
        m = re.match(r'^\s*(```+|~~~+)\s*([A-Za-z0-9_-]*)', line)
        if m and fence is None:
            fence, lang = m.group(1), m.group(2).lower()
            continue
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
                continue
            if lang not in CODE_LANGS:
                continue
            # Continuation lines are joined into one command.
            if not joined:
                start = n
            if line.rstrip().endswith('\\'):
                joined += line.rstrip()[:-1] + ' '
                continue
            out.append((start, joined + line, 'block'))
            joined = ''
            continue
        # An indented code line (4 spaces after a blank line or another one),
        # outside lists: only lines that start with a repository path count.
        if re.match(r'^( {4}|\t)\S', line) and prev_blank:
            text = line.strip()
            if text.startswith(REPO_DIRS):
                out.append((n, text, 'block'))
            continue
        prev_blank = line.strip() == '' or (prev_blank and re.match(r'^( {4}|\t)\S', line) is not None)
        for span in re.findall(r'`([^`\n]+)`', line):
            out.append((n, span, 'inline'))
    return out


def normalise(text):
    """The words of a command, without prompt, sudo, environment settings
    and trailing comment; None if it is not a command line."""
    text = re.sub(r'\s#\s.*$', '', text).strip()
    text = re.sub(r'^\$\s+', '', text)
    try:
        words = shlex.split(text)
    except ValueError:
        return None
    while words and re.match(r'^[A-Z_][A-Z0-9_]*=', words[0]):
        words = words[1:]
    if words and words[0] == 'sudo':
        words = words[1:]
    return words or None


class Checker:
    def __init__(self, build, verbose):
        self.build, self.verbose = build, verbose
        self.checked, self.failed, self.seen = 0, 0, set()
        self.e2e_tests = None

    def path_of(self, word):
        """Where a documented repository path is in this checkout."""
        if word == 'wolfguard':
            word = 'build/core/wolfguard'
        elif word == 'wolfguardctl':
            word = 'build/tools/wolfguardctl'
        if word.startswith('build/'):
            return os.path.join(self.build, word[len('build/'):])
        return os.path.join(TOP, word)

    def fail(self, where, why):
        self.failed += 1
        print(f'docs: FAIL {where}: {why}')

    def ok(self, where, what):
        if self.verbose:
            print(f'docs: ok   {where}: {what}')

    def run(self, where, words):
        argv = [self.path_of(words[0])] + words[1:]
        key = ('run', tuple(argv))
        if key in self.seen:
            return
        self.seen.add(key)
        self.checked += 1
        # As a reader would run it: no plugin directory from the environment.
        env = {k: v for k, v in os.environ.items() if k != 'WOLFGUARD_PLUGIN_DIR'}
        try:
            p = subprocess.run(argv, cwd=TOP, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=120, env=env)
        except (OSError, subprocess.TimeoutExpired) as e:
            self.fail(where, f'`{" ".join(words)}`: {e}')
            return
        if p.returncode != 0:
            last = (p.stderr or p.stdout).strip().splitlines()[-3:]
            self.fail(where, f'`{" ".join(words)}` exited {p.returncode}: {" | ".join(last)}')
        else:
            self.ok(where, f'ran `{" ".join(words)}`')

    def exists(self, where, word, executable):
        path = self.path_of(word)
        key = ('exists', path, executable)
        if key in self.seen:
            return
        self.seen.add(key)
        self.checked += 1
        if not os.path.exists(path.rstrip('/')):
            self.fail(where, f'{word}: no such file in the checkout')
        elif executable and os.path.isfile(path) and not os.access(path, os.X_OK):
            self.fail(where, f'{word}: shown as a command but not executable')
        else:
            self.ok(where, f'{word} exists')

    def known_e2e_tests(self):
        if self.e2e_tests is None:
            names = set()
            for f in [os.path.join(TOP, 'tests/e2e/run.sh')] + glob.glob(os.path.join(TOP, 'tests/e2e/tests-*.sh')):
                with open(f, encoding='utf-8') as fh:
                    names.update(re.findall(r'^test_([a-z0-9_]+)\(\)', fh.read(), re.M))
            # run.sh's names of the earlier suite, still accepted.
            names.update(['login_dtls', 'cstp_only', 'two_clients_isolation', 'rsa_ipv6'])
            self.e2e_tests = names
        return self.e2e_tests

    def command(self, where, words, kind):
        prog = words[0]
        is_repo = prog.startswith(REPO_DIRS)
        if prog not in ('wolfguard', 'wolfguardctl') and not is_repo:
            return
        if PLACEHOLDER.search(prog):
            return
        args = words[1:]
        if any(PLACEHOLDER.search(a) for a in args) and prog in ('wolfguard', 'build/core/wolfguard',
                                                                'wolfguardctl', 'build/tools/wolfguardctl'):
            self.exists(where, prog, True)
            self.skip(where, words, 'a template, not a command')
            return
        if prog in ('wolfguard', 'build/core/wolfguard'):
            self.exists(where, prog, True)
            if args[:1] in (['--help'], ['--version']) and len(args) == 1:
                self.run(where, words)
            elif args[:1] == ['--check-config'] and len(args) == 2:
                d = args[1]
                if os.path.isabs(d) and not os.path.isdir(d):
                    self.skip(where, words, 'a directory of an installed system')
                else:
                    self.run(where, words)
            elif args[:1] == ['--print-pin'] and len(args) == 2 and os.path.isfile(os.path.join(TOP, args[1])):
                self.run(where, words)
            else:
                self.skip(where, words, 'starts the server, or not a whole command')
            return
        if prog in ('wolfguardctl', 'build/tools/wolfguardctl'):
            self.exists(where, prog, True)
            if args == ['--help']:
                self.run(where, words)
            else:
                self.skip(where, words, 'needs a running server')
            return
        # Another repository path: a file named in prose, or a program. Files
        # under conf.d/ in the documents are examples of what a site adds, and
        # "file:line:" is an error message being quoted.
        if ':' in prog or prog.startswith('conf.d/'):
            return
        as_command = kind == 'block' or bool(args)
        self.exists(where, prog, as_command)
        if as_command and HELP_SCRIPTS.match(prog):
            self.run(where, [prog, '--help'])
        if prog == 'tests/e2e/run.sh':
            for a in args:
                if a in ('ocserv', 'wolfguard') or PLACEHOLDER.search(a) or a.startswith('-'):
                    continue
                self.checked += 1
                if a not in self.known_e2e_tests():
                    self.fail(where, f'tests/e2e/run.sh has no test named {a}')

    def skip(self, where, words, why):
        if self.verbose:
            print(f'docs: skip {where}: `{" ".join(words)}` ({why})')

    def check_file(self, path):
        rel = os.path.relpath(path, TOP)
        for n, text, kind in code_lines(path):
            words = normalise(text)
            if words:
                self.command(f'{rel}:{n}', words, kind)


def main():
    args = sys.argv[1:]
    build, verbose, files = os.path.join(TOP, 'build'), False, []
    while args:
        a = args.pop(0)
        if a in ('-h', '--help'):
            print(__doc__.strip())
            return 0
        if a == '--build':
            build = os.path.abspath(args.pop(0))
        elif a == '-v':
            verbose = True
        else:
            files.append(os.path.abspath(a))
    if not files:
        files = [os.path.join(TOP, 'README.md')] + sorted(glob.glob(os.path.join(TOP, 'docs', '*.md'))) + \
            [os.path.join(TOP, 'tests/e2e/README.md')]
    c = Checker(build, verbose)
    for f in files:
        c.check_file(f)
    print(f'docs: {c.checked} checked, {c.failed} failed')
    return 1 if c.failed or c.checked == 0 else 0


if __name__ == '__main__':
    sys.exit(main())
