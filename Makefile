# The two commands: `make demo` and `make test`. Both set up what they need first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PACKAGES := ./calipso_core ./calipso_plugins_openstack ./calipso_plugins_vpp ./calipso_plugins_aci
STAMP := $(VENV)/.installed

.PHONY: setup system test test-isolated demo bench lint clean

setup: $(STAMP)

$(STAMP): calipso_core/pyproject.toml calipso_plugins_openstack/pyproject.toml \
          calipso_plugins_vpp/pyproject.toml calipso_plugins_aci/pyproject.toml pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(addprefix -e ,$(PACKAGES))
	$(PY) -m pip install -q --group dev
	touch $@

# Services the tests start themselves: RabbitMQ (Debian's package) for the message bus.
system:
	@command -v rabbitmq-server >/dev/null || { \
	  echo "installing rabbitmq-server"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null; }

test: setup system
	$(VENV)/bin/pytest
	$(VENV)/bin/tox -q -e isolated-core

test-isolated: setup system
	$(VENV)/bin/tox -q -e isolated-core,isolated-openstack,isolated-vpp,isolated-aci

demo: setup system
	$(PY) -m calipso_core.demo

bench: setup system
	$(PY) bench/run.py

lint: setup
	$(VENV)/bin/ruff check calipso_core calipso_plugins_openstack calipso_plugins_vpp calipso_plugins_aci tests bench

clean:
	rm -rf $(VENV) .tox
