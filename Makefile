# peapod: a pod runtime. `make run` sets up a fresh Debian machine and runs the
# example pod; `make check` runs the whole test suite.
CC ?= cc
PKGS := yaml-0.1 json-c libarchive libseccomp libnghttp2 libprotobuf-c
WARN := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 \
	-Wswitch-default -Wundef -Wpointer-arith -Wvla -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -Isrc -I$(BUILD)/gen $(WARN) $(CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libarchive is not linked: src/image/archive_api.c loads it when a tarball is imported.
# Nor is OpenSSL: src/util/digest.c loads libcrypto on the first digest,
# src/probe/tls.c libssl on the first TLS probe, src/registry/curl_api.c
# libcurl on the first registry transfer (libcurl4-openssl-dev: its headers).
LDLIBS := $(shell pkg-config --libs yaml-0.1 json-c libseccomp libnghttp2 libprotobuf-c zlib 2>/dev/null) -lm
BUILD ?= build
# peapod version: git describe at build, else this.
VERSION := 0.1.0
GIT_VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo v$(VERSION))

LIB_SRC := $(sort $(shell find src -name '*.c' ! -path 'src/cli/*' ! -path 'src/progs/*'))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
# The CRI's messages (src/cri/api.proto), compiled by protoc-c into
# $(BUILD)/gen/cri/ (not committed): their own object, built with protoc-c's
# warnings, not ours.
CRI_GEN := $(BUILD)/gen/cri/api.pb-c.c $(BUILD)/gen/cri/api.pb-c.h
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/cri/api.pb-c.o
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%) $(BUILD)/tests/test_settings_knobs
HELPER_SRC := $(sort $(wildcard tests/helpers/*.c))
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/helpers/%)

DEBIAN_DEPS := build-essential pkg-config libyaml-dev libjson-c-dev libarchive-dev libcmocka-dev \
	busybox-static bats iproute2 procps util-linux containernetworking-plugins iptables clang \
	libclang-rt-14-dev python3 clang-format cppcheck libseccomp-dev libnghttp2-dev \
	libssl-dev openssl libcurl4-openssl-dev docker-registry skopeo podman zstd libcap2-bin \
	libisal-dev curl protobuf-c-compiler libprotobuf-c-dev python3-grpcio python3-grpc-tools zlib1g-dev

.PHONY: all deps run check unit system asan fuzz format lint clean bench floor breakdown bench-layers \
	bench-pull bench-cri soak stress fuzz-long check-hog

# src/progs, x86-64 only: what a pod's infra process execs (peapod-infra)
# and what starts a container's exec probes (peapod-exec); elsewhere peapod
# does both itself.
PROGS := $(if $(filter x86_64,$(shell uname -m)),$(BUILD)/peapod-infra $(BUILD)/peapod-exec)

all: $(BUILD)/peapod $(BUILD)/peapod-test $(PROGS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(CRI_GEN) &: src/cri/api.proto
	@mkdir -p $(BUILD)/gen/cri
	protoc-c --proto_path=src/cri --c_out=$(BUILD)/gen/cri $<

$(BUILD)/gen/cri/api.pb-c.o: $(BUILD)/gen/cri/api.pb-c.c $(BUILD)/gen/cri/api.pb-c.h
	$(CC) -std=c11 -D_GNU_SOURCE $(CFLAGS) $(shell pkg-config --cflags libprotobuf-c) -c $< -o $@

# Every CRI file may include the generated header; the version Version
# answers comes from the build.
$(filter $(BUILD)/src/cri/%,$(LIB_OBJ)): $(BUILD)/gen/cri/api.pb-c.h
PP_VERSION := 0.1.0+$(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
$(BUILD)/src/cri/cri_runtime.o: ALL_CFLAGS += -DPP_VERSION='"$(PP_VERSION)"'

# Made anew each time: the object of a source that was removed must not
# linger in the archive.
$(BUILD)/src/cli/cmd_version.o: ALL_CFLAGS += -DPEAPOD_VERSION='"$(GIT_VERSION)"'
$(BUILD)/libpeapod.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

# -z now: every symbol bound at start (full RELRO); a supervisor that later
# calls a function for the first time does not run the dynamic linker again
# (whose pages it gave back once set up, util/mem.h).
# The libraries every verb may need are linked in (their Debian -dev
# packages ship the archives): the dynamic linker then loads libc only,
# which takes ~0.3 ms off every command's start (bench/RESULTS.md, "The
# CLI's own start"), and libm's ~0.1 ms (cgroup_v2.c); libcurl, libcrypto,
# libssl and isa-l stay loaded on first use (dlopen).
CLI_LDLIBS := -Wl,-Bstatic $(shell pkg-config --libs yaml-0.1 json-c libseccomp libnghttp2 \
	libprotobuf-c zlib 2>/dev/null) -Wl,-Bdynamic
$(BUILD)/peapod: $(CLI_OBJ) $(BUILD)/libpeapod.a
	$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libpeapod.a $(CLI_LDLIBS) -Wl,-z,now $(LDFLAGS)

# The test build: the same objects but the settings module compiled with
# the test knobs (src/util/settings.h), which the user's build/peapod
# ignores. The system tests run it ($PEAPOD); never installed.
TEST_KNOBS_OBJ := $(BUILD)/test-knobs/src/util/settings.o
$(TEST_KNOBS_OBJ): src/util/settings.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DPP_TEST_KNOBS -MMD -MP -c $< -o $@

$(BUILD)/peapod-test: $(CLI_OBJ) $(TEST_KNOBS_OBJ) $(BUILD)/libpeapod.a
	$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJ) $(TEST_KNOBS_OBJ) $(BUILD)/libpeapod.a $(CLI_LDLIBS) \
		-Wl,-z,now $(LDFLAGS)

# No libc, no start-up code: each keeps two or three pages. Mode 0111: a
# process without CAP_DAC_READ_SEARCH may exec them but not read them, which
# makes the kernel start it not dumpable.
$(BUILD)/peapod-%: src/progs/peapod-%.c src/progs/nolibc.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -Isrc -O2 $(WARN) -static -nostdlib -fno-stack-protector \
		-fno-builtin -fno-asynchronous-unwind-tables -fcf-protection=none -Wl,--build-id=none \
		-o $@.tmp $<
	chmod 0111 $@.tmp
	mv -f $@.tmp $@

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libpeapod.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libpeapod.a $(LDLIBS) -lcmocka -larchive $(LDFLAGS)

# The help's tables against the verbs' (src/cli without its main).
CLI_LIB_OBJ := $(filter-out $(BUILD)/src/cli/main.o,$(CLI_OBJ))
$(BUILD)/tests/test_cli_help: tests/unit/test_cli_help.c $(CLI_LIB_OBJ) $(BUILD)/libpeapod.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(CLI_LIB_OBJ) $(BUILD)/libpeapod.a $(LDLIBS) -lcmocka $(LDFLAGS)
# The settings' test again, against the test build's settings module.
$(BUILD)/tests/test_settings_knobs: tests/unit/test_settings.c $(TEST_KNOBS_OBJ) $(BUILD)/libpeapod.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DPP_TEST_KNOBS -o $@ $< $(TEST_KNOBS_OBJ) $(BUILD)/libpeapod.a $(LDLIBS) \
		-lcmocka $(LDFLAGS)

# Helpers copied into test images: static, so they run in a busybox rootfs.
$(BUILD)/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Werror -static -o $@ $< $(HELPER_LIBS)
# The grpc probe tests' server: libnghttp2's server side (libnghttp2.a).
$(BUILD)/helpers/grpc-health-server: HELPER_LIBS := -lnghttp2
# The exec-probe benchmark's command: no libc, no start-up code (x86-64).
$(BUILD)/helpers/nop: HELPER_LIBS := -nostdlib

# Installs the Debian packages peapod needs to build and test (idempotent).
deps:
	@missing=""; for p in $(DEBIAN_DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

# The seed example: a web server and a sidecar sharing a volume and localhost.
# It runs until stopped; here it is stopped with SIGINT (as Ctrl-C) after a while.
RUN_SECONDS ?= 12
run: deps
	$(MAKE) all helpers
	tests/lib/make-busybox-image.sh $(BUILD)/peapod busybox:1.36
	status=0; timeout --foreground --preserve-status -s INT $(RUN_SECONDS) $(BUILD)/peapod run -f examples/web-sidecar.yaml || status=$$?; \
	[ $$status -eq 0 ] || [ $$status -eq 130 ]

helpers: $(HELPER_BIN)

unit: $(UNIT_BIN)
system: $(BUILD)/peapod-test $(HELPER_BIN)

# The whole suite: unit tests, system tests, the same under ASan+UBSan, and a
# bounded fuzz run of the manifest parser. Prints "N passed, N failed" last.
check: deps
	$(MAKE) all unit helpers
	tests/run-all.sh

# tests/system/concurrency.bats for minutes (not in make check): more shells,
# more iterations, image pulls and removals against the local test registry
# (STRESS_WORKERS, STRESS_ITERATIONS).
stress: deps
	$(MAKE) all helpers
	PEAPOD="$(CURDIR)/$(BUILD)/peapod-test" HELPERS="$(CURDIR)/$(BUILD)/helpers" bats tests/stress

# The system tests with two busy loops beside them (tests/hog.sh; not in
# make check): no assertion may depend on an idle machine. HOG_BATS: what
# bats runs (default tests/system), HOG_LOOPS: how many loops.
check-hog: deps
	$(MAKE) all helpers
	PEAPOD="$(CURDIR)/$(BUILD)/peapod-test" HELPERS="$(CURDIR)/$(BUILD)/helpers" \
		tests/hog.sh $(HOG_BATS)

# Benchmarks, peapod against podman and runc (installed from Debian when
# absent); not part of check. Prints one table and writes it to
# $(BUILD)/bench/results.md. See bench/README.md for BENCH_* settings.
$(BUILD)/bench/benchtime: bench/benchtime.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/bench/floor: bench/floor.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o $@ $<

bench: deps
	$(MAKE) all helpers $(BUILD)/bench/benchtime $(BUILD)/bench/floor
	BUILD=$(BUILD) bench/bench.sh

# Each step of a pod's start, exec and delete against the kernel's floor for
# it (bench/README.md, "The floor"); also part of `make bench`.
floor: deps
	$(MAKE) all helpers $(BUILD)/bench/benchtime $(BUILD)/bench/floor
	BUILD=$(BUILD) bench/floor.sh

# Pod start from a 5-layer image against the one-layer busybox image.
bench-layers: deps
	$(MAKE) all helpers $(BUILD)/bench/benchtime
	BUILD=$(BUILD) bench/layers.sh

# A cold image pull from a local registry: peapod against podman and skopeo
# (bench/README.md, "Pull"); not part of check either.
bench-pull: deps
	$(MAKE) all
	BUILD=$(BUILD) bench/pull.sh

# A pod with one container through the CRI: peapod node --cri next to
# containerd 1.6 + runc, with crictl and with the RPCs alone (bench/cri.sh).
bench-cri: deps
	$(MAKE) all helpers
	BUILD=$(BUILD) bench/cri.sh

# `make soak`: hundreds of pods for an hour, sampled every minute (bench/README.md,
# "Soak"); SOAK_MINUTES, SOAK_PODS, SOAK_SAMPLE. Not part of check.
soak: deps
	$(MAKE) all helpers
	BUILD=$(BUILD) bench/soak.sh

# Where a pod's start and stop spend their time, step by step (PEAPOD_TRACE).
breakdown: deps
	$(MAKE) all helpers
	BUILD=$(BUILD) bench/breakdown.sh

asan:
	$(MAKE) BUILD=build-asan CC=clang CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" all unit

FUZZ_SECONDS ?= 60
# each target but the manifest parser's: a third of it (make fuzz-long: all of it)
FUZZ_EACH ?= $$(( $(FUZZ_SECONDS) / 3 + 1 ))
FUZZ_CC = clang -std=c11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined \
	$(shell pkg-config --cflags $(PKGS))
# The manifest parser for FUZZ_SECONDS; the CRI log reader, the seccomp
# profile parser, the CNI configuration and result readers, the
# probes' response parsing (httpGet, grpc), the control socket's exec
# messages, image references and registries' WWW-Authenticate headers, the
# image documents (manifests, indexes, configs), the registry client's
# answers (tokens, errors bodies, headers, redirects), image layers (entry
# paths, whole tar streams unpacked), the files a pull reads (TOML,
# registries.conf, credentials), docker-archive manifest.json, the atomic
# writer's payloads (paths classified, written, read back), the CLI's check
# of a verb's flags (any command line), inputs of several objects (ConfigMaps,
# Secrets, Lists, JSON) and the node process's static pod files, for a third
# of it each.
# The targets' own files go under build-fuzz/tmp (fuzz/fuzz_tmp.h), this
# checkout's: two checkouts fuzzing at once never remove each other's.
fuzz: export TMPDIR = $(CURDIR)/build-fuzz/tmp
fuzz:
	@rm -rf build-fuzz/tmp && mkdir -p build-fuzz/tmp
	@mkdir -p build-fuzz/corpus build-fuzz/corpus-crilog build-fuzz/corpus-seccomp build-fuzz/corpus-cni \
		build-fuzz/corpus-probe build-fuzz/corpus-control build-fuzz/corpus-image-ref-auth \
		build-fuzz/corpus-oci build-fuzz/corpus-registry build-fuzz/corpus-layer \
		build-fuzz/corpus-pull-conf build-fuzz/corpus-archive build-fuzz/corpus-atomic-writer \
		build-fuzz/corpus-objects build-fuzz/corpus-selector build-fuzz/corpus-cri \
		build-fuzz/corpus-job build-fuzz/corpus-cli-flags build-fuzz/corpus-node \
		build-fuzz/corpus-spdy
	$(FUZZ_CC) -o build-fuzz/fuzz_manifest fuzz/fuzz_manifest.c \
		$(filter src/manifest/%.c src/util/%.c src/security/caps.c,$(LIB_SRC)) $(LDLIBS)
	$(FUZZ_CC) -o build-fuzz/fuzz_crilog fuzz/fuzz_crilog.c \
		$(filter src/logs/%.c src/manifest/%.c src/util/%.c src/security/caps.c,$(LIB_SRC)) $(LDLIBS)
	$(FUZZ_CC) -o build-fuzz/fuzz_cni fuzz/fuzz_cni.c \
		$(filter src/net/%.c src/manifest/%.c src/state/%.c src/util/%.c src/security/caps.c,$(LIB_SRC)) \
		$(LDLIBS)
	$(FUZZ_CC) -o build-fuzz/fuzz_probe fuzz/fuzz_probe.c \
		src/probe/grpc_health.c src/probe/grpc_probe.c src/probe/http_response.c \
		src/probe/net_probe.c src/probe/tls.c $(filter src/util/%.c,$(LIB_SRC)) \
		$(LDLIBS)
	$(FUZZ_CC) -o build-fuzz/fuzz_control fuzz/fuzz_control.c src/supervisor/control_msg.c \
		src/supervisor/control_debug.c src/supervisor/control_cri.c \
		src/runtime/security.c $(filter src/security/%.c src/util/%.c src/manifest/%.c,$(LIB_SRC)) \
		$(LDLIBS)
	$(FUZZ_CC) -o build-fuzz/fuzz_image_ref_auth fuzz/fuzz_image_ref_auth.c src/image/auth_challenge.c \
		src/image/image_ref.c $(filter src/util/%.c,$(LIB_SRC)) $(LDLIBS)
	$(FUZZ_CC) -o build-fuzz/fuzz_oci fuzz/fuzz_oci.c src/image/oci.c src/image/oci_platform.c \
		src/image/oci_write.c src/image/image_config.c $(filter src/util/%.c,$(LIB_SRC)) \
		$(LDLIBS)
	$(FUZZ_CC) -o build-fuzz/fuzz_registry fuzz/fuzz_registry.c src/registry/response.c \
		$(filter src/util/%.c,$(LIB_SRC)) $(LDLIBS)
	$(FUZZ_CC) -o build-fuzz/fuzz_layer_path fuzz/fuzz_layer_path.c src/image/layer_path.c \
		src/image/layer_apply.c src/image/layer_unpack.c src/image/archive_api.c \
		src/image/tar_split.c src/image/gunzip.c $(filter src/util/%.c,$(LIB_SRC)) $(LDLIBS)
	$(FUZZ_CC) -o build-fuzz/fuzz_pull_conf fuzz/fuzz_pull_conf.c \
		$(filter src/pull/registries_conf.c src/pull/credentials.c src/util/%.c,$(LIB_SRC)) $(LDLIBS)
	$(FUZZ_CC) -o build-fuzz/fuzz_objects fuzz/fuzz_objects.c src/objects/store.c \
		src/objects/store_fs.c \
		$(filter src/manifest/%.c src/util/%.c src/security/caps.c,$(LIB_SRC)) $(LDLIBS)
	$(FUZZ_CC) -o build-fuzz/fuzz_node_file fuzz/fuzz_node_file.c src/node/static_file.c \
		$(filter src/manifest/%.c src/util/%.c src/security/caps.c,$(LIB_SRC)) $(LDLIBS)
	$(FUZZ_CC) -o build-fuzz/fuzz_archive_manifest fuzz/fuzz_archive_manifest.c \
		src/image/archive_manifest.c $(filter src/util/%.c,$(LIB_SRC)) $(LDLIBS)
	$(FUZZ_CC) -o build-fuzz/fuzz_atomic_writer fuzz/fuzz_atomic_writer.c \
		$(filter src/util/%.c,$(LIB_SRC)) $(LDLIBS)
	$(MAKE) $(CRI_GEN)
	$(FUZZ_CC) -I$(BUILD)/gen -o build-fuzz/fuzz_cri fuzz/fuzz_cri.c $(BUILD)/gen/cri/api.pb-c.c \
		$(LIB_SRC) $(LDLIBS) -larchive
	build-fuzz/fuzz_manifest -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=1024 \
		build-fuzz/corpus fuzz/corpus
	build-fuzz/fuzz_crilog -max_total_time=$(FUZZ_EACH) -max_len=65536 \
		-rss_limit_mb=1024 build-fuzz/corpus-crilog fuzz/corpus-crilog
	$(FUZZ_CC) -o build-fuzz/fuzz_seccomp fuzz/fuzz_seccomp.c \
		$(filter src/security/%.c src/util/%.c,$(LIB_SRC)) $(LDLIBS)
	LSAN_OPTIONS=suppressions=fuzz/lsan-libseccomp.supp \
		build-fuzz/fuzz_seccomp -max_total_time=$(FUZZ_EACH) -max_len=16384 \
		-rss_limit_mb=1024 build-fuzz/corpus-seccomp fuzz/corpus-seccomp
	build-fuzz/fuzz_cni -max_total_time=$(FUZZ_EACH) -max_len=65536 \
		-rss_limit_mb=1024 build-fuzz/corpus-cni fuzz/corpus-cni
	build-fuzz/fuzz_probe -max_total_time=$(FUZZ_EACH) -max_len=16384 \
		-rss_limit_mb=1024 build-fuzz/corpus-probe fuzz/corpus-probe
	build-fuzz/fuzz_control -max_total_time=$(FUZZ_EACH) -max_len=16384 \
		-rss_limit_mb=1024 build-fuzz/corpus-control fuzz/corpus-control
	build-fuzz/fuzz_image_ref_auth -max_total_time=$(FUZZ_EACH) -max_len=16384 \
		-rss_limit_mb=1024 build-fuzz/corpus-image-ref-auth fuzz/corpus-image-ref-auth
	build-fuzz/fuzz_oci -max_total_time=$(FUZZ_EACH) -max_len=65536 \
		-rss_limit_mb=1024 build-fuzz/corpus-oci fuzz/corpus-oci
	build-fuzz/fuzz_registry -max_total_time=$(FUZZ_EACH) -max_len=16384 \
		-rss_limit_mb=1024 build-fuzz/corpus-registry fuzz/corpus-registry
	build-fuzz/fuzz_layer_path -max_total_time=$(FUZZ_EACH) -max_len=65536 \
		-rss_limit_mb=1024 build-fuzz/corpus-layer fuzz/corpus-layer
	$(FUZZ_CC) -o build-fuzz/fuzz_selector fuzz/fuzz_selector.c \
		$(filter src/util/%.c,$(LIB_SRC)) $(LDLIBS)
	build-fuzz/fuzz_selector -max_total_time=$(FUZZ_EACH) -max_len=4096 \
		-rss_limit_mb=1024 build-fuzz/corpus-selector fuzz/corpus-selector
	$(FUZZ_CC) -o build-fuzz/fuzz_job fuzz/fuzz_job.c src/controller/job_decide.c \
		src/controller/job_status_json.c \
		$(filter src/manifest/%.c src/util/%.c src/security/caps.c,$(LIB_SRC)) $(LDLIBS)
	build-fuzz/fuzz_job -max_total_time=$(FUZZ_EACH) -max_len=65536 \
		-rss_limit_mb=1024 build-fuzz/corpus-job fuzz/corpus-job
	build-fuzz/fuzz_pull_conf -max_total_time=$(FUZZ_EACH) -max_len=65536 \
		-rss_limit_mb=1024 build-fuzz/corpus-pull-conf fuzz/corpus-pull-conf
	build-fuzz/fuzz_objects -max_total_time=$(FUZZ_EACH) -max_len=65536 \
		-rss_limit_mb=1024 build-fuzz/corpus-objects fuzz/corpus-objects
	build-fuzz/fuzz_node_file -max_total_time=$(FUZZ_EACH) -max_len=65536 \
		-rss_limit_mb=1024 build-fuzz/corpus-node fuzz/corpus-node
	build-fuzz/fuzz_archive_manifest -max_total_time=$(FUZZ_EACH) \
		-max_len=65536 -rss_limit_mb=1024 build-fuzz/corpus-archive fuzz/corpus-archive
	build-fuzz/fuzz_atomic_writer -max_total_time=$(FUZZ_EACH) -max_len=16384 \
		-rss_limit_mb=1024 build-fuzz/corpus-atomic-writer fuzz/corpus-atomic-writer
	build-fuzz/fuzz_cri -max_total_time=$(FUZZ_EACH) -max_len=65536 \
		-rss_limit_mb=1024 build-fuzz/corpus-cri fuzz/corpus-cri
	$(FUZZ_CC) -o build-fuzz/fuzz_cli_flags fuzz/fuzz_cli_flags.c src/cli/cli_help.c \
		$(filter src/util/%.c,$(LIB_SRC)) $(LDLIBS)
	build-fuzz/fuzz_cli_flags -max_total_time=$(FUZZ_EACH) -max_len=4096 \
		-rss_limit_mb=1024 build-fuzz/corpus-cli-flags fuzz/corpus-cli-flags
	$(FUZZ_CC) -o build-fuzz/fuzz_spdy fuzz/fuzz_spdy.c src/cri/spdy.c src/cri/stream_http.c \
		$(filter src/util/%.c,$(LIB_SRC)) $(LDLIBS)
	build-fuzz/fuzz_spdy -max_total_time=$(FUZZ_EACH) -max_len=65536 \
		-rss_limit_mb=1024 build-fuzz/corpus-spdy fuzz/corpus-spdy
	rm -rf build-fuzz/tmp

# `make fuzz-long` (not part of check): every target of `make fuzz` for
# FUZZ_SECONDS each (default 300 here), by hand; what it finds becomes a
# test (bench/RESULTS.md, "Reliability"). The corpora grow in build-fuzz/.
FUZZ_LONG_SECONDS = $(if $(filter file default,$(origin FUZZ_SECONDS)),300,$(FUZZ_SECONDS))
fuzz-long:
	$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_LONG_SECONDS) FUZZ_EACH=$(FUZZ_LONG_SECONDS)

format:
	clang-format -i $(shell find src tests fuzz -name '*.[ch]')

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr -Isrc src

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_KNOBS_OBJ:.o=.d)
