# cs231n-course: one virtual environment in .venv, made on first use.
#
#   make lab                        start JupyterLab on your workspace/ (built from
#                                   the student release on first use, updated after);
#                                   workspace/solutions/ links to the model solutions
#   make lab LAB_ARGS="--no-browser --port 8899"
#   make test                       ruff check, library tests + notebook checks (nbval)
#   make bench                      speed benchmarks (benchmarks/), not part of make test;
#                                   PyTorch, if installed in .venv, is timed in processes of its own
#   make clean / make distclean     remove caches and build outputs / also .venv
#
# PYTHON picks the interpreter the venv is made from (only used while .venv
# does not exist yet), e.g. `make test PYTHON=python3.12`.

PYTHON ?= python3
LAB_ARGS ?=
PYTEST_ARGS ?=
BENCH_ARGS ?=

SHELL := /bin/sh
VENV := .venv
VPY := $(VENV)/bin/python
# Stamps live inside .venv, so removing .venv also forgets what was installed.
VENV_STAMP := $(VENV)/.stamp-created
LAB_STAMP := $(VENV)/.stamp-install-lab
TEST_STAMP := $(VENV)/.stamp-install-test

# The student release the workspace is made from, rebuilt when the course changes.
# Its nbgrader course directory is build/lab-course, never the instructor's grading/.
RELEASE_ZIP := release/cs231n.zip
RELEASE_INPUTS := $(wildcard notebooks/*.ipynb cs231n_lib/*.py cs231n_lib/*/*.py cs231n_course/*.py)

.PHONY: lab test bench clean distclean
.DELETE_ON_ERROR:

# The workspace update never overwrites a file you changed, and running the
# solution notebooks (which rebuilds the release) is not a course update (see README).
# The student's lab: nbgrader's instructor tools off, Validate kept, for this launch
# only (JUPYTER_CONFIG_PATH; see cs231n_course/lab_config.py); a plain `jupyter lab`
# still has them. CS231N_DATA points the workspace's library at datasets/ of this checkout.
STUDENT_LAB_CONFIG := build/student-lab
lab: $(RELEASE_ZIP)
	$(VPY) -m cs231n_course workspace
	$(VPY) -m cs231n_course.lab_config --config-dir $(STUDENT_LAB_CONFIG) --workspace workspace
	@root_flag=; if [ "$$(id -u)" = 0 ]; then root_flag=--allow-root; fi; \
	echo "Starting JupyterLab on workspace/ (Ctrl-C to stop); model solutions: workspace/solutions/"; \
	CS231N_DATA="$${CS231N_DATA:-$(CURDIR)/datasets}"; export CS231N_DATA; \
	JUPYTER_CONFIG_PATH="$(CURDIR)/$(STUDENT_LAB_CONFIG)$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}"; \
	export JUPYTER_CONFIG_PATH; \
	exec $(VPY) -m jupyter lab --ServerApp.root_dir="$(CURDIR)/workspace" $$root_flag $(LAB_ARGS)

$(RELEASE_ZIP): $(RELEASE_INPUTS) $(LAB_STAMP)
	$(VPY) -m cs231n_course release --course-dir build/lab-course

test: $(TEST_STAMP)
	$(VPY) -m ruff check .
	$(VPY) -m pytest tests notebooks --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg -p no:cacheprovider $(PYTEST_ARGS)

# PyTorch is compared against when it is installed in .venv (optional, never required).
bench: $(TEST_STAMP)
	$(VPY) -m benchmarks.layers $(BENCH_ARGS)
	$(VPY) -m benchmarks.layer_processes
	$(VPY) -m benchmarks.training $(BENCH_ARGS)
	$(VPY) -m benchmarks.conv_alternatives
	$(VPY) -m benchmarks.conv_products

$(LAB_STAMP): pyproject.toml $(VENV_STAMP)
	$(VPY) -m pip install -e .
	@touch $@

$(TEST_STAMP): pyproject.toml $(VENV_STAMP)
	$(VPY) -m pip install -e '.[test]'
	@touch $@

# Check the interpreter before making the venv, so a missing or old Python,
# or Debian's Python without python3-venv, fails with advice, not a traceback.
$(VENV_STAMP):
	@ver=$$("$(PYTHON)" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || ver=; \
	if [ -z "$$ver" ]; then \
		echo "error: cannot run '$(PYTHON)'; Python 3.10 or newer is needed."; \
		echo "  Install one (Debian/Ubuntu: apt-get install python3 python3-venv)"; \
		echo "  or name one that works: make $(or $(MAKECMDGOALS),lab) PYTHON=python3.11"; \
		exit 1; \
	fi; \
	if ! "$(PYTHON)" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then \
		echo "error: '$(PYTHON)' is Python $$ver; Python 3.10 or newer is needed."; \
		echo "  Install a newer one and pass it: make $(or $(MAKECMDGOALS),lab) PYTHON=python3.11"; \
		exit 1; \
	fi; \
	if ! "$(PYTHON)" -c 'import ensurepip, venv' 2>/dev/null; then \
		echo "error: the venv module is missing: '$(PYTHON)' (Python $$ver) cannot create virtual environments."; \
		echo "  Debian/Ubuntu: apt-get install python3-venv (or python$$ver-venv),"; \
		echo "  or pass another interpreter: make $(or $(MAKECMDGOALS),lab) PYTHON=python3.11"; \
		exit 1; \
	fi; \
	echo "Creating $(VENV) with $(PYTHON) (Python $$ver)"
	"$(PYTHON)" -m venv $(VENV)
	$(VPY) -m pip install --upgrade pip
	@touch $@

clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
