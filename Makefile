# A thin index of cargo commands (Linux). Checks with real logic live in Rust tests.
.PHONY: build test test-deps bench-deps lint fmt fmt-check doc bench ci demo book fuzz fuzz-short fuzz-deps

build:
	cargo build --workspace

test: test-deps
	cargo test --workspace

# What the tests run besides cargo: a real iptables-restore (with unshare, from util-linux) to
# check that netsim's iptables-save output loads, and the real dig, nslookup and host
# (dnsutils) and busybox's nslookup to query `netsim dns serve`, and tshark to decode
# `netsim trace --pcap` captures, and tmux to type into `netsim shell` on a terminal.
# Installed from Debian when missing.
test-deps:
	@{ command -v iptables-restore >/dev/null 2>&1 || [ -x /usr/sbin/iptables-restore ]; } && \
	  command -v dig >/dev/null 2>&1 && command -v unshare >/dev/null 2>&1 && \
	  command -v busybox >/dev/null 2>&1 && command -v tshark >/dev/null 2>&1 && \
	  command -v tmux >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iptables util-linux dnsutils busybox tshark tmux; }

lint:
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

fmt-check:
	cargo fmt --all -- --check

doc:
	RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

# Times the release binary on the lesson and on generated clusters; writes target/bench-report.md.
bench: bench-deps
	cargo bench -p netsim-cli --bench cli

# GNU time for the peak-RSS column and dnsperf for `netsim dns serve`'s rate.
bench-deps: test-deps
	@[ -x /usr/bin/time ] && [ -x /usr/bin/dnsperf ] || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq time dnsperf; }

ci: fmt-check lint doc test

# The README's main job with the release binary, on a throw-away state directory.
demo:
	cargo build --release -q -p netsim-cli && d=$$(mktemp -d) && N="target/release/netsim --state $$d" && $$N apply -f scenarios/nodeport.yaml && $$N wait 30s && $$N get svc,ep,pods -o wide; s=$$?; rm -rf "$$d"; exit $$s

# The book (mdBook): every transcript in it is a session snapshot the tests check.
book:
	@command -v mdbook >/dev/null 2>&1 || cargo install mdbook --locked --version '^0.4'
	mdbook build book

# Fuzzing with cargo-fuzz (libFuzzer): the manifest reader, `netsim shell`'s word splitter, the
# DNS answerer of `netsim dns serve` and the iptables evaluator, each for FUZZ_SECONDS, one
# after the other (fuzz/README.md). fuzz/ is a crate of its own outside the workspace. No
# sanitizer (`-s none`): netsim forbids unsafe code, ASan would only slow each run down several
# times, and it needs a nightly-only flag (fuzz/README.md says how to use it on stable); the
# build still has debug assertions (overflow checks). Seeds: fuzz/seeds/TARGET and
# the repository's own manifests and sessions (read only: new inputs go to fuzz/corpus/TARGET).
# A crash stops the run and leaves its input in fuzz/artifacts/TARGET/.
FUZZ_SECONDS ?= 300
FUZZ_TARGETS ?= manifest shell_words dns_wire netfilter
FUZZ_SEEDS_manifest = ../scenarios ../crates/netsim-manifest/tests/fixtures ../tests/fixtures
FUZZ_SEEDS_shell_words = seeds/shell_words ../tests/sessions ../tests/shell
FUZZ_SEEDS_dns_wire = seeds/dns_wire
FUZZ_SEEDS_netfilter = seeds/netfilter

# FUZZ_BUILD: extra `cargo fuzz build` options. Release builds use one codegen unit, which on
# two cores takes over half an hour the first time; the short run builds unoptimised instead.
FUZZ_BUILD ?=

fuzz: fuzz-deps
	cd fuzz && cargo fuzz build -s none $(FUZZ_BUILD)
	cd fuzz && $(foreach t,$(FUZZ_TARGETS),echo "== fuzz $(t) for $(FUZZ_SECONDS)s" && mkdir -p corpus/$(t) && \
	  cargo fuzz run -s none $(FUZZ_BUILD) $(t) corpus/$(t) $(FUZZ_SEEDS_$(t)) -- \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=25 -print_final_stats=1 &&) true

# What CI runs: every target briefly, so a crash on the inputs found so far fails the build.
# Unoptimised (`--dev`, debug assertions on): builds in minutes; runs fewer inputs a second.
fuzz-short:
	$(MAKE) fuzz FUZZ_SECONDS=20 FUZZ_BUILD=--dev

fuzz-deps:
	@command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
