# strata -- build, test, bench.
#   make          build/strata, build/libstrata.a, build/libstrata.so, build/strata.pc,
#                 build/app_startup, build/app_embedded
#   make demo     apply the sample migrations to a SQLite file and show status
#   make test     unit tests, sanitizer build, end-to-end tests on SQLite and on a
#                 throwaway PostgreSQL 15 (pg_virtualenv)
#   make bench    benchmarks (ratios against baselines measured in the same run):
#                 migrations (bench/run.sh), strata copy (bench/copy.sh)

CC      ?= cc
PREFIX  ?= /usr/local
# libpq is opened with dlopen() on first PostgreSQL use (src/lib/pqload.h):
# only its headers are needed at build time.
# libpq and libcrypto are opened on first use (dlopen): headers only
PKGS    := sqlite3
PKG_CFLAGS := $(shell pkg-config --cflags libpq libcrypto $(PKGS) 2>/dev/null || echo -I/usr/include/postgresql)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lsqlite3) -ldl -pthread -lm
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -fPIC -fvisibility=hidden -Iinclude -Isrc/lib $(PKG_CFLAGS)
ifeq ($(WERROR),1)
ALL_CFLAGS += -Werror
endif

B ?= build
LIB_SRC := $(wildcard src/lib/*.c src/lib/*/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
UNIT_SRC := $(wildcard tests/unit/*.c) fuzz/fuzz_targets.c
LIB_OBJ := $(LIB_SRC:src/%.c=$(B)/obj/%.o)
CLI_OBJ := $(CLI_SRC:src/%.c=$(B)/obj/%.o)
UNIT_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(UNIT_SRC))
HDRS := include/strata.h $(wildcard src/lib/*.h src/lib/*/*.h) $(wildcard src/cli/*.h)

VERSION := $(shell sed -n 's/\#define STRATA_VERSION "\(.*\)"/\1/p' include/strata.h)
SOMAJOR := 0
LIBDIR  ?= $(PREFIX)/lib

all: $(B)/strata $(B)/libstrata.a $(B)/libstrata.so $(B)/strata.pc $(B)/strata.1 $(B)/strata.bash $(B)/_strata \
  $(B)/app_startup $(B)/app_embedded

$(B)/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/obj/tests/%.o: tests/%.c $(HDRS) fuzz/fuzz_targets.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/obj/fuzz/%.o: fuzz/%.c $(HDRS) fuzz/fuzz_targets.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The archive holds one object whose internal (hidden) symbols are made
# local: a program linked with it sees only the strata_* API, as with the
# shared library (-fvisibility=hidden), and cannot clash with buf_init & co.
$(B)/libstrata.a: $(LIB_OBJ)
	rm -f $@
	$(LD) -r -o $(B)/strata_all.o $^
	objcopy --localize-hidden $(B)/strata_all.o
	ar rcs $@ $(B)/strata_all.o

# libstrata.so.0.x.y, with the soname link libstrata.so.0 (what a program
# linked with -lstrata loads) and the development link libstrata.so
$(B)/libstrata.so.$(VERSION): $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,libstrata.so.$(SOMAJOR) -o $@ $^ $(PKG_LIBS)

$(B)/libstrata.so: $(B)/libstrata.so.$(VERSION)
	ln -sf libstrata.so.$(VERSION) $(B)/libstrata.so.$(SOMAJOR)
	ln -sf libstrata.so.$(VERSION) $@

$(B)/strata: $(CLI_OBJ) $(B)/libstrata.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(B)/libstrata.a $(PKG_LIBS)

$(B)/app_startup: examples/app_startup.c include/strata.h $(B)/libstrata.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ examples/app_startup.c $(B)/libstrata.a $(PKG_LIBS)

# migrations compiled into a program: strata embed writes them as a C array
$(B)/pos_migrations.c: $(B)/strata $(wildcard examples/pos/migrations/*.sql)
	$(B)/strata -q --dir examples/pos/migrations embed --name pos_migrations -o $@

$(B)/app_embedded: examples/app_embedded.c $(B)/pos_migrations.c include/strata.h $(B)/libstrata.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ examples/app_embedded.c $(B)/pos_migrations.c $(B)/libstrata.a $(PKG_LIBS)

# the command line's JSON writer is tested too (json.c, with json_str of output.c)
UNIT_CLI_OBJ := $(B)/obj/cli/json.o $(B)/obj/cli/output.o
$(B)/test_unit: $(UNIT_OBJ) $(UNIT_CLI_OBJ) $(B)/libstrata.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(UNIT_OBJ) $(UNIT_CLI_OBJ) $(LIB_OBJ) $(PKG_LIBS)

# strata.pc for a prefix: $(call pcfile,PREFIX,LIBDIR)
pcfile = printf 'prefix=%s\nlibdir=%s\nincludedir=$${prefix}/include\n\nName: strata\nDescription: schema migrations for SQLite and PostgreSQL\nVersion: %s\nRequires.private: %s\nLibs: -L$${libdir} -lstrata\nLibs.private: -ldl -pthread -lm\nCflags: -I$${includedir}\n' '$(1)' '$(2)' '$(VERSION)' '$(PKGS)'

# build/strata.pc points at this tree (PKG_CONFIG_PATH=build before
# installing); `make install` writes one for PREFIX.
$(B)/strata.pc: Makefile include/strata.h
	@mkdir -p $(B)
	printf 'prefix=%s\nlibdir=%s\nincludedir=$${prefix}/include\n\nName: strata\nDescription: schema migrations for SQLite and PostgreSQL (build tree)\nVersion: %s\nRequires.private: %s\nLibs: -L$${libdir} -lstrata\nLibs.private: -ldl -pthread -lm\nCflags: -I$${includedir}\n' '$(CURDIR)' '$(abspath $(B))' '$(VERSION)' '$(PKGS)' > $@

# shell completion, made from the command and option tables
$(B)/strata.bash: $(B)/strata
	$(B)/strata completion bash > $@

$(B)/_strata: $(B)/strata
	$(B)/strata completion zsh > $@

# strata(1), made from the program's own help texts (the command table)
$(B)/strata.1: $(B)/strata tools/mkman.py
	python3 tools/mkman.py $(B)/strata $(VERSION) > $@

# The sanitizer build: same sources, separate directory.
asan:
	$(MAKE) B=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" build-asan/strata build-asan/test_unit build-asan/app_startup \
	  build-asan/app_embedded

# Fuzzing (clang, libFuzzer): each target runs FUZZ_SECONDS; new inputs go to
# build-fuzz/corpus/<target>, crashes to build-fuzz/crash-<target>-*. Copy a
# crash into fuzz/regressions/<target>/ to make it a regression test.
FUZZ_TARGETS := migfile sqlsplit url env copyvalue copyexpr
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
# the sample migrations seed the SQL targets too (also replayed by test_fuzz.c)
FUZZ_SQL_SEEDS := examples/pos/migrations examples/payments/migrations
build-fuzz/fuzz_%: fuzz/entry.c fuzz/fuzz_targets.c fuzz/fuzz_targets.h $(LIB_SRC) $(HDRS)
	@mkdir -p build-fuzz
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -DFUZZ_FN=fuzz_$* -g -O1 -fsanitize=fuzzer,address,undefined \
	  -Iinclude -Isrc/lib $(PKG_CFLAGS) fuzz/entry.c fuzz/fuzz_targets.c $(LIB_SRC) $(PKG_LIBS) -o $@

fuzz: $(FUZZ_TARGETS:%=build-fuzz/fuzz_%)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  seeds=fuzz/corpus/$$t; \
	  case $$t in migfile|sqlsplit) seeds="$$seeds $(FUZZ_SQL_SEEDS)";; esac; \
	  build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -timeout=10 \
	    -rss_limit_mb=1024 -artifact_prefix=build-fuzz/crash-$$t- build-fuzz/corpus/$$t $$seeds \
	    2>build-fuzz/$$t.log || { tail -40 build-fuzz/$$t.log; exit 1; }; \
	  grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' build-fuzz/$$t.log; \
	done

deps:
	tools/deps.sh build

deps-test:
	tools/deps.sh test

demo: deps
	$(MAKE) $(B)/strata
	@rm -f demo.sqlite3
	$(B)/strata --url sqlite:///demo.sqlite3 --dir examples/pos/migrations up
	$(B)/strata --url sqlite:///demo.sqlite3 --dir examples/pos/migrations status

unit: $(B)/test_unit
	$(B)/test_unit

test: deps-test
	$(MAKE) test-only

test-only: all $(B)/test_unit asan
	$(B)/test_unit
	build-asan/test_unit
	STRATA=$(CURDIR)/build-asan/strata APP=$(CURDIR)/build-asan/app_startup tests/cli/run.sh sqlite
	STRATA=$(CURDIR)/build-asan/strata APP=$(CURDIR)/build-asan/app_startup tests/pg/with_pg.sh tests/cli/run.sh postgres

$(B)/sqlite_floor: bench/sqlite_floor.c
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(PKG_LIBS)

bench: all $(B)/sqlite_floor
	STRATA=$(CURDIR)/$(B)/strata FLOOR=$(CURDIR)/$(B)/sqlite_floor bench/run.sh
	STRATA=$(CURDIR)/$(B)/strata bench/copy.sh
	STRATA=$(CURDIR)/$(B)/strata bench/diff.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 755 $(B)/strata $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(B)/libstrata.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/libstrata.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libstrata.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libstrata.so.$(SOMAJOR)
	ln -sf libstrata.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libstrata.so
	install -m 644 include/strata.h $(DESTDIR)$(PREFIX)/include/
	$(call pcfile,$(PREFIX),$(LIBDIR)) > $(DESTDIR)$(LIBDIR)/pkgconfig/strata.pc
	install -m 644 $(B)/strata.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(B)/strata.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/strata
	install -m 644 $(B)/_strata $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_strata

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/strata $(DESTDIR)$(LIBDIR)/libstrata.a \
	  $(DESTDIR)$(LIBDIR)/libstrata.so $(DESTDIR)$(LIBDIR)/libstrata.so.$(SOMAJOR) \
	  $(DESTDIR)$(LIBDIR)/libstrata.so.$(VERSION) $(DESTDIR)$(PREFIX)/include/strata.h \
	  $(DESTDIR)$(LIBDIR)/pkgconfig/strata.pc $(DESTDIR)$(PREFIX)/share/man/man1/strata.1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/strata \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_strata

# Installs into a scratch DESTDIR and uses it as a user would: a program
# built against the installed header and strata.pc, static and shared; the
# man page rendered; only strata_* exported; then uninstall leaves nothing.
installcheck: all
	tools/installcheck.sh

# The C style (.clang-format): format rewrites the sources, format-check
# fails when one differs.
FORMAT_SRC = $(wildcard src/lib/*.c src/lib/*/*.c src/lib/*.h src/lib/*/*.h src/cli/*.c src/cli/*.h) include/strata.h

format:
	clang-format -i $(FORMAT_SRC)

format-check:
	clang-format --dry-run --Werror $(FORMAT_SRC)

clean:
	rm -rf build build-asan build-fuzz demo.sqlite3

.PHONY: all asan demo deps deps-test unit test test-only bench install uninstall installcheck format format-check clean fuzz
