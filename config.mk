# config.mk - settings for the Makefile.  Override on the command line:
#   make PREFIX=/usr/local, make SAN=1 (ASan+UBSan), make WERROR=1 (CI)

VERSION = $(shell cat VERSION)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
PKGLIBDIR ?= $(LIBDIR)/hashwatch
MANDIR ?= $(PREFIX)/share/man
# systemd reads units, sysusers.d and tmpfiles.d from /usr/local/lib too.
UNITDIR ?= /lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var/lib
DESTDIR ?=

CC ?= cc
CXX ?= c++
PKG_CONFIG ?= pkg-config
CLANG ?= clang

# Strict warnings.  Third-party headers come in through -isystem so that
# their warnings are not ours.
WARN = -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
       -Wformat=2 -Wpointer-arith -Wcast-align -Wwrite-strings -Wundef \
       -Wvla -Wold-style-definition -Wnull-dereference -Wimplicit-fallthrough \
       -Wno-unused-parameter
CXXWARN = -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter

OPT ?= -O2 -g
CSTD = -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64
HARDEN = -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
LDHARDEN = -pie -Wl,-z,relro,-z,now -Wl,--as-needed

ifeq ($(WERROR),1)
WARN += -Werror
CXXWARN += -Werror
endif

ifeq ($(SAN),1)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT = -O1 -g
HARDEN = -fPIE
BUILD ?= build-san
endif
# libFuzzer build: make FUZZ=1 fuzz-build (clang, ASan+UBSan, coverage)
ifeq ($(FUZZ),1)
CC = $(CLANG)
SANFLAGS = -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
OPT = -O1 -g
HARDEN = -fPIE
BUILD ?= build-fuzz
endif
BUILD ?= build

# pkg-config, with -I turned into -isystem
pc_cflags = $(patsubst -I%,-isystem %,$(shell $(PKG_CONFIG) --cflags $(1)))
pc_libs = $(shell $(PKG_CONFIG) --libs $(1))

PC_MODELS = vips libjpeg libwebp libcrypto
PC_DB = libsodium
PC_CORE = $(PC_MODELS) $(PC_DB) json-c
PC_DAEMON = $(PC_CORE) libsystemd libseccomp inih
PC_UPLINK = libsodium json-c libcurl libsystemd inih
PC_RECEIVER = libsodium json-c sqlite3 libmicrohttpd gnutls libsystemd inih
PC_ALL = $(PC_CORE) libsystemd libseccomp inih libcurl sqlite3 libmicrohttpd gnutls

CPPFLAGS_ALL = -I. -Imodels -Ihashdb -Iutil -Idaemon \
	-DHW_VERSION='"$(VERSION)"' -DHW_PKGLIBDIR='"$(PKGLIBDIR)"' \
	-DHW_SYSCONFDIR='"$(SYSCONFDIR)"' -DHW_LOCALSTATEDIR='"$(LOCALSTATEDIR)"'

CFLAGS_ALL = $(CSTD) $(OPT) $(WARN) $(HARDEN) $(SANFLAGS) $(CPPFLAGS_ALL) \
	$(call pc_cflags,$(PC_ALL)) $(CFLAGS)
CXXFLAGS_ALL = -std=c++17 $(OPT) $(CXXWARN) -fPIC $(SANFLAGS) -I. -Imodels \
	$(call pc_cflags,opencv4) $(CXXFLAGS)
LDFLAGS_ALL = $(LDHARDEN) $(SANFLAGS) $(LDFLAGS)

# Debian packages needed to build, run and test (make deps installs them).
DEB_BUILD = build-essential pkg-config clang libclang-rt-14-dev \
	libvips-dev libjpeg62-turbo-dev libwebp-dev libsodium-dev libssl-dev libjson-c-dev \
	libsystemd-dev libseccomp-dev libinih-dev libcurl4-openssl-dev \
	libmicrohttpd-dev libgnutls28-dev libsqlite3-dev libcmocka-dev \
	libopencv-dev libopencv-contrib-dev
DEB_TEST = libvips-tools python3 openssl curl jq valgrind file chromium nodejs npm \
	debhelper dpkg-dev fakeroot lintian debootstrap
