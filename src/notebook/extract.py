"""Reads a notebook revision's test files with Python's own parser (ast), inside pyodide.

NEVER executes the user's code: every value comes from interpreting the handful of AST shapes the
notebook's tests use (literal lists, np.array/np.ones/np.concatenate, constant arithmetic, slicing).
Anything else is reported with its file and line.

Input (global `REQUEST`, JSON text): {"files": [{"role": "public-tests"|"outputs"|"notebook", "path": str, "b64": str}]}
(the file's bytes, base64: decoded here as Python decodes a source file, PEP 263).
Output (the value of `extract(REQUEST)`, JSON text): {"calls": [...], "checks": [...], "printed": [...], "notes": [...],
"warnings": [...]} or {"error": {"file", "line", "message"}}.

Bounded evaluation (a hostile or broken file gets an error naming file and line, in bounded time and memory):
  - nesting: a file's expressions are measured on its tokens before ast.parse (a 10k-term sum already
    overflows pyodide's stack inside ast.parse): at most MAX_DEPTH levels;
  - integers: every arithmetic result at most MAX_INT_BITS bits (`9**9**9` is refused before computing it);
  - floats: every value finite (`1e400`, `1e300*1e300`); division by zero is an error;
  - arrays: at most MAX_ELEMENTS elements each, MAX_TOTAL_ELEMENTS built in all (np.ones, np.concatenate, ...).
"""
import ast
import base64
import io
import json
import math
import re
import tokenize

BLOCKS = {
    "identity_block": ["X", "f", "filters", "training", "initializer"],
    "convolutional_block": ["X", "f", "filters", "s", "training", "initializer"],
}
# Limits (docs/notebook-revisions.md "Limits"). A course test builds arrays of tens to hundreds of values and
# nests a few brackets deep; these are orders of magnitude above that and far below what exhausts pyodide.
MAX_ELEMENTS = 1 << 20
MAX_TOTAL_ELEMENTS = 1 << 22
MAX_INT_BITS = 1024
MAX_DEPTH = 100
MAX_PRINTED_DEPTH = 32


class Bad(Exception):
    def __init__(self, file, line, message):
        super().__init__(message)
        self.file, self.line, self.message = file, line, message


class Limit(Bad):
    """An evaluation bound or an arithmetic error: always reported (never taken as 'not an array we read')."""


BUDGET = {"elements": 0}
# The statement being read, for errors Python raises outside our checks (named with file and line).
CURRENT = {"file": "<no file>", "line": 0}


def spend(n, node, ctx, what):
    if n > MAX_ELEMENTS:
        raise Limit(ctx.file, getattr(node, "lineno", 0), "%s: %d elements, more than the limit of %d elements per array"
                    % (what, n, MAX_ELEMENTS))
    BUDGET["elements"] += n
    if BUDGET["elements"] > MAX_TOTAL_ELEMENTS:
        raise Limit(ctx.file, getattr(node, "lineno", 0), "%s: the arrays read so far hold %d elements, more than the "
                    "limit of %d in all" % (what, BUDGET["elements"], MAX_TOTAL_ELEMENTS))


def dotted(node):
    """'np.random.seed' for Attribute chains on a Name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def src(text, node):
    return (ast.get_source_segment(text, node) or ast.dump(node))[:200]


# ---------------------------------------------------------------- literal arrays and numbers

def checked(value, node, ctx):
    """A finite float, or an int of at most MAX_INT_BITS bits."""
    if isinstance(value, float) and not math.isfinite(value):
        raise Limit(ctx.file, node.lineno, "`%s` is not a finite float64 (%r)" % (ctx.seg(node), value))
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise Limit(ctx.file, node.lineno, "`%s` has %d bits (limit %d bits)" % (ctx.seg(node), value.bit_length(), MAX_INT_BITS))
    return value


def arith(op, a, b, node, ctx):
    """a <op> b with the bounds checked before computing (an integer power's size is known in advance)."""
    if isinstance(a, int) and isinstance(b, int):
        if op is ast.Pow and b > 0 and abs(a) > 1:
            bits = math.ceil(b * math.log2(abs(a)))
            if bits > MAX_INT_BITS:
                raise Limit(ctx.file, node.lineno, "`%s`: %d ** %d would have about %d bits (limit %d bits)"
                            % (ctx.seg(node), a, b, bits, MAX_INT_BITS))
        if op is ast.Mult and a.bit_length() + b.bit_length() > MAX_INT_BITS + 1:
            raise Limit(ctx.file, node.lineno, "`%s`: the product would have about %d bits (limit %d bits)"
                        % (ctx.seg(node), a.bit_length() + b.bit_length(), MAX_INT_BITS))
    try:
        if op is ast.Mult:
            r = a * b
        elif op is ast.Add:
            r = a + b
        elif op is ast.Sub:
            r = a - b
        elif op is ast.Div:
            r = a / b
        else:
            r = a ** b
    except ZeroDivisionError:
        raise Limit(ctx.file, node.lineno, "division by zero in `%s`" % ctx.seg(node))
    except OverflowError:
        raise Limit(ctx.file, node.lineno, "`%s` is not a finite float64 (overflow)" % ctx.seg(node))
    if isinstance(r, complex):
        raise Limit(ctx.file, node.lineno, "`%s` is a complex number" % ctx.seg(node))
    return checked(r, node, ctx)


def number(node, ctx):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return checked(node.value, node, ctx)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = number(node.operand, ctx)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Add, ast.Sub, ast.Div, ast.Pow)):
        a, b = number(node.left, ctx), number(node.right, ctx)
        return arith(type(node.op), a, b, node, ctx)
    raise ctx.bad(node, "expected a number literal, got `%s`" % ctx.seg(node))


def fnum(node, ctx):
    """number() as a float64 (an integer beyond float64's range is an error, not an OverflowError)."""
    v = number(node, ctx)
    try:
        return float(v)
    except OverflowError:
        raise Limit(ctx.file, node.lineno, "`%s` is beyond float64's range" % ctx.seg(node))


def nested(node, ctx, lines=None):
    """A nested list/tuple of numbers -> (shape, flat list); appends each value's line to `lines`."""
    if isinstance(node, (ast.List, ast.Tuple)):
        if not node.elts:
            return [0], []
        parts = [nested(e, ctx, lines) for e in node.elts]
        shape0 = parts[0][0]
        for p, e in zip(parts, node.elts):
            if p[0] != shape0:
                raise ctx.bad(e, "ragged array literal: an element has shape %s, the first has %s" % (p[0], shape0))
        flat = [v for p in parts for v in p[1]]
        return [len(parts)] + shape0, flat
    if lines is not None:
        lines.append(node.lineno)
    return [], [fnum(node, ctx)]


DTYPES = {"np.float32": "float32", "np.float64": "float64", "numpy.float32": "float32", "numpy.float64": "float64",
          "tf.float32": "float32", "tf.float64": "float64", "float": "float64"}


def dtype_of(node, ctx):
    if isinstance(node, ast.Constant) and node.value in ("float32", "float64"):
        return node.value
    d = dotted(node)
    if d in DTYPES:
        return DTYPES[d]
    raise ctx.bad(node, "unsupported dtype `%s` (float32 or float64)" % ctx.seg(node))


def kwargs(call):
    return {k.arg: k.value for k in call.keywords if k.arg}


def array_expr(node, ctx, env):
    """Arrays the tests build: literals, np.array(lit, dtype=), np.ones/zeros/full(shape), scalar arithmetic,
    np.concatenate((...), axis=), .astype(dtype), names bound earlier. -> {"shape", "data", "dtype", "line"}."""
    if isinstance(node, ast.Name):
        if node.id in env and env[node.id]["kind"] == "array":
            return env[node.id]["value"]
        raise ctx.bad(node, "`%s` is not an array this file defines (literal, np.array, np.ones, ...)" % node.id)
    if isinstance(node, (ast.List, ast.Tuple)):
        lines = []
        shape, flat = nested(node, ctx, lines)
        spend(len(flat), node, ctx, "array literal")
        return {"shape": shape, "data": flat, "dtype": None, "line": node.lineno, "lines": lines}
    if isinstance(node, ast.Call):
        f = dotted(node.func)
        kw = kwargs(node)
        if f in ("np.array", "numpy.array", "np.asarray", "tf.constant") and node.args:
            a = array_expr(node.args[0], ctx, env)
            dt = kw.get("dtype") or (node.args[1] if len(node.args) > 1 else None)
            return dict(a, dtype=dtype_of(dt, ctx) if dt is not None else a["dtype"], line=node.lineno)
        if f in ("np.ones", "np.zeros", "np.full", "numpy.ones", "numpy.zeros", "numpy.full") and node.args:
            shp = node.args[0]
            shape = [int(number(e, ctx)) for e in shp.elts] if isinstance(shp, (ast.Tuple, ast.List)) else [int(number(shp, ctx))]
            n = 1
            for d in shape:
                if d < 0:
                    raise ctx.bad(node, "%s: negative dimension %d" % (f, d))
                n = min(n * d, MAX_TOTAL_ELEMENTS + 1)
            spend(n, node, ctx, f)
            v = 1.0 if f.endswith("ones") else 0.0 if f.endswith("zeros") else fnum(node.args[1], ctx)
            dt = kw.get("dtype")
            return {"shape": shape, "data": [v] * n, "dtype": dtype_of(dt, ctx) if dt is not None else "float64", "line": node.lineno}
        if f in ("np.concatenate", "numpy.concatenate") and node.args and isinstance(node.args[0], (ast.Tuple, ast.List)):
            axis = int(number(kw["axis"], ctx)) if "axis" in kw else 0
            parts = [array_expr(e, ctx, env) for e in node.args[0].elts]
            return concatenate(parts, axis, node, ctx)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "astype" and node.args:
            a = array_expr(node.func.value, ctx, env)
            return dict(a, dtype=dtype_of(node.args[0], ctx), line=node.lineno)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Add, ast.Sub, ast.Div)):
        for arr_node, num_node, arr_left in ((node.left, node.right, True), (node.right, node.left, False)):
            try:
                k = fnum(num_node, ctx)
            except Limit:
                raise
            except Bad:
                continue
            a = array_expr(arr_node, ctx, env)
            op = type(node.op)
            spend(len(a["data"]), node, ctx, "`%s`" % ctx.seg(node)[:60])
            try:
                data = [arith(op, x, k, node, ctx) if arr_left else arith(op, k, x, node, ctx) for x in a["data"]]
            except Limit as e:
                raise Limit(e.file, e.line, "%s (element-wise)" % e.message)
            return dict(a, data=data, line=node.lineno)
    raise ctx.bad(node, "cannot read an array from `%s` (supported: literals, np.array, np.ones/zeros/full, "
                        "scalar * array, np.concatenate, .astype)" % ctx.seg(node))


def concatenate(parts, axis, node, ctx):
    rank = len(parts[0]["shape"])
    if axis < 0:
        axis += rank
    for p in parts:
        if len(p["shape"]) != rank or any(p["shape"][i] != parts[0]["shape"][i] for i in range(rank) if i != axis):
            raise ctx.bad(node, "np.concatenate: shapes %s do not fit along axis %d" % ([q["shape"] for q in parts], axis))
    spend(sum(len(p["data"]) for p in parts), node, ctx, "np.concatenate")
    outer = 1
    for d in parts[0]["shape"][:axis]:
        outer *= d
    data = []
    for o in range(outer):
        for p in parts:
            inner = len(p["data"]) // outer if outer else 0
            data.extend(p["data"][o * inner:(o + 1) * inner])
    shape = list(parts[0]["shape"])
    shape[axis] = sum(p["shape"][axis] for p in parts)
    return {"shape": shape, "data": data, "dtype": parts[0]["dtype"], "line": node.lineno}


# ---------------------------------------------------------------- block calls and views

def initializer(node, ctx):
    """The `initializer=` argument: lambda seed=0: constant(value=1) | glorot_uniform | random_uniform | lambda seed=0: glorot_uniform(seed=seed)."""
    body, seed_default = node, 0
    if isinstance(node, ast.Lambda):
        body = node.body
        if node.args.defaults:
            seed_default = int(number(node.args.defaults[-1], ctx))
    if isinstance(body, ast.Name) or isinstance(body, ast.Attribute):
        name = (dotted(body) or "").split(".")[-1]
        if name in ("glorot_uniform", "GlorotUniform"):
            return {"kind": "glorot_uniform", "seed": 0, "text": "glorot_uniform"}
        if name in ("random_uniform", "RandomUniform"):
            return {"kind": "random_uniform", "seed": 0, "text": "random_uniform"}
    if isinstance(body, ast.Call):
        name = (dotted(body.func) or "").split(".")[-1]
        kw = kwargs(body)
        if name in ("constant", "Constant"):
            v = kw.get("value") or (body.args[0] if body.args else None)
            value = float(number(v, ctx)) if v is not None else 0.0
            return {"kind": "constant", "value": value, "text": "constant:%s" % (int(value) if value == int(value) else repr(value))}
        if name in ("glorot_uniform", "GlorotUniform", "random_uniform", "RandomUniform"):
            s = kw.get("seed") or (body.args[0] if body.args else None)
            seed = seed_default if s is None or isinstance(s, ast.Name) else int(number(s, ctx))
            kind = "glorot_uniform" if "lorot" in name else "random_uniform"
            return {"kind": kind, "seed": seed, "text": kind if seed == 0 else "%s@%d" % (kind, seed)}
    raise ctx.bad(node, "unsupported initializer `%s` (lambda seed=0: constant(value=V), glorot_uniform, random_uniform)" % ctx.seg(node))


def literal_bool(node, ctx):
    if isinstance(node, ast.Constant) and isinstance(node.value, (bool, int)):
        return bool(node.value)
    raise ctx.bad(node, "expected True/False, got `%s`" % ctx.seg(node))


def block_call(node, block, ctx, env, state):
    names = BLOCKS[block]
    if len(node.args) > len(names):
        raise ctx.bad(node, "%s takes at most %d positional arguments, got %d" % (block, len(names), len(node.args)))
    args = dict(zip(names, node.args))
    for k in node.keywords:
        if k.arg not in names:
            raise ctx.bad(k.value, "%s has no argument '%s' (it takes %s)" % (block, k.arg, ", ".join(names)))
        args[k.arg] = k.value
    for req in ("X", "f", "filters"):
        if req not in args:
            raise ctx.bad(node, "%s call without `%s`" % (block, req))
    x = array_expr(args["X"], ctx, env)
    f = int(number(args["f"], ctx))
    fl = args["filters"]
    if not isinstance(fl, (ast.List, ast.Tuple)):
        raise ctx.bad(fl, "filters must be a literal list, got `%s`" % ctx.seg(fl))
    filters = [int(number(e, ctx)) for e in fl.elts]
    call = {"id": len(ctx.calls), "file": ctx.file, "line": node.lineno, "function": state["function"], "block": block,
            "f": f, "filters": filters, "input": {"shape": x["shape"], "data": x["data"], "dtype": x["dtype"] or "float64", "line": x["line"]},
            "source": ctx.seg(node)}
    if "s" in args:
        call["s"] = int(number(args["s"], ctx))
    call["training"] = literal_bool(args["training"], ctx) if "training" in args else None
    call["initializer"] = initializer(args["initializer"], ctx) if "initializer" in args else None
    call["seeds"] = {"npRandomSeed": state.get("np_seed"), "tfSetSeed": state.get("tf_seed"),
                     "tfSetSeedLine": state.get("tf_seed_line"), "learningPhase": state.get("learning_phase"),
                     "learningPhaseLine": state.get("learning_phase_line"),
                     "previousCallsSinceSetSeed": list(state.setdefault("since_seed", []))}
    state["since_seed"].append(call["id"])
    ctx.calls.append(call)
    return call


def view(node, ctx, env):
    """What is compared: a block call's output with numpy/tf conversions, row/column selections,
    integer indexing, .mean(axis=), np.around(, k). -> (call id, [steps]) or None when not a call's output."""
    if isinstance(node, ast.Name):
        b = env.get(node.id)
        if b and b["kind"] == "view":
            return b["call"], list(b["steps"])
        return None
    if isinstance(node, ast.Call):
        f = dotted(node.func)
        kw = kwargs(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "numpy" and not node.args:
            return view(node.func.value, ctx, env)
        if f in ("np.array", "np.asarray", "numpy.array") and node.args:
            return view(node.args[0], ctx, env)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "mean":
            inner = view(node.func.value, ctx, env)
            if inner is None:
                return None
            ax = kw.get("axis") or (node.args[0] if node.args else None)
            if ax is None:
                raise ctx.bad(node, "mean() without axis= is not supported")
            return inner[0], inner[1] + [{"op": "mean", "axis": int(number(ax, ctx))}]
        if f in ("np.mean", "numpy.mean") and node.args:
            inner = view(node.args[0], ctx, env)
            if inner is None:
                return None
            ax = kw.get("axis") or (node.args[1] if len(node.args) > 1 else None)
            if ax is None:
                raise ctx.bad(node, "np.mean without axis= is not supported")
            return inner[0], inner[1] + [{"op": "mean", "axis": int(number(ax, ctx))}]
        if f in ("np.around", "np.round", "numpy.around", "numpy.round") and node.args:
            inner = view(node.args[0], ctx, env)
            if inner is None:
                return None
            d = kw.get("decimals") or (node.args[1] if len(node.args) > 1 else None)
            return inner[0], inner[1] + [{"op": "round", "decimals": int(number(d, ctx)) if d is not None else 0}]
        return None
    if isinstance(node, ast.Subscript):
        inner = view(node.value, ctx, env)
        if inner is None:
            return None
        idx = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        sel = []
        for e in idx:
            if isinstance(e, ast.Slice):
                if e.lower is None and e.upper is None and e.step is None:
                    sel.append({"all": True})
                else:
                    lo = int(number(e.lower, ctx)) if e.lower is not None else None
                    hi = int(number(e.upper, ctx)) if e.upper is not None else None
                    st = int(number(e.step, ctx)) if e.step is not None else None
                    sel.append({"slice": [lo, hi, st]})
            elif isinstance(e, (ast.Tuple, ast.List)):
                sel.append({"take": [int(number(v, ctx)) for v in e.elts]})
            else:
                sel.append({"index": int(number(e, ctx))})
        return inner[0], inner[1] + [{"op": "select", "axes": sel}]
    return None


def tolerance(call, ctx):
    kw = kwargs(call)
    t = {"rtol": 1e-5, "atol": 1e-8, "rtolGiven": False, "atolGiven": False}
    for i, name in ((2, "rtol"), (3, "atol")):
        v = kw.get(name) or (call.args[i] if len(call.args) > i else None)
        if v is not None:
            t[name] = float(number(v, ctx))
            t[name + "Given"] = True
    return t


def shape_literal(node, ctx):
    if isinstance(node, (ast.Tuple, ast.List)):
        return [int(number(e, ctx)) for e in node.elts]
    return None


def shape_of_view(node, ctx, env):
    """tuple(A.shape), A.shape, tuple(tf.shape(A).numpy()), A.numpy().shape -> view or None."""
    if isinstance(node, ast.Call) and dotted(node.func) in ("tuple", "list") and node.args:
        return shape_of_view(node.args[0], ctx, env)
    if isinstance(node, ast.Attribute) and node.attr == "shape":
        return view(node.value, ctx, env)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "numpy":
        inner = node.func.value
        if isinstance(inner, ast.Call) and dotted(inner.func) in ("tf.shape", "np.shape") and inner.args:
            return view(inner.args[0], ctx, env)
    if isinstance(node, ast.Call) and dotted(node.func) in ("np.shape", "tf.shape") and node.args:
        return view(node.args[0], ctx, env)
    return None


class Ctx:
    def __init__(self, file, text, modules):
        self.file, self.text, self.modules = file, text, modules
        self.calls, self.checks, self.prints, self.notes = [], [], [], []

    def bad(self, node, message):
        return Bad(self.file, getattr(node, "lineno", 0), message)

    def seg(self, node):
        return src(self.text, node)


def resolve_expected(node, ctx, env):
    """The expected side of np.allclose: inline array, or a name bound in this function, this module or outputs.py."""
    if isinstance(node, ast.Name) and node.id not in env:
        for mod in ctx.modules:
            if node.id in mod["arrays"]:
                a = mod["arrays"][node.id]
                return dict(a, file=mod["file"], name=node.id)
        raise ctx.bad(node, "expected values `%s` are not defined in %s (give --outputs with the file that defines them)"
                      % (node.id, " or ".join(m["file"] for m in ctx.modules) or ctx.file))
    a = array_expr(node, ctx, env)
    return dict(a, file=a.get("file", ctx.file))


def walk(stmts, ctx, env, state, blocks):
    for st in stmts:
        CURRENT.update(file=ctx.file, line=st.lineno)
        if isinstance(st, (ast.If, ast.With, ast.For, ast.While, ast.Try)):
            for part in ("body", "orelse", "finalbody"):
                walk(getattr(st, part, []) or [], ctx, env, state, blocks)
            for h in getattr(st, "handlers", []) or []:
                walk(h.body, ctx, env, state, blocks)
            continue
        value = st.value if isinstance(st, (ast.Expr, ast.Assign, ast.AnnAssign)) else None
        if isinstance(value, ast.Call):
            f = dotted(value.func) or ""
            if f in ("np.random.seed", "numpy.random.seed") and value.args:
                state["np_seed"] = int(number(value.args[0], ctx))
                continue
            if f in ("tf.random.set_seed", "tf.compat.v1.set_random_seed", "tf.set_random_seed") and value.args:
                state["tf_seed"] = int(number(value.args[0], ctx))
                state["tf_seed_line"] = value.lineno
                state["since_seed"] = []
                continue
            if f.endswith("set_learning_phase") and value.args:
                state["learning_phase"] = literal_bool(value.args[0], ctx)
                state["learning_phase_line"] = value.lineno
                continue
            if f == "print" and isinstance(st, ast.Expr):
                v = view(value.args[0], ctx, env) if len(value.args) == 1 else None
                ctx.prints.append({"file": ctx.file, "line": value.lineno, "function": state["function"],
                                   "call": v[0] if v else None, "steps": v[1] if v else None,
                                   "prints": "array" if v else ("text" if value.args and isinstance(value.args[0], (ast.Constant, ast.JoinedStr)) else "other"),
                                   "source": ctx.seg(value)})
                continue
            callee = blocks.get(f)
            if callee:
                c = block_call(value, callee, ctx, env, state)
                if isinstance(st, ast.Assign):
                    for t in st.targets:
                        if isinstance(t, ast.Name):
                            env[t.id] = {"kind": "view", "call": c["id"], "steps": []}
                continue
            if f.endswith("_test") and value.args and isinstance(value.args[0], ast.Name):
                ctx.notes.append({"file": ctx.file, "line": value.lineno, "invokes": f.split(".")[-1], "with": value.args[0].id})
                continue
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
            name = st.targets[0].id
            v = view(st.value, ctx, env)
            if v is not None:
                env[name] = {"kind": "view", "call": v[0], "steps": v[1]}
                continue
            try:
                env[name] = {"kind": "array", "value": array_expr(st.value, ctx, env)}
            except Limit:
                raise
            except Bad:
                env.pop(name, None)  # not something we read; a later use says so with its line
            continue
        if isinstance(st, ast.Assert):
            t = st.test
            msg = ctx.seg(st.msg) if st.msg is not None else None
            if isinstance(t, ast.Call) and dotted(t.func) in ("np.allclose", "numpy.allclose", "np.testing.assert_allclose") and len(t.args) >= 2:
                v = view(t.args[0], ctx, env)
                if v is None:
                    raise ctx.bad(t.args[0], "np.allclose compares `%s`, which is not the output of a block call in this test" % ctx.seg(t.args[0]))
                exp = resolve_expected(t.args[1], ctx, env)
                ctx.checks.append({"kind": "allclose", "file": ctx.file, "line": st.lineno, "function": state["function"],
                                   "call": v[0], "steps": v[1], "expected": exp, "tolerance": tolerance(t, ctx),
                                   "message": msg, "source": ctx.seg(t)})
                continue
            if isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], ast.Eq):
                v = shape_of_view(t.left, ctx, env)
                shp = shape_literal(t.comparators[0], ctx)
                if v is not None and shp is not None:
                    ctx.checks.append({"kind": "shape", "file": ctx.file, "line": st.lineno, "function": state["function"],
                                       "call": v[0], "steps": v[1], "shape": shp, "message": msg, "source": ctx.seg(t)})
                    continue
            ctx.notes.append({"file": ctx.file, "line": st.lineno, "ignored": ctx.seg(t)})


def module_arrays(tree, ctx):
    arrays = {}
    for st in tree.body:
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
            CURRENT.update(file=ctx.file, line=st.lineno)
            try:
                arrays[st.targets[0].id] = dict(array_expr(st.value, ctx, {}), file=ctx.file)
            except Limit:
                raise
            except Bad:
                pass
    return arrays


NESTING_KEYWORDS = {"not", "and", "or", "if", "else", "lambda", "await", "in", "is", "for", "yield"}
STATEMENT_OPS = {",", ";", "=", ":=", "+=", "-=", "*=", "/=", "//=", "%=", "**=", "@=", "&=", "|=", "^=", ">>=", "<<=",
                 "->"}


def check_nesting(text, file):
    """An upper estimate of the AST depth from the tokens (iterative: no recursion, whatever the input):
    per open bracket, the operators, dots and nesting keywords since the last comma at that level, plus
    the brackets and indentation. Refused above MAX_DEPTH before ast.parse, which overflows pyodide's
    stack on a 10k-term expression (a fatal error of the whole interpreter, not a RecursionError)."""
    stack, total, indent, worst, worst_line = [0], 0, 0, 0, 0
    try:
        for t in tokenize.generate_tokens(io.StringIO(text).readline):
            if t.type == tokenize.INDENT:
                indent += 1
            elif t.type == tokenize.DEDENT:
                indent -= 1
            elif t.type == tokenize.NEWLINE:
                stack, total = [0], 0
            elif t.type == tokenize.OP:
                if t.string in "([{":
                    stack[-1] += 1
                    total += 1
                    stack.append(0)
                elif t.string in ")]}":
                    if len(stack) > 1:
                        total -= stack.pop()
                elif t.string in STATEMENT_OPS:
                    total -= stack[-1]
                    stack[-1] = 0
                else:
                    stack[-1] += 1
                    total += 1
            elif t.type == tokenize.NAME and t.string in NESTING_KEYWORDS:
                stack[-1] += 1
                total += 1
            else:
                continue
            d = indent + len(stack) + total
            if d > worst:
                worst, worst_line = d, t.start[0]
    except (tokenize.TokenError, SyntaxError):
        pass  # ast.parse reports it with its line
    if worst > MAX_DEPTH:
        raise Limit(file, worst_line, "expression nested too deeply: about %d levels (limit %d; a long chain of "
                    "operators nests as deep as it is long)" % (worst, MAX_DEPTH))


def parse(text, file):
    check_nesting(text, file)
    try:
        return ast.parse(text, filename=file)
    except SyntaxError as e:
        raise Bad(file, e.lineno or 0, "Python syntax error: %s%s" % (e.msg, " (column %d)" % e.offset if e.offset else ""))


def test_functions(tree):
    """(function, target param, block) for every function whose first parameter is called like a block."""
    out = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef) or not fn.args.args:
            continue
        block = None
        for b in BLOCKS:
            if fn.name.startswith(b):
                block = b
        if block is None:
            continue
        out.append((fn, fn.args.args[0].arg, block))
    return out


NUM = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf)"


def printed_items(text):
    """Arrays (bracketed, numpy/tf print format) and lone numbers in a cell's output text, in order."""
    items, i, n = [], 0, len(text)
    line_of = lambda k: text.count("\n", 0, k) + 1
    while i < n:
        if text[i] == "[":
            depth, j = 0, i
            while j < n:
                if text[j] == "[":
                    depth += 1
                elif text[j] == "]":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            body = text[i:j + 1]
            lst = printed_list(body)
            if lst is not None:
                items.append({"kind": "array", "value": lst, "textLine": line_of(i), "text": body})
            i = j + 1
            continue
        if text[i] == "\n" or i == 0:
            k = i + 1 if text[i] == "\n" else i
            e = text.find("\n", k)
            e = n if e < 0 else e
            ln = text[k:e].strip()
            if re.fullmatch(NUM, ln):
                items.append({"kind": "scalar", "value": float(ln), "textLine": line_of(k), "text": ln})
                i = e
                continue
        i += 1
    return items


def printed_list(body):
    s = re.sub(r"\s+", " ", body.replace(",", " "))
    tokens = re.findall(r"\[|\]|" + NUM, s)
    stack, top = [[]], None
    for t in tokens:
        if t == "[":
            if len(stack) > MAX_PRINTED_DEPTH:
                return None
            stack.append([])
        elif t == "]":
            top = stack.pop()
            if not stack:
                return None
            stack[-1].append(top)
        else:
            stack[-1].append(float(t))
    return stack[0][0] if len(stack) == 1 and len(stack[0]) == 1 else None


# Terminal escape sequences (CSI such as colours `ESC[1m`, OSC, two-byte ESC X): Jupyter stores coloured
# prints with them, and their `[` would otherwise open a bracket scan.
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


MAX_JSON_DEPTH = 64
JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


def json_depth(text):
    """Nesting depth of JSON text, without recursion: strings removed, then the brackets counted."""
    depth = worst = 0
    for ch in re.sub(r"[^\[\]{}]", "", JSON_STRING.sub("", text)):
        depth += 1 if ch in "[{" else -1
        worst = max(worst, depth)
    return worst


def notebook_cells(nb_text, file):
    # json.loads recurses per level: 100k nested brackets overflow pyodide's stack (a fatal error)
    depth = json_depth(nb_text)
    if depth > MAX_JSON_DEPTH:
        raise Limit(file, 1, "not a notebook: its JSON nests %d levels deep (limit %d; a notebook nests about 6)"
                    % (depth, MAX_JSON_DEPTH))
    try:
        nb = json.loads(nb_text)
    except RecursionError:
        raise Limit(file, 0, "not a notebook: its JSON nests too deeply")
    except ValueError as e:
        raise Bad(file, 0, "not a notebook (.ipynb JSON): %s" % e)
    if not isinstance(nb, dict) or not isinstance(nb.get("cells", []), list):
        raise Bad(file, 0, "not a notebook (.ipynb JSON): no list of cells")
    cells = []
    for k, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        # IPython magics / shell lines are not Python: blank them, keeping line numbers
        source = "\n".join("pass" if l.lstrip().startswith(("%", "!")) else l for l in source.split("\n"))
        out = ""
        for o in cell.get("outputs", []):
            t = o.get("text")
            if t is None:
                t = (o.get("data") or {}).get("text/plain")
            if t is not None:
                out += ANSI.sub("", "".join(t) if isinstance(t, list) else str(t))
                if not out.endswith("\n"):
                    out += "\n"
        cells.append({"index": k, "source": source, "output": out})
    return cells


def decode(f):
    """The file's text as Python reads a source file: UTF-8 unless a BOM or a PEP 263 coding line says
    otherwise, invalid bytes rejected (Python: SyntaxError, 'Non-UTF-8 code starting with ...'); a notebook
    is JSON, always UTF-8."""
    data = base64.b64decode(f["b64"])
    enc = "utf-8"
    if f["role"] != "notebook":
        try:
            enc = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
        except SyntaxError as e:
            raise Bad(f["path"], e.lineno or 1, "Python rejects the file: %s" % e.msg)
    try:
        return data.decode(enc)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1)
        raise Bad(f["path"], line, "not valid %s: byte 0x%02x at byte %d (line %d, byte %d of the line): %s; Python "
                  "rejects such a file (SyntaxError: Non-UTF-8 code%s)" % (
                      enc, data[e.start], e.start, line, col + 1, e.reason,
                      "" if f["role"] == "notebook" else ", unless an encoding is declared as PEP 263 says"))


def extract(request_text):
    req = json.loads(request_text)
    BUDGET["elements"] = 0
    CURRENT.update(file=req["files"][0]["path"] if req["files"] else "<no file>", line=0)
    try:
        return json.dumps(run(req), allow_nan=False)
    except Bad as b:
        return json.dumps({"error": {"file": b.file, "line": b.line, "message": b.message}})
    except RecursionError:
        return json.dumps({"error": dict(CURRENT, message="nested too deeply to read (Python's recursion limit)")})
    except MemoryError:
        return json.dumps({"error": dict(CURRENT, message="out of memory while reading this statement")})
    except Exception as e:  # a shape this reader does not expect: named with file and line, never a traceback
        return json.dumps({"error": dict(CURRENT, message="cannot read this statement (%s: %s)" % (type(e).__name__, e))})


def run(req):
    files = [dict(f, text=decode(f)) for f in req["files"]]
    warnings = []
    modules = []
    parsed = []
    for f in files:
        if f["role"] in ("public-tests", "outputs"):
            tree = parse(f["text"], f["path"])
            ctx = Ctx(f["path"], f["text"], [])
            modules.append({"file": f["path"], "arrays": module_arrays(tree, ctx)})
            parsed.append((f, tree))
    calls, checks, prints, notes, printed = [], [], [], [], []

    def merge(ctx):
        base = len(calls)
        for c in ctx.calls:
            c["id"] += base
            c["seeds"]["previousCallsSinceSetSeed"] = [p + base for p in c["seeds"]["previousCallsSinceSetSeed"]]
            calls.append(c)
        for x in ctx.checks + ctx.prints:
            if x.get("call") is not None:
                x["call"] += base
        checks.extend(ctx.checks)
        prints.extend(ctx.prints)
        notes.extend(ctx.notes)

    tests_by_name = {}
    for f, tree in parsed:
        if f["role"] != "public-tests":
            continue
        found = test_functions(tree)
        for fn, target, block in found:
            ctx = Ctx(f["path"], f["text"], modules)
            walk(fn.body, ctx, {}, {"function": fn.name}, {target: block})
            tests_by_name[fn.name] = ctx
            merge(ctx)
        if not found:
            arrays = next(m["arrays"] for m in modules if m["file"] == f["path"])
            if arrays and not any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in tree.body):
                raise Bad(f["path"], 1, "no recognisable test: this file holds only expected arrays (%s); give it as "
                                        "--outputs %s next to the public_tests.py that compares them "
                                        "(import-notebook --public-tests public_tests.py --outputs %s)"
                          % (", ".join(sorted(arrays)), f["path"], f["path"]))
            raise Bad(f["path"], 1, "no recognisable test: no function named identity_block*/convolutional_block* "
                                    "whose first parameter is called like the block (e.g. def identity_block_test(target))")
    for f in files:
        if f["role"] != "notebook":
            continue
        for cell in notebook_cells(f["text"], f["path"]):
            if not re.search(r"\b(identity_block|convolutional_block)\b", cell["source"]):
                continue
            where = "%s cell %d" % (f["path"], cell["index"])
            tree = parse(cell["source"], where)
            ctx = Ctx(where, cell["source"], modules)
            walk(tree.body, ctx, {}, {"function": "<cell %d>" % cell["index"]}, {b: b for b in BLOCKS})
            if not ctx.calls and not any(n.get("invokes") for n in ctx.notes):
                continue
            cell_prints = list(ctx.prints)
            merge(ctx)
            # prints of the public test functions the cell invokes come after the cell's own output
            for note in ctx.notes:
                if note.get("invokes") and note["invokes"] in tests_by_name:
                    cell_prints.extend(tests_by_name[note["invokes"]].prints)
            items = printed_items(cell["output"])
            arr_prints = [p for p in cell_prints if p["prints"] != "text"]
            if len(items) != len(arr_prints):
                # pairing prints with values by position would be a guess: none of this cell's prints is a check
                named = [p for p in arr_prints if p["call"] is not None]
                if named:
                    warnings.append("%s: %d print(s) of values (%s) but %d value(s) could be read from the cell's "
                                    "output; its printed output could not be read, so %s not checked" % (
                                        where, len(arr_prints), "; ".join("%s at %s:%d" % (p["source"], p["file"], p["line"]) for p in arr_prints),
                                        len(items), "it is" if len(named) == 1 else "they are"))
                continue
            for p, it in zip(arr_prints, items):
                if p["call"] is None:
                    continue
                printed.append({"file": f["path"], "cell": cell["index"], "outputLine": it["textLine"], "print": p,
                                "value": it["value"], "kind": it["kind"], "text": it["text"][:400]})
    if not checks and not printed:
        first = files[0]["path"] if files else "<no file>"
        raise Bad(first, 1, "no recognisable test: no np.allclose comparison of a block call's output and no printed output of one")
    return {"calls": calls, "checks": checks, "printed": printed, "notes": notes, "warnings": warnings}
