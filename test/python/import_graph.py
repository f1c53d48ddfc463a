"""Checks that the Python runtime under python/ imports only the standard library (and itself).

Run by test/python-imports.test.ts as `/usr/bin/python3 -I -S import_graph.py <python dir>`; it
prints one JSON report and exits 1 when there is a problem.  Three checks, because each alone
misses something:

  static   every `import` / `from ... import` in every module (top level and inside functions:
           a lazy import runs on some request, so it must be stdlib too), plus importlib /
           __import__ calls with a literal name, checked against sys.stdlib_module_names;
  dynamic  a fresh interpreter without site-packages (-I -S) imports every module of the runtime
           and lists what got loaded: a third-party import fails there instead of passing quietly
           because Debian's python3 happens to have Django installed;
  cycles   import cycles between the runtime's own modules.

Modules are found by walking the directory, so one file and a package of many work the same.
"""
import ast
import json
import os
import subprocess
import sys

# Imports of the app's own framework, allowed only inside a function: the runtime reads the
# settings of a Django the app has already imported (it checks sys.modules first), so it
# never brings Django in itself.  Every use is listed in the report.
APP_FRAMEWORK_IMPORTS = {'django': "the app's own Django, read only after the app imported it"}


def discover(root):
    """{dotted module name: path} for every .py under root; packages are dirs with __init__.py."""
    modules = {}
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != '__pycache__' and not d.startswith('.'))
        rel = os.path.relpath(directory, root)
        parts = [] if rel == '.' else rel.split(os.sep)
        if parts and not all(os.path.isfile(os.path.join(root, *parts[:i + 1], '__init__.py')) for i in range(len(parts))):
            continue
        for name in sorted(files):
            if not name.endswith('.py'):
                continue
            stem = name[:-3]
            dotted = '.'.join(parts if stem == '__init__' else parts + [stem])
            if dotted:
                modules[dotted] = os.path.join(directory, name)
    return modules


def is_package(modules, name):
    return modules.get(name, '').endswith('__init__.py')


def resolve_relative(modules, current, level, module):
    """The absolute name `from <level dots><module> import ...` refers to, inside `current`, or
    None when the dots climb above the top-level package (an ImportError at run time)."""
    base = current.split('.') if is_package(modules, current) else current.split('.')[:-1]
    if level > len(base):
        return None
    if level > 1:
        base = base[:len(base) - (level - 1)]
    return '.'.join(base + ([module] if module else []))


def imports_of(modules, name, path):
    """Yields (line, absolute module name, inside a function, candidate submodules) per import;
    candidates are None for a relative import that climbs too high (the name is then as written)."""
    with open(path, 'rb') as f:
        tree = ast.parse(f.read(), filename=path)
    functions = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for inner in ast.walk(node):
                if inner is not node:
                    functions.add(id(inner))
    for node in ast.walk(tree):
        lazy = id(node) in functions
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, lazy, []
        elif isinstance(node, ast.ImportFrom):
            target = resolve_relative(modules, name, node.level, node.module) if node.level else node.module
            if target is None:
                yield node.lineno, '.' * node.level + (node.module or ''), lazy, None
                continue
            yield node.lineno, target, lazy, [target + '.' + alias.name for alias in node.names]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if called in ('import_module', '__import__') and not node.args[0].value.startswith('.'):
                yield node.lineno, node.args[0].value, lazy, []


def static_check(root, modules):
    own = {m.split('.')[0] for m in modules}
    stdlib = sys.stdlib_module_names
    problems, allowed, edges, count = [], [], {m: set() for m in modules}, 0
    for name, path in modules.items():
        where_file = os.path.relpath(path, root)
        for line, target, lazy, submodules in imports_of(modules, name, path):
            count += 1
            if submodules is None:
                problems.append('%s:%d imports %s: a relative import above the top-level package' % (where_file, line, target))
                continue
            top = target.split('.')[0]
            where = '%s:%d imports %s' % (where_file, line, target)
            if top in own:
                found = [m for m in submodules if m in modules] or ([target] if target in modules else [])
                if not found:
                    problems.append(where + ': not a module of the runtime')
                edges[name].update(found)
            elif top in stdlib:
                continue
            elif top in APP_FRAMEWORK_IMPORTS and lazy:
                allowed.append('%s (%s)' % (where, APP_FRAMEWORK_IMPORTS[top]))
            else:
                problems.append(where + (' inside a function' if lazy else ' at import time') + ': not in the standard library (sys.stdlib_module_names); the runtime must stay stdlib-only')
    return problems, allowed, edges, count


def find_cycles(edges):
    """One cycle per back edge of a depth-first search: empty exactly when there is none."""
    cycles, state, stack = [], {}, []

    def walk(node):
        state[node] = 'open'
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 'open':
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 'done'

    for node in sorted(edges):
        if node not in state:
            walk(node)
    return [' -> '.join(c) for c in cycles]


DYNAMIC_PROBE = r'''
import importlib, json, sys, traceback
root, names = sys.argv[1], sys.argv[2:]
sys.path.insert(0, root)
before = set(sys.modules)
errors = []
for name in names:
    try:
        importlib.import_module(name)
    except BaseException:
        errors.append('importing %s failed:\n%s' % (name, traceback.format_exc()))
loaded = {}
for name, module in list(sys.modules.items()):
    if name not in before:
        loaded[name] = getattr(module, '__file__', None)
print(json.dumps({'errors': errors, 'loaded': loaded}))
'''


def dynamic_check(root, modules):
    """Imports every module in a fresh `-I -S` interpreter; what else got loaded must be stdlib."""
    run = subprocess.run([sys.executable, '-I', '-S', '-B', '-c', DYNAMIC_PROBE, root] + sorted(modules),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if run.returncode != 0:
        return ['the import probe exited with %d: %s' % (run.returncode, run.stderr.decode(errors='replace'))], 0
    result = json.loads(run.stdout.decode().splitlines()[-1])
    own = {m.split('.')[0] for m in modules}
    problems = list(result['errors'])
    root_abs = os.path.realpath(root)
    for name, path in sorted(result['loaded'].items()):
        top = name.split('.')[0]
        if top in own:
            if path is not None and not os.path.realpath(path).startswith(root_abs + os.sep):
                problems.append('%s was loaded from %s, outside %s' % (name, path, root))
        elif top not in sys.stdlib_module_names:
            problems.append('importing the runtime loaded %s (%s), which is not in the standard library' % (name, path))
        elif path is not None and ('site-packages' in path or 'dist-packages' in path):
            problems.append('%s was loaded from %s: a third-party module shadows the standard library' % (name, path))
    return problems, len(result['loaded'])


def main(argv):
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        sys.stderr.write('usage: import_graph.py <python runtime directory>\n')
        return 2
    root = argv[1]
    modules = discover(root)
    problems, allowed, edges, count = static_check(root, modules)
    dynamic, loaded = dynamic_check(root, modules)
    report = {
        'modules': sorted(modules),
        'imports_seen': count,
        'modules_loaded': loaded,
        'static': problems,
        'dynamic': dynamic,
        'cycles': find_cycles(edges),
        'allowed': allowed,
    }
    print(json.dumps(report, indent=1))
    return 1 if problems or dynamic or report['cycles'] or not modules else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
