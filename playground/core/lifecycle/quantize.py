"""Weight-only INT8 / INT4 / INT2 for linear layers, on kernels that ship inside torch.

Nothing here compiles anything at run time (no C++ extension, no ninja, no compiler): the installed
app has no compiler. What is quantized, and how:

- only the weights of ``nn.Linear`` layers; activations stay in the model's float type, and the
  caller decides which layers to skip (``precision.convert`` gives the LM head its own INT8 copy and
  leaves the input embedding it shares FP32);
- INT8: symmetric, one scale per output row (per channel): ``w ~ q * scale``, q in -127..127;
- INT4 / INT2: asymmetric, one scale and one shift per group of input columns (128, else 64, else 32
  when the width allows, else the whole row): ``w ~ min + q * scale``, q in 0..15 (0..3).

Kernels, picked when a layer is converted:

- CPU: ``torch.ops.aten._weight_int8pack_mm`` and ``_weight_int4pack_mm_for_cpu`` (with
  ``_convert_weight_to_int4pack_for_cpu``), prebuilt in every torch wheel since 2.4/2.5. They are
  fast for BF16 inputs only (their FP32 path is a slow reference loop: 30-80x a float matmul for a
  30-token prompt, measured), so an FP32 model's quantized layers multiply in BF16: the input is
  rounded to BF16, the products are summed by the kernel, the output comes back as FP32;
- elsewhere, or where a kernel refuses the shape or dtype: the reference path, which dequantizes
  the codes and multiplies in the input's own dtype (plain torch ops, any device). INT2 has no
  torch kernel and always takes it: its codes are stored four to a byte and widened on every call,
  so it decodes slower.

The reference path is also the tests' oracle for the kernels.
"""

from __future__ import annotations

import torch

GROUP_SIZES = (128, 64, 32)  # the CPU INT4 kernel's sizes; a group must divide the row


def group_size_for(in_features: int) -> int:
    """The group of input columns that shares one scale and shift (the whole row when none fits)."""
    return next((g for g in GROUP_SIZES if in_features % g == 0), in_features)


def quantize_int8(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric per-row INT8: codes [out, in] int8 and scales [out] in the weight's dtype."""
    w = weight.detach().float()
    scales = (w.abs().amax(dim=1) / 127).clamp_min(1e-12)
    codes = torch.round(w / scales[:, None]).clamp_(-127, 127).to(torch.int8)
    return codes, scales.to(weight.dtype)


def quantize_affine(weight: torch.Tensor, bits: int, group: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Asymmetric per-group codes [out, in] (uint8, 0..2**bits-1) and torch's scale-and-zero layout.

    The second tensor is [in / group, out, 2] holding (scale, zero) with
    ``w ~ (q - 2**(bits-1)) * scale + zero`` (zero = min + 2**(bits-1) * scale), the layout
    ``_weight_int4pack_mm_for_cpu`` reads; it is kept in float32.
    """
    out_f, in_f = weight.shape
    w = weight.detach().float().reshape(out_f, in_f // group, group)
    lo, hi = w.amin(dim=-1), w.amax(dim=-1)
    top = 2 ** bits - 1
    scale = ((hi - lo) / top).clamp_min(1e-12)
    codes = torch.round((w - lo[..., None]) / scale[..., None]).clamp_(0, top).to(torch.uint8)
    zero = lo + scale * 2 ** (bits - 1)
    scale_zero = torch.stack([scale, zero], dim=-1).transpose(0, 1).contiguous()
    return codes.reshape(out_f, in_f), scale_zero


def dequantize_affine(codes: torch.Tensor, scale_zero: torch.Tensor, bits: int) -> torch.Tensor:
    """The float32 weight [out, in] that ``codes`` and ``scale_zero`` stand for (the oracle)."""
    out_f, in_f = codes.shape
    groups = scale_zero.shape[0]
    sz = scale_zero.float().transpose(0, 1)  # [out, groups, 2]
    q = codes.reshape(out_f, groups, in_f // groups).float() - 2 ** (bits - 1)
    return (q * sz[..., :1] + sz[..., 1:]).reshape(out_f, in_f)


def pack_codes(codes: torch.Tensor, bits: int) -> torch.Tensor:
    """``8 // bits`` codes per byte along each row: [out, in] uint8 -> [out, in * bits / 8]."""
    per = 8 // bits
    c = codes.reshape(codes.shape[0], -1, per).to(torch.uint8)
    packed = torch.zeros(c.shape[:2], dtype=torch.uint8, device=codes.device)
    for i in range(per):
        packed |= c[..., i] << (bits * i)
    return packed


def unpack_codes(packed: torch.Tensor, bits: int) -> torch.Tensor:
    """The inverse of :func:`pack_codes`."""
    per = 8 // bits
    mask = 2 ** bits - 1
    parts = [(packed >> (bits * i)) & mask for i in range(per)]
    return torch.stack(parts, dim=-1).reshape(packed.shape[0], -1)


class WeightOnlyLinear(torch.nn.Module):
    """A linear layer whose weight is held as INT8 / INT4 / INT2 codes with scales.

    The codes and scales are buffers (they move with ``.to()`` and are counted by
    ``precision.weight_bytes``); the bias, when there is one, stays a float parameter.
    """

    def __init__(self, in_features: int, out_features: int, bits: int, group: int, kernel: str,
                 codes: torch.Tensor, scales: torch.Tensor, bias: torch.nn.Parameter | None,
                 compute_dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.bits, self.group, self.kernel = bits, group, kernel  # kernel: "int8pack", "int4pack_cpu", "reference"
        self.compute_dtype = compute_dtype  # the kernel's input dtype (None: the input's own)
        self.register_buffer("codes", codes)
        self.register_buffer("scales", scales)
        self.bias = bias

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, bits={self.bits}, "
                f"group={self.group}, kernel={self.kernel}, compute_dtype={self.compute_dtype}")

    def dequantized_weight(self) -> torch.Tensor:
        """The float32 weight the codes stand for, read back from whatever layout they are stored in."""
        if self.bits == 8:
            return self.codes.float() * self.scales.float()[:, None]
        if self.kernel == "int4pack_cpu":  # the packed layout is the kernel's own: read it through the
            # kernel (its slow FP32 path: for tests and checks, not for every call)
            eye = torch.eye(self.in_features, dtype=torch.float32, device=self.codes.device)
            return torch.ops.aten._weight_int4pack_mm_for_cpu(eye, self.codes, self.group, self.scales).t()
        return dequantize_affine(unpack_codes(self.codes, self.bits), self.scales, self.bits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape[:-1] + (self.out_features,)
        flat = x.reshape(-1, self.in_features)
        dtype = self.compute_dtype or x.dtype
        if self.kernel == "int8pack":
            y = torch.ops.aten._weight_int8pack_mm(flat.to(dtype).contiguous(), self.codes, self.scales.to(dtype))
        elif self.kernel == "int4pack_cpu":
            y = torch.ops.aten._weight_int4pack_mm_for_cpu(flat.to(dtype).contiguous(), self.codes, self.group,
                                                           self.scales.to(dtype))
        else:
            y = flat @ self.dequantized_weight().to(x.dtype).t()
        y = y.to(x.dtype)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(shape)


def _kernel_works(layer: WeightOnlyLinear, dtype: torch.dtype, weight: torch.Tensor) -> bool:
    """Whether the layer's torch kernel runs here at this dtype and shape, and agrees with ``weight``
    (the dequantized codes, float32)."""
    x = torch.randn(2, layer.in_features, dtype=dtype, device=layer.codes.device)
    dtype = layer.compute_dtype or dtype
    try:
        with torch.no_grad():
            got = layer(x).float()
        want = x.float() @ weight.t()
        if layer.bias is not None:
            want = want + layer.bias.float()
    except (RuntimeError, NotImplementedError, TypeError):
        return False
    tol = 1e-2 if dtype == torch.float32 else 1e-1  # relative to the output's size
    return bool(torch.isfinite(got).all()) and float((got - want).abs().max()) <= tol * (float(want.abs().max()) + 1)


def kernel_dtype(weight: torch.Tensor) -> torch.dtype:
    """The dtype torch's int8 / int4 kernels get their inputs in: BF16 for an FP32 layer on the CPU
    (their fast path), else the layer's own."""
    if weight.device.type == "cpu" and weight.dtype == torch.float32:
        return torch.bfloat16
    return weight.dtype


def quantize_linear(linear: torch.nn.Linear, bits: int, *, use_kernels: bool = True) -> WeightOnlyLinear:
    """A :class:`WeightOnlyLinear` standing for ``linear`` at ``bits`` (8, 4 or 2).

    ``use_kernels=False`` keeps the reference path (dequantize, then multiply in the input's dtype).
    """
    if bits not in (8, 4, 2):
        raise ValueError(f"bits must be 8, 4 or 2, not {bits}")
    weight = linear.weight
    out_f, in_f = weight.shape
    bias = linear.bias
    if bias is not None:
        bias = torch.nn.Parameter(bias.detach(), requires_grad=False)
    on_cpu = weight.device.type == "cpu"
    compute = kernel_dtype(weight)
    if bits == 8:
        codes, scales = quantize_int8(weight)
        layer = WeightOnlyLinear(in_f, out_f, 8, in_f, "int8pack", codes, scales, bias, compute)
        if not (use_kernels and _kernel_works(layer, weight.dtype, layer.dequantized_weight())):
            layer.kernel, layer.compute_dtype = "reference", None
        return layer
    group = group_size_for(in_f)
    codes, scale_zero = quantize_affine(weight, bits, group)
    if bits == 4 and on_cpu and use_kernels and group in GROUP_SIZES:
        try:  # the packing refuses some shapes (rows not a multiple of 16): those take the reference path
            packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(codes.to(torch.int32), 1)
        except RuntimeError:
            packed = None
        if packed is not None:
            layer = WeightOnlyLinear(in_f, out_f, 4, group, "int4pack_cpu", packed, scale_zero, bias, compute)
            if _kernel_works(layer, weight.dtype, dequantize_affine(codes, scale_zero, 4)):
                return layer
    if in_f * bits % 8:
        raise ValueError(f"a row of {in_f} {bits}-bit codes does not fill whole bytes")
    return WeightOnlyLinear(in_f, out_f, bits, group, "reference", pack_codes(codes, bits), scale_zero, bias)


def quantize_model(model: torch.nn.Module, bits: int, *, exclude: tuple[str, ...] = ("lm_head",),
                   use_kernels: bool = True) -> torch.nn.Module:
    """Replace every ``nn.Linear`` of ``model`` (in place) except those named in ``exclude``."""
    targets = [(name, module) for name, module in model.named_modules()
               if isinstance(module, torch.nn.Linear) and name.rsplit(".", 1)[-1] not in exclude
               and name not in exclude]
    with torch.no_grad():
        for name, module in targets:
            parent_name, _, child = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, child, quantize_linear(module, bits, use_kernels=use_kernels))
    return model
