# hashwatch - top-level Makefile.  Settings live in config.mk.
#
# Source layout decides what goes where, so that a new file needs no edit
# here:  util/*.c, models/*.c, hashdb/*.c -> static libraries;
# daemon/cli/*.c -> hashwatch; daemon/scanner/*.c -> hashwatchd;
# daemon/uplink/*.c -> hashwatch-uplink; receiver/*.c -> hashwatch-receiver;
# models/opencv/*.cpp -> hashwatch-opencv.so (optional module);
# tests/unit/test_*.c -> one test program each; tests/tools/*.c -> helper
# programs the integration tests run; tests/bench/bench_*.c ->
# one benchmark program each; tests/fuzz/fuzz_*.c -> libFuzzer targets.

include config.mk

UTIL_SRC = $(wildcard util/*.c)
MODELS_SRC = $(wildcard models/*.c)
DB_SRC = $(wildcard hashdb/*.c)
CLI_SRC = $(wildcard daemon/cli/*.c)
SCANNER_SRC = $(wildcard daemon/scanner/*.c)
# Everything of hashwatchd but main(), so that tests/unit/test_daemon_*.c
# can link the scanner's modules.
SCANNER_LIB_SRC = $(filter-out daemon/scanner/main.c,$(SCANNER_SRC))
UPLINK_SRC = $(wildcard daemon/uplink/*.c)
# Everything of hashwatch-uplink but main(), so that tests/unit/test_uplink_*.c
# can link its modules.
UPLINK_LIB_SRC = $(filter-out daemon/uplink/main.c,$(UPLINK_SRC))
RECEIVER_SRC = $(wildcard receiver/*.c)
CV_SRC = $(wildcard models/opencv/*.cpp)
TEST_SRC = $(wildcard tests/unit/test_*.c)
BENCH_SRC = $(wildcard tests/bench/bench_*.c)
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
TOOL_SRC = $(wildcard tests/tools/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBUTIL = $(BUILD)/libhwutil.a
LIBMODELS = $(BUILD)/libhwmodels.a
LIBDB = $(BUILD)/libhwdb.a
LIBSCANNER = $(BUILD)/libhwscanner.a
LIBUPLINK = $(BUILD)/libhwuplink.a
# Order matters for static linking: users before providers.
CORELIBS = $(LIBDB) $(LIBMODELS) $(LIBUTIL)

PROGRAMS = $(BUILD)/hashwatch
ifneq ($(SCANNER_SRC),)
PROGRAMS += $(BUILD)/hashwatchd
endif
ifneq ($(UPLINK_SRC),)
PROGRAMS += $(BUILD)/hashwatch-uplink
endif
ifneq ($(RECEIVER_SRC),)
PROGRAMS += $(BUILD)/hashwatch-receiver
endif
CVMODULE = $(if $(CV_SRC),$(BUILD)/hashwatch-opencv.so)
UNIT_TESTS = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))
BENCHES = $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
FUZZERS = $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
# The same targets without libFuzzer, for make check to replay the corpora.
REPLAYS = $(patsubst tests/fuzz/fuzz_%.c,$(BUILD)/tests/replay/%,$(FUZZ_SRC))
TOOLS = $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRC))

.PHONY: all deps test check check-san bench fuzz fuzz-build install install-core \
	install-opencv install-receiver clean tests-build demo deb check-system
all: $(PROGRAMS) $(CVMODULE)

ifeq ($(V),1)
Q =
else
Q = @
endif

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIBUTIL): $(call obj,$(UTIL_SRC))
	@rm -f $@; $(AR) rcs $@ $^
$(LIBMODELS): $(call obj,$(MODELS_SRC))
	@rm -f $@; $(AR) rcs $@ $^
$(LIBDB): $(call obj,$(DB_SRC))
	@rm -f $@; $(AR) rcs $@ $(if $^,$^,)
$(LIBSCANNER): $(call obj,$(SCANNER_LIB_SRC))
	@rm -f $@; $(AR) rcs $@ $^
$(LIBUPLINK): $(call obj,$(UPLINK_LIB_SRC))
	@rm -f $@; $(AR) rcs $@ $^

$(BUILD)/hashwatch: $(call obj,$(CLI_SRC)) $(CORELIBS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(call pc_libs,$(PC_ALL)) -ldl -lm
$(BUILD)/hashwatchd: $(call obj,daemon/scanner/main.c) $(LIBSCANNER) $(CORELIBS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(call pc_libs,$(PC_DAEMON)) -ldl -lm
$(BUILD)/hashwatch-uplink: $(call obj,daemon/uplink/main.c) $(LIBUPLINK) $(LIBUTIL)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(call pc_libs,$(PC_UPLINK)) -lm
# The dashboard's files are built into www.o with .incbin.
$(BUILD)/obj/receiver/www.o: $(wildcard receiver/www/*)
$(BUILD)/hashwatch-receiver: $(call obj,$(RECEIVER_SRC)) $(LIBUTIL)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(call pc_libs,$(PC_RECEIVER)) -lm

# The optional OpenCV module: never linked into the programs, dlopen()ed.
# It links only the three OpenCV libraries it uses (not pkg-config's full
# list, which drags in highgui, viz and their Qt/VTK/HDF5).  img_hash is
# taken from its static archive when there is one, so that the module needs
# only libopencv-core and -imgproc at run time, not libopencv-contrib and
# its dependencies.  Only the three hashwatch_cv_* symbols are exported.
CV_LIBDIR = $(shell $(PKG_CONFIG) --variable=libdir opencv4)
CV_IMGHASH = $(or $(wildcard $(CV_LIBDIR)/libopencv_img_hash.a),-lopencv_img_hash)
$(CVMODULE): $(CV_SRC) models/cvhash.h models/model.h models/image.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CXX     $@")
	$(Q)$(CXX) $(CXXFLAGS_ALL) $(filter-out -fPIE,$(HARDEN)) -fvisibility=hidden \
		-shared -o $@ $(CV_SRC) \
		-Wl,-z,relro,-z,now -Wl,--as-needed -Wl,--exclude-libs,ALL \
		-L$(CV_LIBDIR) $(CV_IMGHASH) -lopencv_imgproc -lopencv_core

$(BUILD)/tests/%: tests/unit/%.c $(CORELIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -Itests -o $@ $< $(CORELIBS) $(LDFLAGS_ALL) \
		$(call pc_libs,$(PC_ALL) cmocka) -ldl -lm

# The scanner's unit tests link its modules too (and need hashwatchd, whose
# --worker mode they start).
$(BUILD)/tests/test_daemon_%: tests/unit/test_daemon_%.c $(LIBSCANNER) $(CORELIBS) $(BUILD)/hashwatchd
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -Itests -Idaemon/scanner -o $@ $< $(LIBSCANNER) $(CORELIBS) \
		$(LDFLAGS_ALL) $(call pc_libs,$(PC_ALL) cmocka) -ldl -lm

$(BUILD)/tests/tools/%: tests/tools/%.c $(CORELIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(CORELIBS) $(LDFLAGS_ALL) $(call pc_libs,$(PC_CORE)) -lm

# The uplink's unit tests link its modules too.
$(BUILD)/tests/test_uplink_%: tests/unit/test_uplink_%.c $(LIBUPLINK) $(CORELIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -Itests -Idaemon/uplink -o $@ $< $(LIBUPLINK) $(CORELIBS) \
		$(LDFLAGS_ALL) $(call pc_libs,$(PC_ALL) cmocka) -ldl -lm

$(BUILD)/bench/%: tests/bench/%.c $(CORELIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -Itests -o $@ $< $(CORELIBS) $(LDFLAGS_ALL) \
		$(call pc_libs,$(PC_ALL) libjpeg) -ldl -lm

# Each fuzz target linked with tests/fuzz/replay.c's main() instead of
# libFuzzer: tests/integration/fuzz_replay.sh runs the seed corpora through
# them (under ASan+UBSan in check-san).
$(BUILD)/tests/replay/%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(CORELIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -Itests -o $@ $< tests/fuzz/replay.c $(CORELIBS) \
		$(LDFLAGS_ALL) $(call pc_libs,$(PC_ALL)) -ldl -lm

tests-build: all $(UNIT_TESTS) $(BENCHES) $(TOOLS) $(REPLAYS)

# One test command for people and CI.
check: tests-build
	BUILD=$(BUILD) tests/run.sh

# The README's test command (and CI's): install what is missing, run the
# fuzz targets briefly, the packages in a Debian 12 root with systemd
# (check-system), then the suite under the sanitizers and plain.
# The plain run goes last so that its summary is the closing line.
test: deps
	$(MAKE) fuzz FUZZTIME=5
	$(MAKE) check-system
	$(MAKE) WERROR=1 check-san
	$(MAKE) WERROR=1 check

# The README's demo command.
demo: deps
	$(MAKE) all
	BUILD=$(BUILD) tests/demo.sh

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer.
check-san:
	$(MAKE) SAN=1 check

# The image benchmark's OpenCV peer (tests/bench/peer_opencv.cpp): built by
# `make bench` only, so that nothing else needs OpenCV to build.
PEER_BENCH = $(BUILD)/bench/peer_opencv
$(PEER_BENCH): tests/bench/peer_opencv.cpp
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CXX     $@")
	$(Q)$(CXX) $(CXXFLAGS_ALL) -o $@ $< $(LDFLAGS_ALL) $(call pc_libs,opencv4)

bench: all $(BENCHES) $(PEER_BENCH)
	BUILD=$(BUILD) tests/bench/run.sh

# libFuzzer targets: each tests/fuzz/fuzz_NAME.c defines LLVMFuzzerTestOneInput
# and has its seed corpus in tests/fuzz/corpus/NAME/.
$(BUILD)/fuzz/%: tests/fuzz/%.c $(CORELIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -Itests -o $@ $< $(CORELIBS) \
		$(call pc_libs,$(PC_ALL)) -ldl -lm

fuzz-build: $(FUZZERS)

# Run every fuzz target for FUZZTIME seconds (make test runs them briefly;
# run longer by hand: make fuzz FUZZTIME=600).
FUZZTIME ?= 10
fuzz:
	$(MAKE) FUZZ=1 fuzz-build
	BUILD=build-fuzz FUZZTIME=$(FUZZTIME) tests/fuzz/run.sh

deps:
	@missing=$$(for p in $(DEB_BUILD) $(DEB_TEST); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends $$missing; \
	else echo "all build and test dependencies are installed"; fi
	@command -v npm >/dev/null || { echo "installing: npm"; apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm || \
		echo "warning: npm could not be installed; the dashboard browser test will SKIP"; }

# make install puts everything the Debian packages ship under DESTDIR; the
# three parts are separate targets so that debian/rules can install each
# package's share into its own folder.  Programs not built (a component
# not merged yet) are skipped together with their unit and man page.
# Units name /usr/sbin in ExecStart=; other prefixes get it rewritten.
INSTALL_MAN = for m in $(1); do [ -f "$$m" ] || continue; s=$${m\#\#*.}; \
	install -d $(DESTDIR)$(MANDIR)/man$$s; install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
INSTALL_UNIT = install -d $(DESTDIR)$(UNITDIR); \
	sed 's|/usr/sbin/|$(SBINDIR)/|g' packaging/systemd/$(1) > $(DESTDIR)$(UNITDIR)/$(1); \
	chmod 0644 $(DESTDIR)$(UNITDIR)/$(1)
RECEIVER_MAN = $(wildcard packaging/man/hashwatch-receiver*)
CORE_MAN = $(filter-out $(RECEIVER_MAN),$(wildcard packaging/man/*.[158]))

install: install-core install-opencv install-receiver

install-core: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSCONFDIR)/hashwatch
	install -m 0755 $(BUILD)/hashwatch $(DESTDIR)$(BINDIR)/
	install -m 0644 packaging/sysusers/hashwatch.conf $(DESTDIR)$(SYSUSERSDIR)/hashwatch.conf
	install -m 0644 packaging/tmpfiles/hashwatch.conf $(DESTDIR)$(TMPFILESDIR)/hashwatch.conf
	[ ! -f packaging/hashwatch.conf ] || \
		install -m 0644 packaging/hashwatch.conf $(DESTDIR)$(SYSCONFDIR)/hashwatch/hashwatch.conf
	$(if $(wildcard $(BUILD)/hashwatchd),install -m 0755 $(BUILD)/hashwatchd $(DESTDIR)$(SBINDIR)/)
	$(if $(wildcard $(BUILD)/hashwatchd),$(call INSTALL_UNIT,hashwatchd.service))
	$(if $(wildcard $(BUILD)/hashwatch-uplink),install -m 0755 $(BUILD)/hashwatch-uplink $(DESTDIR)$(SBINDIR)/)
	$(if $(wildcard $(BUILD)/hashwatch-uplink),$(call INSTALL_UNIT,hashwatch-uplink.service))
	$(call INSTALL_MAN,$(CORE_MAN))

install-opencv: all
	$(if $(CVMODULE),install -d $(DESTDIR)$(PKGLIBDIR))
	$(if $(CVMODULE),install -m 0644 $(CVMODULE) $(DESTDIR)$(PKGLIBDIR)/)

install-receiver: all
ifneq ($(RECEIVER_SRC),)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(SYSCONFDIR)/hashwatch
	install -m 0755 $(BUILD)/hashwatch-receiver $(DESTDIR)$(SBINDIR)/
	install -m 0644 packaging/sysusers/hashwatch-receiver.conf $(DESTDIR)$(SYSUSERSDIR)/
	install -m 0644 packaging/receiver.conf $(DESTDIR)$(SYSCONFDIR)/hashwatch/receiver.conf
	$(call INSTALL_UNIT,hashwatch-receiver.service)
	$(call INSTALL_MAN,$(RECEIVER_MAN))
endif

# Debian packages into build/deb/ (packaging/mkdeb.sh; lintian must be
# clean).  DEB_VERSION defaults to the VERSION file.
DEB_VERSION ?= $(VERSION)
DEB_OUT ?= build/deb
deb:
	packaging/mkdeb.sh $(DEB_OUT) $(DEB_VERSION)

# The packages installed and run in a real systemd inside a Debian 12
# root (tests/system/; needs root; the root is cached under
# /var/cache/hashwatch-test-root).  Builds the packages twice: the second
# build, one version higher, is the upgrade.
check-system:
	$(MAKE) deb
	REUSE=$(DEB_OUT) LINTIAN=no DEB_BUILD_OPTIONS=noautodbgsym \
		packaging/mkdeb.sh build/deb-next $(DEB_VERSION)+test1
	tests/system/run.sh $(DEB_OUT) build/deb-next

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
