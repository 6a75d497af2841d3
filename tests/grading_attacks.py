"""Hostile submissions for the end-to-end grading test, one per attack on the grader.

Each ``make_*`` writes one submission folder from the real release (``make`` copies it
and applies edits) and returns what grading it must give. Attackers are named
``attack-*`` so that they are graded before ``victim-*`` (a correct submission graded
right after them: its points prove the attack did not reach it). Code that would run
as root on the host leaves a marker in the host's /tmp (``PWNED_GLOB``); in the sandbox
its /tmp is private, so a marker there is harmless and invisible.
"""

import json
import subprocess
import textwrap
from pathlib import Path

import nbformat

PWNED_DIR = Path("/tmp")
PWNED_GLOB = "cs231n-pwned-*"
HOG_MB = 8 * 1024


def pwn_code(tag):
    """Python that proves it ran: a marker file in /tmp and a line on stdout."""
    return (f"open('/tmp/cs231n-pwned-{tag}', 'w').write('ran')\n"
            f"print('PWNED {tag}')\n")


SHADOW_CHECKS = (
    "def __getattr__(name):\n"
    "    return lambda *args, **kwargs: print('OK (shadow)')\n"
)

# Imported names the grader, the kernel or the checks would look for, each a file that runs code.
SHADOWING_FILES = {
    "cs231n_course/__init__.py": pwn_code("course-package"),
    "cs231n_course/kernel_launcher.py": pwn_code("launcher"),
    "cs231n_course/autograde_student.py": pwn_code("autograde"),
    "cs231n_course/kernel/__init__.py": pwn_code("kernel-package"),
    "sitecustomize.py": pwn_code("sitecustomize"),
    "usercustomize.py": pwn_code("usercustomize"),
    "evil.pth": "import os; exec(open('evil_payload.py').read())\n",
    "evil_payload.py": pwn_code("pth"),
    "ipykernel_launcher.py": pwn_code("ipykernel-launcher"),
    "ipykernel/__init__.py": pwn_code("ipykernel-package"),
    "nbgrader/__init__.py": pwn_code("nbgrader-package"),
    "cs231n_lib/checks/dropout/__init__.py": SHADOW_CHECKS,
    "cs231n_lib/checks/common/__init__.py": SHADOW_CHECKS,
}


def make_shadowing(make, untouched_points=0):
    """Blank answers plus packages and hooks that shadow what the grader and checks import."""
    folder = make("attack-shadow")
    for relative, text in SHADOWING_FILES.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text, encoding="utf-8")
    (folder / "cs231n_lib" / "extra_link.py").symlink_to("/etc/passwd")
    return untouched_points


LEFTOVER_DAEMON = textwrap.dedent("""\
    import glob, json, os, time
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            # A daemon that hunts for later students' kernels for two minutes.
            deadline = time.time() + 120
            while time.time() < deadline:
                mine = os.environ.get('JPY_SESSION_NAME', '')
                for path in glob.glob('/tmp/**/*.json', recursive=True) + glob.glob('/proc/*/cwd'):
                    try:
                        print(path, os.listdir(path) if os.path.isdir(path) else open(path).read()[:80])
                    except OSError:
                        pass
                time.sleep(0.5)
            os._exit(0)
        os._exit(0)
    os.waitpid(pid, 0)
    for _ in range(20):
        if os.fork() == 0:
            os.setsid()
            os.execv('/usr/bin/sleep', ['sleep', '313.25'])
    """)


def with_answer_code(make, name, answers, solved_layers, code):
    """A submission with right answers whose answer cell then runs ``code``; returns its folder."""
    def edit(nb):
        answers(nb)
        answer_cell(nb).source += "\n" + code
    return make(name, solved_layers, edit)


def make_leftover(make, answers, solved_layers):
    """Right answers, and background processes (new sessions, double forks) that try to outlive grading."""
    with_answer_code(make, "attack-leftover", answers, solved_layers, LEFTOVER_DAEMON)
    return 5


FORK_BOMB = textwrap.dedent("""\
    import os, time
    children = 0
    while True:
        pid = os.fork()
        if pid == 0:
            os.setsid()
            time.sleep(300)
            os._exit(0)
        children += 1
    """)


def make_fork_bomb(make, answers, solved_layers):
    """Right library, answer cell that forks until refused: the kernel can start no thread after it."""
    with_answer_code(make, "attack-forkbomb", answers, solved_layers, FORK_BOMB)
    return None


HIDDEN_PRINTER = textwrap.dedent("""\
    ip = get_ipython()
    ip.events.register('pre_run_cell', lambda info: print('NEXT CELL:', info.raw_cell))
    ip.events.register('post_run_cell', lambda result: print('LAST CELL:', ip.user_ns['In'][-1]))
    """)


def make_hidden_printer(make, answers, solved_layers):
    """Right answers, and IPython hooks that print every later cell (the check cells included)."""
    def edit(nb):
        answers(nb)
        answer_cell(nb).source += "\n" + HIDDEN_PRINTER
    layers = solved_layers + textwrap.dedent("""

        _graded_forward = dropout_forward


        def dropout_forward(*args, **kwargs):
            import __main__
            print('CALLER CELL:', getattr(__main__, 'In', ['?'])[-1])
            return _graded_forward(*args, **kwargs)
        """)
    make("attack-hiddenprint", layers, edit)
    return 5


SCRIPT_OUTPUT = textwrap.dedent("""\
    from IPython.display import HTML, Javascript, display
    display(HTML('<script>document.title = "pwned-html"</script><img src="x" onerror="document.title=1">'
                 '<a href="javascript:alert(1)">link</a><iframe src="https://example.com"></iframe>'))
    display(Javascript('document.title = "pwned-js"'))
    """)
SCRIPT_MARKDOWN = ('<script>document.title = "pwned-md"</script>\n<img src="x" onerror="document.title=2">\n'
                   '<img src="https://example.com/track.png">')


def make_script(make, answers, solved_layers):
    """Right answers, script in an output and in a written answer."""
    def edit(nb):
        answers(nb)
        answer_cell(nb).source += "\n" + SCRIPT_OUTPUT
        cell_by_id(nb, "06-inline-q1-answer").source += "\n\n" + SCRIPT_MARKDOWN
    make("attack-script", solved_layers, edit)
    return 5


def make_big_output(make, answers, solved_layers):
    """Right answers, then 200 MB printed in one cell."""
    with_answer_code(make, "attack-bigoutput", answers, solved_layers, "print('x' * 200_000_000)")
    return 5


def make_memory_hog(make, answers, solved_layers):
    """Right answers, then a cell of its own that takes memory 100 MB at a time.

    Its own cell: a hog inside the answer cell would run out of memory again when the hidden
    test works the answers out anew, and lose that test's point for a reason of its own.
    """
    def edit(nb):
        answers(nb)
        where = nb.cells.index(answer_cell(nb)) + 1
        nb.cells.insert(where, nbformat.v4.new_code_cell(
            f"hog = [bytearray(100 * 2**20) for _ in range({HOG_MB // 100})]"))
    make("attack-memory", solved_layers, edit)
    return 5


def make_crash(make, answers, solved_layers):
    """Right library, but the answer cell kills its own kernel: the checks after it are not run."""
    with_answer_code(make, "attack-crash", answers, solved_layers, "import os\nos._exit(7)")
    return 0


def make_tampered(make, answers, solved_layers):
    """Right answers; a check cell turned into an answer cell, a locked cell's grade_id renamed,
    and two cells sharing an id: all restored from the release, so full points."""
    def edit(nb):
        answers(nb)
        check = cell_by_id(nb, "06-backward-check")
        check.metadata.nbgrader.update(solution=True, grade=False, locked=False)
        check.source = "pass"
        cell_by_id(nb, "06-setup").metadata.nbgrader["grade_id"] = "renamed-setup"
    folder = make("attack-tampered", solved_layers, edit)
    path = folder / "06_dropout.ipynb"
    raw = json.loads(path.read_text(encoding="utf-8"))  # nbformat would refuse to write duplicate ids
    plain = [cell for cell in raw["cells"] if "nbgrader" not in cell["metadata"]]
    plain[1]["id"] = plain[0]["id"]
    path.write_text(json.dumps(raw), encoding="utf-8")
    return 5


def git_origin(root):
    """The checkout's git origin (a path or URL), or None."""
    result = subprocess.run(["git", "-C", str(root), "remote", "get-url", "origin"], capture_output=True,
                            text=True)
    return result.stdout.strip() or None if result.returncode == 0 else None


def thief_targets(root, course_dir):
    """Files and non-empty folders on the host that hold solutions, grades or anything private."""
    candidates = [course_dir / "source" / "ps06" / "06_dropout.ipynb", course_dir / "gradebook.db",
                  course_dir / "release", root / "cs231n_lib" / "layers.py", root / "notebooks" / "06_dropout.ipynb",
                  root / ".git" / "config", root / ".git" / "HEAD", Path.home() / ".bash_history",
                  Path("/etc/hostname"), Path("/etc/shadow"), Path("/etc/os-release"), Path("/proc/1/environ"),
                  Path("/var/log"), Path("/home"), Path("/srv"), Path("/opt")]
    origin = git_origin(root)
    if origin and Path(origin).exists():
        candidates += [Path(origin) / ".git" / "config", Path(origin) / "config",
                       Path(origin) / "cs231n_lib" / "layers.py"]
    return [path for path in candidates if path.is_file() or (path.is_dir() and any(path.iterdir()))]


THIEF = textwrap.dedent("""\
    import os, pathlib, socket
    found = []
    for target in {targets!r}:
        path = pathlib.Path(target)
        try:
            if path.is_dir():
                if os.listdir(path):
                    found.append(target)
            elif path.read_bytes():
                found.append(target)
        except OSError:
            pass
    for host, port in (('127.0.0.1', 22), ('10.0.0.1', 80), ('pypi.org', 443)):
        try:
            socket.create_connection((host, port), timeout=1).close()
            found.append(f'network {{host}}')
        except OSError:
            pass
    try:
        open({gradebook!r}, 'ab').write(b'garbage')
        found.append('gradebook writable')
    except OSError:
        pass
    print('THIEF FOUND:', found if found else 'nothing')
    p_library, kept_scale, expected_dropped = 0.5, 2.0, 50
    """)


def make_thief(make, root, course_dir):
    """Nothing done; reads the checkout, its git origin, the course directory, the machine."""
    targets = [str(t) for t in thief_targets(root, course_dir)]
    source = THIEF.format(targets=targets, gradebook=str(course_dir / "gradebook.db"))

    def edit(nb):
        answer_cell(nb).source = source
    make("attack-thief", None, edit)
    return 0


# Rows of entries that cannot be graded (a bad id's row is named by the entry), and the words
# each status must hold.
BAD_ENTRIES = {
    "bad id.zip": "not a student id",
    "\u00e9l\u00e8ve.zip": "not a student id",
    "__MACOSX": "archive metadata",
    "broken": "broken.zip is not a valid zip",
    "dup": "two submissions for dup (dup and dup.zip)",
}


def make_bad_entries(submissions, release_zip, make):
    """Badly named, broken or duplicated entries beside the good ones; a notebook that is not JSON."""
    for name in ("bad id.zip", "\u00e9l\u00e8ve.zip", "dup.zip"):
        (submissions / name).write_bytes(release_zip.read_bytes())
    (submissions / "__MACOSX").mkdir()
    (submissions / "__MACOSX" / "._06_dropout.ipynb").write_bytes(b"\x00\x05\x16\x07")
    (submissions / "broken.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    make("dup")
    folder = make("badjson")
    (folder / "06_dropout.ipynb").write_text('{"cells": [', encoding="utf-8")
    return {**BAD_ENTRIES, "badjson": "not valid JSON"}


def cell_by_id(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def answer_cell(nb):
    return cell_by_id(nb, "06-conventions-answer")
