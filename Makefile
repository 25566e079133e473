# PaperPost — the two commands are `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

SWIFT ?= swift
DB ?= var/paperpost.sqlite
DEBIAN_PACKAGES := pkg-config libcurl4-openssl-dev libsqlite3-dev libcmark-gfm-dev libcmark-gfm-extensions-dev python3-venv openssl
VENV := .venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

PREFIX ?= /usr/local

.PHONY: deps test-deps bench-deps build release demo test bench clean templates install

## Install the Debian packages the build needs, only those that are missing.
deps:
	@missing=""; \
	for pkg in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

## The peers the tests talk to: a real SMTP server and DKIM verifier (Python, in a private
## virtualenv), a real IMAP and POP3 server (Dovecot, which each test starts on its own ports)
## and PostgreSQL's server (scripts/postgres-cluster starts a throwaway cluster of it).
test-deps: deps
	@[ -e /usr/lib/dovecot/pop3 ] || { $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq dovecot-imapd dovecot-pop3d; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql; }
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	@$(VENV)/bin/python -c 'import aiosmtpd, dkim, nacl' 2>/dev/null || $(VENV)/bin/pip install -q -r Tests/requirements.txt

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

## The templates compiled into the binary, from templates/ (a test fails while they differ).
templates:
	python3 scripts/embed-templates.py

## The release binary in $(PREFIX)/bin; it carries its templates, and `paperpost --help` is its
## manual. contrib/ has systemd units for the daily job and the web app.
install: release
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 0755 "$$($(SWIFT) build -c release --show-bin-path)/paperpost" "$(DESTDIR)$(PREFIX)/bin/paperpost"
	@echo "installed $(DESTDIR)$(PREFIX)/bin/paperpost; systemd units: contrib/paperpost.service, paperpost.timer, paperpost-web.service"

## Run the daily job on the embedded defaults and say where to look: the sample subscribers,
## the bundled arXiv snapshot, heuristic curation unless PAPERPOST_LLM_API_KEY is set, and the
## outbox transport.
demo: build
	@rm -rf $(DB) $(DB)-wal $(DB)-shm var/outbox
	@bin="$$($(SWIFT) build --show-bin-path)/paperpost"; \
	export PAPERPOST_DB=$(DB); \
	"$$bin" subscribers import subscribers.sample.csv; \
	"$$bin" daily --transport outbox --feed snapshots/arxiv/cs.AI-2025-08-20.atom; \
	echo; "$$bin" deliveries stats; \
	echo; echo "Emails: var/outbox/2025-08-20/ (one .eml and one .html preview per subscriber)"; \
	echo "Digest: $$bin digest show --db $(DB)"; \
	echo "Log:    $$bin deliveries --db $(DB)"; \
	echo "Web:    $$bin serve --db $(DB), then open http://localhost:8080 (subscribe, archive; mail to the outbox)"

## Postfix's smtp-sink and smtp-source (the sending benchmark's sink and yardstick), wrk
## (the web benchmark's load), GNU time (each command's peak memory in the scale table) and
## PostgreSQL's server (the scale table's `migrate` column).
bench-deps: deps
	@command -v /usr/sbin/smtp-sink >/dev/null || { \
	  echo "postfix postfix/main_mailer_type select No configuration" | $(SUDO) debconf-set-selections; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postfix; }
	@command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk
	@test -x /usr/bin/time || DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq time
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql

## Speed targets, in a release build (run from the repository root); `make bench
## BENCHES=sending` runs some of them.
BENCHES ?= arxiv curation rendering personal sending scale web inbound
bench: release bench-deps
	@bin="$$($(SWIFT) build -c release --show-bin-path)/paperpost-bench"; \
	cluster="$$(mktemp -d)"; \
	trap 'scripts/postgres-cluster stop "$$cluster"' EXIT; \
	export PAPERPOST_BENCH_POSTGRES_URL="$$(scripts/postgres-cluster start "$$cluster")"; \
	for bench in $(BENCHES); do "$$bin" $$bench; done

## At most 16 tests at a time. Swift Testing otherwise starts all of them at once; most wait on
## servers and `paperpost` children, so on two cores 16 finish as fast, and the test process
## stays near 200 open descriptors instead of 1,500. Past about 1,360, Foundation's Process.run
## on Linux scans /proc/self/fd by copying 256 bytes per entry out of readdir's buffer, reads
## past its end and can crash the whole test run (SIGSEGV in Process.run).
TEST_WIDTH ?= 16

## The PostgreSQL store's tests run against a throwaway cluster, started here in a temporary
## directory on a loopback port and stopped (and deleted) however the tests end.
test: test-deps
	@cluster="$$(mktemp -d)"; \
	trap 'scripts/postgres-cluster stop "$$cluster"' EXIT; \
	url="$$(scripts/postgres-cluster start "$$cluster")"; \
	echo "PostgreSQL for the tests: $$url"; \
	SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$(TEST_WIDTH) \
	PAPERPOST_TEST_POSTGRES_URL="$$url" \
	PAPERPOST_TEST_PYTHON=$(CURDIR)/$(VENV)/bin/python $(SWIFT) test

clean:
	rm -rf .build var $(VENV)
