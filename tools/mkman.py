#!/usr/bin/env python3
"""mkman.py STRATA VERSION -- writes strata(1) in roff on stdout.

The source is the program itself: the global help and every command's
--help text, which come from the command table in src/cli/main.c and the
command files. The rest (environment, files, exit status) is written here.
"""
import re
import subprocess
import sys

strata, version = sys.argv[1], sys.argv[2]


def run(*args):
    return subprocess.run([strata, *args], capture_output=True, text=True, check=True).stdout


def esc(line):
    line = line.replace("\\", "\\e").replace("-", "\\-")
    if line.startswith(".") or line.startswith("'"):
        line = "\\&" + line
    # roff input is ASCII: other characters as \[uXXXX]
    return "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in line)


def pre(text):
    out = [".nf", ".RS 4"]
    out += [esc(l) for l in text.rstrip("\n").split("\n")]
    out += [".RE", ".fi"]
    return out


top = run("--help")
commands = []
in_cmds = False
for line in top.split("\n"):
    if line.startswith("Commands:"):
        in_cmds = True
        continue
    if in_cmds:
        m = re.match(r"  (\S+?)(?:, \S+)?\s{2,}(.*)", line)
        if not m:
            break
        commands.append((m.group(1), m.group(2)))
gopts = top.split("Global options")[1].split("\n", 1)[1].split("\n\n")[0]

o = []
o.append('.TH STRATA 1 "" "strata %s" "User Commands"' % version)
o += [".SH NAME", "strata \\- schema migrations and SQLite to PostgreSQL copies"]
o += [".SH SYNOPSIS", ".B strata", "[\\fIglobal options\\fR] \\fICOMMAND\\fR [\\fIoptions\\fR] [\\fIargs\\fR]"]
o += [".SH DESCRIPTION",
      "strata applies versioned SQL migration files to SQLite and PostgreSQL databases,",
      "checks them before they ship, operates the database (create, drop, wait, reset,",
      "backup, restore) and copies a SQLite database into PostgreSQL, verified.",
      "Global options may stand before or after the command name."]
o += [".SH COMMANDS"]
for name, summary in commands:
    o += [".SS %s" % esc(name), esc(summary) + ".", ".PP"]
    o += pre(run(name, "--help"))
o += [".SH GLOBAL OPTIONS"]
o += pre(gopts)
o += [".SH ENVIRONMENT", ".TP", ".B DATABASE_URL",
      "The database URL when \\fB\\-\\-url\\fR is not given (the variable is named by \\fB\\-\\-url\\-env\\fR);",
      "also read from \\fI.env\\fR and \\fI.env.local\\fR.",
      ".TP", ".B STRATA_DIR", "The migration directory when \\fB\\-\\-dir\\fR is not given.",
      ".TP", ".B STRATA_CACHE_DIR", "Where up and status keep the checksum cache (default \\fI$XDG_CACHE_HOME/strata\\fR,",
      "else \\fI~/.cache/strata\\fR); empty: no cache. See docs/migrations.md, Checksums.",
      ".TP", ".B STRATA_REQUIRE_URL", "When 1, no embedded default database: a missing URL is an error.",
      ".TP", ".B STRATA_SKIP_MIGRATIONS", "When 1 or true, the library's startup call does nothing.",
      ".TP", ".B STRATA_CONNECT_TIMEOUT", "Seconds the library's startup call retries passing connection failures (default 30).",
      ".TP", ".B STRATA_LEASE_SECONDS", "Length of the migration lock's lease behind a connection pooler (default 30).",
      ".TP", ".B PGPASSWORD", "libpq's password when the URL has none; \\fI~/.pgpass\\fR also applies.",
      ".TP", ".B NO_COLOR", "No colors when set and not empty."]
o += [".SH EXIT STATUS", ".TP", ".B 0", "success", ".TP", ".B 1",
      "the operation failed (SQL error, verification failed, data mismatch)", ".TP", ".B 2",
      "usage or configuration error", ".TP", ".B 3",
      "not an error: status \\-\\-exit\\-code: migrations pending; validate: problems found; "
      "schema \\-\\-check: the schema drifted; diff \\-\\-exit\\-code: a difference", ".TP", ".B 4",
      "could not connect, or lock timeout", ".TP", ".B 128+N",
      "check stopped by signal N (130 for Ctrl\\-C; test exits 130 when interrupted), the scratch database dropped"]
o += [".SH FILES", ".TP", ".I ./migrations/", "Migration files \\fI<version>_<slug>.sql\\fR.",
      ".TP", ".I ~/.cache/strata/migrations\\-*", "The checksum cache of each migration directory (see STRATA_CACHE_DIR).",
      ".TP", ".I .env, .env.local", "dotenv files read for the URL."]
o += [".SH SEE ALSO", "The documents in the source tree: README.md, docs/migrations.md, docs/operations.md,",
      "docs/copy.md, docs/type\\-mapping.md, docs/check.md, docs/lint.md, docs/schema.md, docs/testing.md."]
print("\n".join(o))
