# For people who install by hand. Install paths: packaging/layout.env (the one table).
#   make                          release build of every agent and tool (and the man-page generator)
#   make install DESTDIR=/root    binaries, metadata, man pages, docs under DESTDIR (default /)
#   make uninstall DESTDIR=/root
#   make deb | make rpm           source and binary packages under target/debian, target/rpm
#                                 (DEB_OPTS=-d: build with a toolchain dpkg does not know)
#   make check                    the whole test suite (tests/run.sh: root, Debian 12)
include packaging/layout.env

DESTDIR ?=
AGENTS = $(shell bash tests/conformance/list-agents.sh)

.PHONY: all build install uninstall deb rpm check

all: build

build:
	bash packaging/build-release.sh

install: build
	bash packaging/stage.sh --bin-dir target/release "$(if $(DESTDIR),$(DESTDIR),/)"

uninstall:
	for a in $(AGENTS); do \
		rm -f "$(DESTDIR)$(OCF_AGENT_DIR)/$$a" "$(DESTDIR)$(METADATA_DIR)/$$a.xml" \
			"$(DESTDIR)$(MAN_DIR)/$(MAN_PREFIX)$$a.$(MAN_SECTION).gz"; \
	done
	for t in $(TOOLS); do \
		rm -f "$(DESTDIR)$(SBIN_DIR)/$$t" "$(DESTDIR)$(ADMIN_MAN_DIR)/$$t.8.gz"; \
	done
	rm -rf "$(DESTDIR)$(DOC_DIR)"
	-rmdir "$(DESTDIR)$(OCF_AGENT_DIR)" "$(DESTDIR)$(METADATA_DIR)"

deb:
	bash packaging/build-deb.sh $(DEB_OPTS)

rpm:
	bash packaging/build-rpm.sh

check:
	bash tests/run.sh
