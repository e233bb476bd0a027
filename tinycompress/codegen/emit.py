"""IR -> model.c / model.h: check, plan the arena, print straight-line C.

``generate`` is the codegen stage's entry point (contract in
docs/architecture.md). It checks every op against the op table first, so an
unsupported model fails before anything is written; then it plans one static
arena and prints one kernel call per layer, constants as aligned ``const``
arrays beside the layer that uses them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from tinycompress import __version__
from tinycompress.codegen import cgen
from tinycompress.codegen.layers import Layer
from tinycompress.codegen.ops import OPS, check_supported, prepare
from tinycompress.codegen.plan import ArenaPlan, Buffer, Overlap, plan_arena
from tinycompress.codegen.storage import DEFAULT_ARCH, DEFAULT_OBJECTIVE, check_objective, kernel_costs
from tinycompress.errors import UnsupportedError
from tinycompress.tflite.ir import Model, Operator, Tensor

GENERATOR = "tinycompress.codegen"
ALIGN = 4  # every activation starts on a word: word loads in optimised kernels stay legal
# <PREFIX>_INPUT_TYPE / _OUTPUT_TYPE of the graph's edge types (tc_runtime.h)
_TYPE_MACROS = {"int8": "TC_TYPE_INT8", "float32": "TC_TYPE_FLOAT32"}
# A layer's weight storage -> its TC_FORMAT_* bit of TC_WEIGHT_FORMATS (tc_runtime.h: bit n is
# tc_weight_format_t value n); a build links only the decode code of the formats in its mask.
WEIGHT_FORMAT_BITS = {"s8": 1 << 0, "palette4": 1 << 1, "sparse8": 1 << 2, "block8": 1 << 3, "block4": 1 << 4}


def weight_formats(storages: Iterable[str]) -> int:
    """The TC_WEIGHT_FORMATS mask a build of layers with these storages needs: dense int8 (always
    compiled) and each packed format they use ("-": a layer without weights)."""
    mask = WEIGHT_FORMAT_BITS["s8"]
    for storage in storages:
        if storage != "-":
            mask |= WEIGHT_FORMAT_BITS[storage]
    return mask


@dataclass(frozen=True)
class LayerInfo:
    """One generated kernel call, for reports and per-layer debugging."""

    index: int
    node: int
    name: str
    op: str
    kernel: str
    macs: int
    output_tensor: int
    output_offset: int
    output_bytes: int
    const_bytes: int
    storage: str = "-"
    storage_reason: str = ""  # why the storage objective picked ``storage``
    scratch_bytes: int = 0  # arena bytes the kernel decodes packed weights into (in arena_bytes)


@dataclass(frozen=True)
class GeneratedModel:
    """``model.c``/``model.h`` and their figures. ``weights_bytes`` counts every
    constant array (weights in their chosen storage, biases, requantization
    tables): the model's flash data. ``arena_bytes`` is its only RAM.
    ``input_dtype``/``output_dtype`` are "int8", or "float32" for a float-I/O
    model (QUANTIZE first, DEQUANTIZE last); the byte counts are of that type."""

    files: dict[str, str]
    prefix: str
    arena_bytes: int
    weights_bytes: int
    input_bytes: int
    output_bytes: int
    layers: tuple[LayerInfo, ...]
    model_sha256: str
    input_dtype: str = "int8"
    output_dtype: str = "int8"

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def weight_formats(self) -> int:
        """The TC_WEIGHT_FORMATS mask to build the runtime with (model.h's <PREFIX>_WEIGHT_FORMATS)."""
        return weight_formats(layer.storage for layer in self.layers)


def generate(model: Model, prefix: str = "tc_model", optimize: str = DEFAULT_OBJECTIVE,
             runtime_arch: str = DEFAULT_ARCH) -> GeneratedModel:
    """Compile a verified IR into ``model.c``/``model.h`` for the C runtime.

    ``optimize`` ("size", "speed" or "balanced") picks each layer's weight storage
    (codegen.storage), ranked with the costs of the ``runtime_arch`` kernel chain (the
    board's); the decode scratches of packed convs are planned in the arena, where they fit
    without growing it."""
    cgen.check_prefix(prefix)
    check_objective(optimize)
    kernel_costs(runtime_arch)
    check_supported(model)
    # Every op is validated and built once, here; a packed conv offered a decode scratch is
    # rebuilt without it below when the scratch would grow the arena.
    prepared = {op.index: prepare(model, op, optimize, scratch_ok=True, runtime_arch=runtime_arch)
                for op in model.operators}
    layers = {index: layer for index, layer in prepared.items() if layer is not None}
    root = _view_roots(model)
    compute = [op for op in model.operators if op.index in layers]
    if not compute:
        raise UnsupportedError("the model has no compute layers (only reshapes); nothing to compile")
    base = _plan(model, root, layers, {})
    kept: dict[int, int] = {}
    for index, layer in layers.items():
        arena = layer.scratch and _plan(model, root, layers, {**kept, index: layer.scratch}).arena_bytes
        if arena and arena <= base.arena_bytes:
            kept[index] = layer.scratch
    for index, layer in layers.items():
        if layer.scratch and index not in kept:
            rebuilt = prepare(model, model.operators[index], optimize, scratch_ok=False,
                              runtime_arch=runtime_arch)
            assert rebuilt is not None
            rebuilt.storage_reason += (f"; {layer.storage} decoded into a {layer.scratch:,} B scratch "
                                       "would grow the arena")
            layers[index] = rebuilt
    plan = _plan(model, root, layers, kept) if kept else base
    return _Emitter(model, prefix, root, plan, compute, layers).run()


def _scratch_id(op_index: int) -> int:
    """The arena buffer id of an op's decode scratch (tensor ids are >= 0)."""
    return -1 - op_index


def _view_roots(model: Model) -> dict[int, int]:
    """Tensor -> the tensor whose arena bytes it uses (views share their input's)."""
    root: dict[int, int] = {}
    for op in model.operators:
        if OPS[op.op].kernel is None:
            src = op.inputs[0]
            root[op.outputs[0]] = root.get(src, src)
    return root


def _plan(model: Model, root: dict[int, int], layers: dict[int, Layer], scratch: dict[int, int]) -> ArenaPlan:
    """Tensor buffers, plus for each op index in ``scratch`` that many bytes alive during it;
    ``layers`` (the compute ops') give the overlap gaps."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    size: dict[int, int] = {}

    def touch(tensor: int, step: int) -> int:
        r = root.get(tensor, tensor)
        first[r] = min(first.get(r, step), step)
        last[r] = max(last.get(r, step), step)
        size[r] = max(size.get(r, 0), model.tensors[tensor].nbytes)
        return r

    touch(model.inputs[0], -1)
    for op in model.operators:
        for t in op.inputs:
            if t >= 0 and not model.tensors[t].is_constant:
                touch(t, op.index)
        for t in op.outputs:
            touch(t, op.index)
    touch(model.outputs[0], len(model.operators))
    overlaps = []
    for op in model.operators:
        if op.index not in layers:
            continue
        writer = root.get(op.outputs[0], op.outputs[0])
        for slot, gap in layers[op.index].gaps.items():
            tensor = op.inputs[slot]
            reader = root.get(tensor, tensor)
            if (op.inputs.count(tensor) == 1 and not model.tensors[tensor].is_constant
                    and reader != writer and last[reader] == op.index and first[writer] == op.index):
                overlaps.append(Overlap(reader, writer, gap))
    buffers = [Buffer(r, size[r], first[r], last[r], max(ALIGN, model.tensors[r].itemsize)) for r in size]
    buffers += [Buffer(_scratch_id(op), n, op, op, ALIGN) for op, n in scratch.items()]
    return plan_arena(buffers, overlaps)


def _input_preserved(model: Model, root: dict[int, int], plan: ArenaPlan, scratch: dict[int, int]) -> bool:
    """Whether invoke leaves the input intact: no other arena buffer (tensor, or decode scratch
    of the op indices in ``scratch``) shares a byte with it.

    The planner may put a later layer's buffer over the input once it is
    dead. The serial protocol must then refuse to run the model twice on one
    input (INPUT_STALE in docs/protocol.md) instead of computing on garbage.
    """
    size: dict[int, int] = {}
    for tensor in model.tensors:
        buffer = root.get(tensor.index, tensor.index)
        if buffer in plan.offsets:
            size[buffer] = max(size.get(buffer, 0), tensor.nbytes)
    size.update({_scratch_id(op): n for op, n in scratch.items()})
    source = root.get(model.inputs[0], model.inputs[0])
    start, end = plan.offsets[source], plan.offsets[source] + size[source]
    return all(plan.offsets[b] + size[b] <= start or plan.offsets[b] >= end for b in size if b != source)


class _Emitter:
    def __init__(self, model: Model, prefix: str, root: dict[int, int], plan: ArenaPlan,
                 compute: list[Operator], layers: dict[int, Layer]) -> None:
        self.layers = layers  # op index -> its kernel call's parameters
        self.m = model
        self.p = prefix
        self.P = prefix.upper()
        self.root = root
        self.plan = plan
        self.compute = compute
        self.layer_const = 0

    def scratch(self) -> dict[int, int]:
        """Op index -> bytes of its decode scratch, for the layers that have one."""
        return {index: layer.scratch for index, layer in self.layers.items() if layer.scratch}

    def offset(self, tensor: int) -> int:
        return self.plan.offsets[self.root.get(tensor, tensor)]

    def pointer(self, tensor: int, name_if_const: str) -> str:
        if self.m.tensors[tensor].is_constant:
            return name_if_const
        if self.m.tensors[tensor].dtype == "float32":
            # Float-I/O edges: the planner aligns them to 4 bytes in the 16-byte aligned arena.
            return f"((float *)(void *)({self.p}_arena + {self.offset(tensor)}))"
        return f"({self.p}_arena + {self.offset(tensor)})"

    def run(self) -> GeneratedModel:
        sections: list[str] = []
        infos: list[LayerInfo] = []
        calls: list[str] = []
        for index, op in enumerate(self.compute):
            text, call, info = self.layer(index, op)
            sections.append(text)
            calls.append(call)
            infos.append(info)
        out = self.m.output
        formats = weight_formats(i.storage for i in infos)
        model_h = self.header(len(infos), formats)
        model_c = "\n".join([
            self.banner(),
            '#include "model.h"',
            "",
            *self.format_guards(formats),
            "#ifdef TC_PROFILE_LAYERS",
            '#include "tc_port.h"',
            "#endif",
            "",
            "#if defined(__GNUC__) || defined(__clang__)",
            f"#define {self.P}_ALIGNED __attribute__((aligned(16)))",
            "#else",
            f"#define {self.P}_ALIGNED",
            "#endif",
            "",
            self.hooks(),
            f'const char {self.p}_hash[] = "{self.m.sha256}";',
            "",
            f"static int8_t {self.p}_arena[{self.P}_ARENA_BYTES] {self.P}_ALIGNED;",
            "",
            f"const tc_layer_info_t {self.p}_layers[{self.P}_NUM_LAYERS] = {{",
            *[f"    {{\"{cgen.safe_text(i.name, 48)}\", \"{i.op}\", {min(i.macs, 2**32 - 1)}u}},"
              for i in infos],
            "};",
            "",
            *sections,
            f"int8_t *{self.p}_input(void)",
            "{",
            f"    return {self.p}_arena + {self.offset(self.m.inputs[0])};",
            "}",
            "",
            f"const int8_t *{self.p}_output(void)",
            "{",
            f"    return {self.p}_arena + {self.offset(self.m.outputs[0])};",
            "}",
            "",
            *self.float_accessors(),
            f"tc_status_t {self.p}_invoke(void)",
            "{",
            "    tc_status_t status;",
            *calls,
            "    return TC_OK;",
            "}",
            "",
        ])
        weights = sum(i.const_bytes for i in infos)
        return GeneratedModel(
            files={"model.h": model_h, "model.c": model_c},
            prefix=self.p,
            arena_bytes=self.plan.arena_bytes,
            weights_bytes=weights,
            input_bytes=self.m.input.nbytes,
            output_bytes=out.nbytes,
            layers=tuple(infos),
            model_sha256=self.m.sha256,
            input_dtype=self.m.input.dtype,
            output_dtype=out.dtype,
        )

    def float_accessors(self) -> list[str]:
        """Typed views of float32 edges, beside the byte accessors the protocol and harness use."""
        lines: list[str] = []
        for role, tensor, const in (("input", self.m.input, ""), ("output", self.m.output, "const ")):
            if tensor.dtype == "float32":
                lines += [f"{const}float *{self.p}_{role}_f32(void)", "{",
                          f"    return {self.pointer(tensor.index, '')};", "}", ""]
        return lines

    def banner(self) -> str:
        return "\n".join([
            "/*",
            f" * Generated by {GENERATOR} {__version__} (tinycompress). Do not edit.",
            f" * Source model sha256: {self.m.sha256}",
            f" * Layers: {len(self.compute)}; arena: {self.plan.arena_bytes} bytes.",
            " */",
        ])

    def hooks(self) -> str:
        """Per-layer profiling and tracing, compiled in only when asked for."""
        P, p = self.P, self.p
        return "\n".join([
            "#ifdef TC_PROFILE_LAYERS",
            f"uint32_t {p}_layer_ticks[{P}_NUM_LAYERS];",
            f"#define {P}_BEGIN(i) const uint32_t t##i = tc_port_timer_read()",
            f"#define {P}_TICKS(i) ({p}_layer_ticks[i] = tc_port_timer_read() - t##i)",
            "#else",
            f"#define {P}_BEGIN(i) ((void)0)",
            f"#define {P}_TICKS(i) ((void)0)",
            "#endif",
            "#ifdef TC_TRACE_LAYERS",
            f"void {p}_trace(int layer, const int8_t *output, size_t bytes);",
            f"#define {P}_TRACE(i, out, n) {p}_trace(i, out, n)",
            "#else",
            f"#define {P}_TRACE(i, out, n) ((void)0)",
            "#endif",
            "",
        ])

    def format_guards(self, formats: int) -> list[str]:
        """A compile error, naming the format and the fix, when the runtime is built without a
        packed weight format the layers use (its kernels would refuse the layer at run time)."""
        lines: list[str] = []
        for storage, bit in WEIGHT_FORMAT_BITS.items():
            if storage != "s8" and formats & bit:
                macro = f"TC_FORMAT_{storage.upper()}"
                lines += [f"#if (TC_WEIGHT_FORMATS & {macro}) == 0",
                          f'#error "{storage} weights need {macro} in TC_WEIGHT_FORMATS: '
                          f'use -DTC_WEIGHT_FORMATS=0x{formats:X}"',
                          "#endif"]
        return [*lines, ""] if lines else []

    def header(self, num_layers: int, formats: int) -> str:
        P, p = self.P, self.p
        guard = f"{P}_H"
        return "\n".join([
            self.banner(),
            f"#ifndef {guard}",
            f"#define {guard}",
            "",
            '#include "tc_runtime.h"',
            "",
            "#ifdef __cplusplus",
            'extern "C" {',
            "#endif",
            "",
            f"#define {P}_INPUT_BYTES {self.m.input.nbytes}",
            f"#define {P}_OUTPUT_BYTES {self.m.output.nbytes}",
            f"#define {P}_ARENA_BYTES {self.plan.arena_bytes}",
            f"#define {P}_NUM_LAYERS {num_layers}",
            "/* the weight formats the layers use (TC_FORMAT_* of tc_runtime.h): build the runtime with",
            f" * -DTC_WEIGHT_FORMATS=0x{formats:X} to link only their code */",
            f"#define {P}_WEIGHT_FORMATS 0x{formats:X}u",
            "/* 1 when invoke leaves the input intact; 0 when the arena plan reuses its bytes */",
            f"#define {P}_INPUT_PRESERVED {int(_input_preserved(self.m, self.root, self.plan, self.scratch()))}",
            "",
            *self.tensor_macros("INPUT", self.m.input),
            *self.tensor_macros("OUTPUT", self.m.output),
            "",
            f"extern const char {p}_hash[];",
            "/* the input and output tensors' bytes; float-I/O models add typed _f32 views */",
            f"int8_t *{p}_input(void);",
            f"const int8_t *{p}_output(void);",
            *([f"float *{p}_input_f32(void);"] if self.m.input.dtype == "float32" else []),
            *([f"const float *{p}_output_f32(void);"] if self.m.output.dtype == "float32" else []),
            f"tc_status_t {p}_invoke(void);",
            f"extern const tc_layer_info_t {p}_layers[{P}_NUM_LAYERS];",
            "#ifdef TC_PROFILE_LAYERS",
            f"extern uint32_t {p}_layer_ticks[{P}_NUM_LAYERS];",
            "#endif",
            "",
            "#ifdef __cplusplus",
            "}",
            "#endif",
            "",
            f"#endif /* {guard} */",
            "",
        ])

    def tensor_macros(self, role: str, tensor: Tensor) -> list[str]:
        """Type, shape and quantization of the graph input or output, for the serial protocol's INFO.

        The verifier guarantees per-tensor int8 quantization, or float32, at the graph's edges.
        A float32 edge holds real values: scale 1, zero point 0 state that.
        """
        name = f"{self.P}_{role}"
        quant = tensor.quant
        is_float = tensor.dtype == "float32"
        zero_point = 0 if is_float or not quant.zero_point else quant.zero_point[0]
        scale = 1.0 if is_float else quant.scale[0]
        dims = ", ".join(str(d) for d in tensor.shape) or "0"
        return [
            f"/* {role.lower()}: real = scale * (q - zero_point)"
            f"{'; float32 values are real already' if is_float else ''} */",
            f"#define {name}_TYPE {_TYPE_MACROS[tensor.dtype]}",
            f"#define {name}_RANK {len(tensor.shape)}",
            f"#define {name}_DIMS {{{dims}}}",
            f"#define {name}_SCALE {cgen.float_literal(scale)}",
            f"#define {name}_ZERO_POINT ({zero_point})",
        ]

    def layer(self, index: int, op: Operator) -> tuple[str, str, LayerInfo]:
        layer = self.layers[op.index]
        kernel = layer.kernel or OPS[op.op].kernel
        assert kernel is not None
        output = self.m.tensors[op.outputs[0]]
        base = f"{self.p}_l{index}"
        names = {suffix: f"{base}_{suffix}" for suffix in layer.arrays}
        if layer.scratch:
            names["scratch"] = f"({self.p}_arena + {self.plan.offsets[_scratch_id(op.index)]})"
        lines = [cgen.comment(f"layer {index}: {op.op} (node {op.index}) -> {output.name}")]
        self.layer_const = 0
        for suffix, (dtype, values) in layer.arrays.items():
            lines.append(self.array(names[suffix], dtype, values))
            self.layer_const += self.nbytes(dtype, values)
        for suffix, (ctype, fields) in layer.structs.items():
            names[suffix] = f"{base}_{suffix}"
            value = cgen.initializer(_substitute(fields, names))
            lines.append(f"static const {ctype} {names[suffix]} = {value};")
        args = [f"&{base}"]
        for arg in layer.args:
            if arg == "inputs":
                ptrs = [self.const_input(lines, base, slot, op) for slot in range(len(op.inputs))]
                lines.append(f"static const int8_t *const {base}_inputs[{len(ptrs)}] = {{")
                lines.extend(cgen.wrap_values(ptrs))
                lines.append("};")
                args.append(f"{base}_inputs")
            elif arg.startswith("in"):
                args.append(self.const_input(lines, base, int(arg[2:]), op))
            else:
                args.append(self.pointer(op.outputs[0], ""))
        params = _substitute(layer.params, names)
        lines.append(f"static const {layer.params_type} {base} = {cgen.initializer(params)};")
        lines.append("")
        out = op.outputs[0]
        out_ptr = f"({self.p}_arena + {self.offset(out)})"  # bytes, whatever the output's type
        call = "\n".join([
            f"    {cgen.comment(f'{index}: {op.op} {output.name}')}",
            f"    {self.P}_BEGIN({index});",
            _call(kernel, args),
            f"    {self.P}_TICKS({index});",
            "    if (status != TC_OK) {",
            "        return status;",
            "    }",
            f"    {self.P}_TRACE({index}, {out_ptr}, {output.nbytes});",
        ])
        info = LayerInfo(index, op.index, output.name, op.op, kernel, layer.macs,
                         out, self.offset(out), output.nbytes, self.layer_const, layer.storage,
                         layer.storage_reason, layer.scratch)
        return "\n".join(lines), call, info

    def const_input(self, lines: list[str], base: str, slot: int, op: Operator) -> str:
        """Pointer to an activation input, emitting constant inputs (ADD x+c) as arrays."""
        tensor = self.m.tensors[op.inputs[slot]]
        name = f"{base}_in{slot}"
        if tensor.is_constant:
            lines.append(self.array(name, tensor.dtype, tensor.array()))
            self.layer_const += tensor.nbytes
        return self.pointer(tensor.index, name)

    def array(self, name: str, dtype: str, values: np.ndarray) -> str:
        return cgen.array(name, dtype, values, f"{self.P}_ALIGNED")

    @staticmethod
    def nbytes(dtype: str, values: np.ndarray) -> int:
        per = {"int8": 1, "uint8": 1, "int32": 4, "uint32": 4}.get(dtype, 4)
        return int(np.asarray(values).size) * per


def _call(kernel: str, args: list[str]) -> str:
    """``status = kernel(args);`` with one argument per line when it would be too long."""
    line = f"    status = {kernel}({', '.join(args)});"
    if len(line) <= cgen.MAX_LINE:
        return line
    return f"    status = {kernel}(\n        " + ",\n        ".join(args) + ");"


def _substitute(value: object, names: dict[str, str]) -> object:
    """Replace ``Raw("{suffix}")`` placeholders with the layer's array names."""
    if isinstance(value, dict):
        return {k: _substitute(v, names) for k, v in value.items()}
    if isinstance(value, cgen.Raw) and "{" in value.text:
        return cgen.Raw(value.text.format(**names))
    return value
