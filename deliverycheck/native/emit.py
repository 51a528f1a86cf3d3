"""The model as C: every action instance, property and table the native search needs.

The same expression DAGs the Python back end compiles
(:meth:`~deliverycheck.core.system.System.lower`) are spelt in C here.  An
instance becomes one function over the state's bytes ``s`` that writes the
successor straight into its packed form ``o`` (a copy of the packed state
``sp`` with the changed cells' bits replaced)::

    static int a17(const uint8_t *s, const uint8_t *sp, uint8_t *o) {
        const long t0 = (s[9] + 1);
        if (!((s[3] && (s[9] < 2)))) return DC_OFF;     /* guard false */
        if (!((s[20] == 0))) return DC_FULL;             /* a capacity is full */
        if (!(0 <= t0 && t0 <= 2)) return dc_overflow(5, t0);
        memcpy(o, sp, DC_PACKED);
        dc_set(o, 14, 2, (unsigned)(t0));                /* cell 9: bits 14 and 15 */
        return DC_STEP;
    }

Values are computed in ``long`` (the model's values are small integers;
comparisons and connectives give 0 or 1, as the concrete interpretation's
booleans do), and every write that interval arithmetic cannot bound is
checked exactly where the Python back end checks it, in the same order, so
an overflow names the same instance, cell and value.

Around the functions the module holds the model's tables: the initial
state, the cells' ranges (for packing a state into bits), the dispatch
index (instances grouped by a guard's ``cell == constant`` conjunct, tried
in the order the Python explorer tries them, so both searches number the
states alike), which instances may spend a fault and which cells are fault
budgets, and one predicate per checked property.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from deliverycheck.core.compile import CHUNK, Emitter, step_prologue
from deliverycheck.core.expr import Expr
from deliverycheck.core.spec import Property
from deliverycheck.core.system import System, dispatch_index

MAX_INSTANCES = 65535   # an action instance is stored in 16 bits per state
MAX_PROGRESS = 7        # one bit each in a state's flag byte (bit 0 marks a capacity block)


class Unsupported(Exception):
    """The native back end cannot express this model (a construct, a size)."""


class CEmitter(Emitter):
    """The Python emitter's DAG walk, spelt in C."""

    def bind(self, name: str, text: str) -> str:
        return f"const long {name} = {text};"

    def disabled_unless(self, guard: str) -> str:
        return f"if (!{guard}) return DC_OFF;"

    def blocked_unless(self, fits: str) -> str:
        return f"if (!{fits}) return DC_FULL;"

    def check_range(self, cell: int, value: str, hi: int, cell_name: str, label: str) -> str:
        # the Python side names the instance and the cell (search.py: overflow)
        return f"if (!(0 <= {value} && {value} <= {hi})) return dc_overflow({cell}, {value});"

    CONNECTIVE = {"and": " && ", "or": " || "}
    NOT = "!"

    def choice(self, c: str, a: str, b: str) -> str:
        return f"({c} ? {a} : {b})"

    def index_cells(self, i: str, first: int, n: int) -> str:
        return f"((0 <= {i} && {i} < {n}) ? (long)s[{first} + {i}] : 0)"

    def index_values(self, i: str, items: Sequence[str]) -> str:
        return "(" + "".join(f"{i} == {j} ? {a} : " for j, a in enumerate(items)) + "0)"

    def unknown(self, op: str) -> Exception:
        return Unsupported(f"expression node {op!r}")

    def _text(self, node: Expr) -> str:
        if node.op == "mutant":   # mutation testing's switch (deliverycheck/mutate/rewrite.py)
            return f"DC_M({int(node.args[0])})"
        return super()._text(node)


def action_c(name: str, guard: Any, fits: Any, post: Sequence[Any],
             checks: Sequence[tuple[int, int, str]], offsets: Sequence[int], bits: Sequence[int]) -> str:
    """C source of one action instance (see the module docstring); cell ``i``
    takes ``bits[i]`` bits from bit ``offsets[i]`` of the packed state."""
    body, exprs = step_prologue(CEmitter, guard, fits, post, checks, name)
    body.append("memcpy(o, sp, DC_PACKED);")
    # every new value is read from ``s`` (the old state), so the order of the stores is free;
    # a cell of range 0..0 has no bits and can only be written 0
    body.extend(f"dc_set(o, {offsets[i]}, {bits[i]}, (unsigned)({v}));" for i, v in exprs.items() if bits[i])
    body.append("return DC_STEP;")
    return (f"static int {name}(const uint8_t *s, const uint8_t *sp, uint8_t *o) {{\n"
            + "".join(f"    {line}\n" for line in body) + "}\n")


def predicate_c(name: str, value: Any) -> str:
    """C source of a state predicate: 1 where it holds."""
    if value is True or value is False or not isinstance(value, Expr):
        text = "1" if value else "0"
        return f"static int {name}(const uint8_t *s) {{ (void)s; return {text}; }}\n"
    em = CEmitter([value])
    text = em.code(value)
    body = em.lines + [f"return ({text}) != 0;"]
    return f"static int {name}(const uint8_t *s) {{\n" + "".join(f"    {line}\n" for line in body) + "}\n"


@dataclass
class Module:
    """The generated C model, and what the Python side needs to read its results."""

    source: str
    labels: list[str]          # per instance, for an overflow's message
    cell_names: list[str]
    invariants: list[str]      # property names, in the order of the predicate slots
    witnesses: list[str]
    finals: list[str]
    progress: list[str]
    static_off: list[bool]

    @property
    def predicates(self) -> list[str]:
        """Every checked property, in the order of the C predicate slots."""
        return self.invariants + self.witnesses + self.finals + self.progress


def model_c(system: System, properties: Sequence[Property],
            tick: Callable[[int, int], None] | None = None) -> Module:
    """The C source of ``system`` with predicates for ``properties``.

    ``tick(done, total)`` is called after each chunk of instances, as
    :meth:`System.compile` does (progress, and the limits on compiling).
    Raises :class:`Unsupported` when the model is beyond the native back
    end, naming the instance.
    """
    schema = system.schema
    total = len(system.instances)
    if total > MAX_INSTANCES:
        raise Unsupported(f"{total:,} action instances (the native search stores at most {MAX_INSTANCES:,})")
    kinds = {k: [p.name for p in properties if p.kind == k]
             for k in ("always", "sometimes", "final", "progress")}
    if len(kinds["progress"]) > MAX_PROGRESS:
        raise Unsupported(f"{len(kinds['progress'])} progress properties (at most {MAX_PROGRESS})")
    # a system may add declarations its expressions need (mutation testing's switches)
    out: list[str] = [_header(system), getattr(system, "c_prelude", "")]
    bits = [v.bit_length() for v in schema.hi]
    offsets = [sum(bits[:i]) for i in range(len(bits))]
    keys, off, spend = [], [], []
    labels = [inst.label() for inst in system.instances]
    for start in range(0, total, CHUNK):
        for j in range(start, min(total, start + CHUNK)):
            low = system.lower(j)
            keys.append(low.key)
            off.append(low.off)
            spend.append(low.may_spend)
            try:
                out.append(action_c(f"a{j}", low.guard, low.fits, low.post, low.checks, offsets, bits))
            except Unsupported as e:
                raise Unsupported(f"{labels[j]}: {e}") from None
        if tick is not None:
            tick(min(total, start + CHUNK), total)
    names = [n for k in ("always", "sometimes", "final", "progress") for n in kinds[k]]
    for k, name in enumerate(names):
        try:
            out.append(predicate_c(f"p{k}", system.lower_predicate(name)))
        except Unsupported as e:
            raise Unsupported(f"property {name}: {e}") from None
    out.append(_tables(system, keys, off, spend, names, kinds, offsets, bits))
    return Module("".join(out), labels, [schema.cell_name(i) for i in range(schema.width)],
                  kinds["always"], kinds["sometimes"], kinds["final"], kinds["progress"], off)


def _header(system: System) -> str:
    schema = system.schema
    bits = [v.bit_length() for v in schema.hi]
    return (
        "/* generated by deliverycheck.native.emit: the model, one configuration */\n"
        "#include <stdint.h>\n#include <string.h>\n\n"
        f"#define DC_WIDTH {schema.width}\n"
        f"#define DC_NINST {len(system.instances)}\n"
        f"#define DC_PACKED {(sum(bits) + 7) // 8}\n"
        "#define DC_OFF 0\n#define DC_FULL 1\n#define DC_STEP 2\n#define DC_OVERFLOW 3\n\n"
        "static __thread int dc_ovf_cell;\nstatic __thread long dc_ovf_value;\n"
        "static int dc_overflow(int cell, long value) {\n"
        "    dc_ovf_cell = cell; dc_ovf_value = value; return DC_OVERFLOW;\n}\n\n"
        "/* cell bits [off, off + bits) of a packed state (bits <= 8: at most two bytes; every\n"
        " * packed buffer has one spare byte after the state, which stays 0) */\n"
        "static inline void dc_set(uint8_t *p, unsigned off, unsigned bits, unsigned v) {\n"
        "    unsigned at = off >> 3, sh = off & 7, mask = ((1u << bits) - 1) << sh;\n"
        "    unsigned w = p[at] | ((unsigned)p[at + 1] << 8);\n"
        "    w = (w & ~mask) | ((v << sh) & mask);\n"
        "    p[at] = (uint8_t)w; p[at + 1] = (uint8_t)(w >> 8);\n}\n"
        "static inline unsigned dc_get(const uint8_t *p, unsigned off, unsigned bits) {\n"
        "    unsigned w = p[off >> 3] | ((unsigned)p[(off >> 3) + 1] << 8);\n"
        "    return (w >> (off & 7)) & ((1u << bits) - 1);\n}\n\n"
        + _array("uint8_t", "dc_init", list(system.init))
        + _array("uint8_t", "dc_bits", bits)
        + _unpack_c(bits))


def _unpack_c(bits: Sequence[int]) -> str:
    """``dc_unpack``, straight-line: every cell read from the 64-bit word(s) it lies in.

    The search unpacks each state twice (to expand it and to check its
    properties); a loop over the cells' widths was a fifth of the run on the
    exactly-once model (460 cells).  Words are the packed bytes read
    little-endian, which is the packing order; elsewhere each cell is read
    with ``dc_get``.
    """
    words = (sum(bits) + 63) // 64 + 1   # one spare word: a cell may reach into the next
    fast, slow, off = [], [], 0
    for i, b in enumerate(bits):
        if not b:
            fast.append(f"s[{i}] = 0;")
            slow.append(f"s[{i}] = 0;")
            continue
        k, sh, mask = off >> 6, off & 63, (1 << b) - 1
        word = f"(w[{k}] >> {sh})" if sh + b <= 64 else f"((w[{k}] >> {sh}) | (w[{k + 1}] << {64 - sh}))"
        fast.append(f"s[{i}] = (uint8_t)({word} & {mask}u);")
        slow.append(f"s[{i}] = (uint8_t)dc_get(p, {off}, {b});")
        off += b
    return ("static void dc_unpack(const uint8_t *p, uint8_t *s) {\n"
            "#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__\n"
            f"    uint64_t w[{words}] = {{0}};\n"
            "    memcpy(w, p, DC_PACKED);\n"
            + "".join(f"    {line}\n" for line in fast)
            + "#else\n"
            + "".join(f"    {line}\n" for line in slow)
            + "#endif\n}\n\n")


def _tables(system: System, keys, off, spend, names, kinds, offsets, bits) -> str:
    keyed, unkeyed = dispatch_index(keys, off)
    # keyed lists as one flat array: key k, value v -> dc_klist[dc_kstart[k*257+v] .. dc_kstart[k*257+v+1]]
    kcells, kstart, klist = [], [], []
    for c, by_value in keyed:
        kcells.append(c)
        for v in range(256):
            kstart.append(len(klist))
            klist.extend(by_value[v])
        kstart.append(len(klist))
    n = len(system.instances)
    text = [
        f"#define DC_NKEYS {len(kcells)}\n#define DC_NUNKEYED {len(unkeyed)}\n",
        f"#define DC_NINV {len(kinds['always'])}\n#define DC_NWIT {len(kinds['sometimes'])}\n",
        f"#define DC_NFIN {len(kinds['final'])}\n#define DC_NPROG {len(kinds['progress'])}\n",
        f"#define DC_NPRED {len(names)}\n#define DC_NFAULT {len(system.fault_cells)}\n",
        _array("int32_t", "dc_kcells", kcells),
        _array("int32_t", "dc_kstart", kstart),
        _array("int32_t", "dc_klist", klist),
        _array("int32_t", "dc_unkeyed", unkeyed),
        _array("uint8_t", "dc_may_spend", [int(x) for x in spend]),
        _array("int32_t", "dc_fault_cells", system.fault_cells),
        _array("int32_t", "dc_fault_off", [offsets[c] for c in system.fault_cells]),
        _array("uint8_t", "dc_fault_bits", [bits[c] for c in system.fault_cells]),
        "typedef int (*dc_action)(const uint8_t *, const uint8_t *, uint8_t *);\n",
        "static const dc_action dc_actions[] = {" + ", ".join(f"a{j}" for j in range(n)) + "};\n",
        "typedef int (*dc_pred)(const uint8_t *);\n",
        "static const dc_pred dc_preds[] = {" + (", ".join(f"p{k}" for k in range(len(names))) or "0") + "};\n",
    ]
    return "".join(text)


def _array(ctype: str, name: str, values: Sequence[int]) -> str:
    """A static const array (one dummy element when empty: C has no empty arrays)."""
    items = ", ".join(str(int(v)) for v in values) or "0"
    return f"static const {ctype} {name}[] = {{{items}}};\n"
