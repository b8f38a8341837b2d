"""The GPU kernel on a stand-in device: how `make test` finds default-device assumptions without a GPU.

A GPU kernel makes its framework's default device the GPU (src/bookbuild/gpu_kernel.py). Code that
silently assumes the CPU, such as `assert x.device == torch.device('cpu')` for a tensor created
without a device, `.numpy()` on such a tensor, or an operation between it and a CPU tensor, then
fails, but only on a GPU. This launcher starts the same kernel, through the same functions, with a
default device that is not the CPU yet keeps its values in CPU memory, so that every notebook runs
to the end and its outputs can be compared with the CPU reference:

- PyTorch: `standin`, a device of its own (PyTorch's PrivateUse1 backend, registered from Python).
  Every operation on it runs on CPU views of its tensors. Like a GPU, it refuses `.numpy()`,
  prints `device='standin:0'`, and refuses to mix its tensors with CPU tensors of one or more
  dimensions (zero-dimensional CPU tensors are allowed, as CUDA allows them). torch.save and
  torch.load keep a tensor on it, as they keep a CUDA tensor on the GPU.
- MXNet: the context cpu(1), which MXNet keeps apart from cpu(0) as it keeps gpu(0) apart.

It runs with the framework's CPU environment, which has no bookbuild:
    python tests/stand_in_kernel.py FRAMEWORK -f CONNECTION_FILE
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path

LAUNCHER = Path(__file__).resolve().parent.parent / "src" / "bookbuild" / "gpu_kernel.py"
STAND_IN = "standin"


def load_gpu_kernel():
    spec = importlib.util.spec_from_file_location("gpu_kernel", LAUNCHER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- PyTorch: the `standin` device ---------------------------------------------------------------


def register_pytorch_stand_in() -> None:
    """Register `standin`: tensors with storages of their own device over CPU memory."""
    import torch
    from torch.utils._pytree import tree_flatten, tree_map
    from torch.utils.backend_registration import _setup_privateuseone_for_python_backend

    _setup_privateuseone_for_python_backend(STAND_IN)
    device = torch.device(STAND_IN, 0)
    cpu = torch.device("cpu")
    cpu_keys = torch._C.DispatchKeySet(torch._C.DispatchKey.CPU)
    aten = torch.ops.aten
    owners: dict[int, torch.UntypedStorage] = {}  # data pointer -> the CPU storage that owns the memory

    def on_stand_in(value) -> bool:
        return isinstance(value, torch.Tensor) and value.device.type == STAND_IN

    def stand_in_storage(storage: torch.UntypedStorage) -> torch.UntypedStorage:
        """A storage on the stand-in over the memory of a CPU storage, which is kept alive for good
        (a test device: the notebooks are small), so that its address is never reused."""
        if storage.nbytes():
            owners.setdefault(storage.data_ptr(), storage)
        return torch._C._construct_storage_from_data_pointer(storage.data_ptr(), device, storage.nbytes())

    def cpu_view(tensor: torch.Tensor) -> torch.Tensor:
        """A CPU tensor over the memory of a stand-in tensor (a fresh, resizable one if it has none)."""
        memory = tensor.untyped_storage()
        storage = (torch._C._construct_storage_from_data_pointer(memory.data_ptr(), cpu, memory.nbytes())
                   if memory.nbytes() else torch.UntypedStorage(0))
        return torch.empty(0, dtype=tensor.dtype).set_(storage, tensor.storage_offset(), tensor.size(),
                                                      tensor.stride())

    def point(tensor: torch.Tensor, view: torch.Tensor) -> torch.Tensor:
        """Make a stand-in tensor show the memory, shape and strides of a CPU tensor."""
        aten.set_.source_Storage_storage_offset.redispatch(
            cpu_keys, tensor, stand_in_storage(view.untyped_storage()), view.storage_offset(), view.size(),
            view.stride())
        return tensor

    def wrap(view: torch.Tensor) -> torch.Tensor:
        return point(torch._C._acc.create_empty_tensor((0,), view.dtype), view)

    copies = {aten._to_copy.default, aten._copy_from.default}
    set_storage = {aten.set_.source_Storage, aten.set_.source_Storage_storage_offset}

    def run_on_cpu(func, *args, **kwargs):
        if func is aten._copy_from.default:  # copy_ between the stand-in and the CPU
            source, target = args[0], args[1]
            (cpu_view(target) if on_stand_in(target) else target).copy_(
                cpu_view(source) if on_stand_in(source) else source)
            return target
        if func in set_storage:  # torch.load: a tensor over a storage restored on the stand-in
            return func.redispatch(cpu_keys, *args, **kwargs)
        if func not in copies:
            flat, _ = tree_flatten((args, kwargs))
            elsewhere = [t for t in flat if isinstance(t, torch.Tensor) and not on_stand_in(t)
                         and (t.dim() > 0 or func is aten.equal.default)]  # CUDA's equal takes no 0-d either
            if elsewhere:
                raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two "
                                   f"devices, {device} and {elsewhere[0].device}! (in {func})")
        target_device = kwargs.get("device")
        if target_device is not None:
            kwargs["device"] = cpu
        views: dict[int, torch.Tensor] = {}

        def to_cpu(value):
            if on_stand_in(value):
                views[id(value)] = cpu_view(value)
                return views[id(value)]
            return value

        cpu_args, cpu_kwargs = tree_map(to_cpu, (args, kwargs))
        out = func(*cpu_args, **cpu_kwargs)
        schema = func._schema
        named = dict(zip((a.name for a in schema.arguments), args, strict=False)) | kwargs  # the rest by keyword
        written = {}
        for argument in schema.arguments:  # self of add_, out= of abs.out: written, maybe resized
            value = named.get(argument.name)
            if argument.alias_info is not None and argument.alias_info.is_write and on_stand_in(value):
                view = views[id(value)]
                if (view.untyped_storage().data_ptr(), view.shape, view.stride(), view.storage_offset()) != \
                        (value.untyped_storage().data_ptr(), value.shape, value.stride(), value.storage_offset()):
                    point(value, view)
                written[frozenset(argument.alias_info.before_set)] = value
        stays = target_device is None or torch.device(target_device).type == STAND_IN
        results = []
        for returned, value in zip(schema.returns, out if isinstance(out, tuple) else (out,), strict=True):
            if returned.alias_info is not None and returned.alias_info.is_write:
                results.append(written[frozenset(returned.alias_info.before_set)])
            elif isinstance(value, torch.Tensor) and stays:
                results.append(wrap(value))
            elif isinstance(value, list) and stays:  # split, unbind, chunk...
                results.append([wrap(v) if isinstance(v, torch.Tensor) else v for v in value])
            else:
                results.append(value)
        return tuple(results) if isinstance(out, tuple) else results[0]

    fallback = torch.library.Library("_", "IMPL")
    fallback.fallback(run_on_cpu, dispatch_key="PrivateUse1")
    # Where PyTorch builds a tensor with Python's dispatch excluded, as torch.tensor(data) does
    # under a dispatch mode, it reaches only kernels registered for the operator: these.
    kernels = torch.library.Library("aten", "IMPL")
    for op in (aten.empty.memory_format, aten.empty_strided.default, aten._copy_from.default):
        kernels.impl(op, functools.partial(run_on_cpu, op), "PrivateUse1")
    register_pytorch_stand_in.libraries = (fallback, kernels)  # kept alive with the kernel

    def tag(storage):
        if storage.device.type == STAND_IN:
            return str(device)

    def restore(storage, location):
        if location.startswith(STAND_IN):
            return stand_in_storage(storage)

    torch.serialization.register_package(0, tag, restore)


# --- start ---------------------------------------------------------------------------------------


def main(argv: list[str]) -> None:
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        sys.path.pop(0)  # the notebooks must not import the tests
    framework = argv[1]
    kernel = load_gpu_kernel()
    if framework == "pytorch":
        register_pytorch_stand_in()
        kernel.STARTS["pytorch"] = lambda: f"PyTorch on {kernel.put_pytorch_on(STAND_IN)}, a stand-in"
    elif framework == "mxnet":
        import mxnet as mx

        kernel.STARTS["mxnet"] = lambda: f"MXNet on {kernel.put_mxnet_on(mx.cpu(1))}, a stand-in"
    else:
        raise SystemExit(f"no stand-in device for {framework}")
    kernel.main([str(LAUNCHER), *argv[1:]])


if __name__ == "__main__":
    main(sys.argv)
