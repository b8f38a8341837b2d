"""Launch a GPU kernel: its framework computes on the GPU by default, or every cell fails.

The kernelspec `dlbook-<framework>-gpu` runs this file with the GPU environment's Python instead of
`ipykernel_launcher`. `bookbuild envs --gpu` copies it next to the kernel.json, because that Python
has the framework and ipykernel but not bookbuild: so this file imports only the standard library,
ipykernel and the framework.

The kernel must never run a notebook on the CPU while claiming the GPU. If no GPU is visible, or a
first computation on it fails, every cell raises `GPUKernelError` with the reason; any other error
before the kernel starts kills it, which Jupyter and nbval report loudly too. (An exception in
`--IPKernelApp.exec_lines` would only be logged, and the kernel would go on, on the CPU.)

The book prints the CPU generator's random numbers (docs/gpu.md, "Random numbers"). PyTorch and
MXNet draw different numbers on the GPU from the same seed, so their GPU kernels draw on the CPU
and move the result to the GPU; TensorFlow's Philox kernels give the same numbers on both devices.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


class GPUKernelError(RuntimeError):
    """Raised by every cell of a GPU kernel that could not put its framework on a GPU."""


# --- PyTorch ------------------------------------------------------------------------------------


def cpu_random_mode():
    """A dispatch mode that makes random ops on any device draw from the CPU generator.

    It works below autograd on ATen ops, so it sees the draws made inside `nn.init`, dropout and
    samplers too. An op that targets another device, with no generator or a CPU one, runs on CPU
    copies of its inputs and its result is copied back: the numbers are the CPU run's numbers.
    """
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    aten = torch.ops.aten
    # Ops that create a tensor from nothing but their arguments: the device comes as a keyword.
    factories = {aten.rand, aten.randn, aten.randint, aten.randperm, aten.normal}
    # Ops that fill their first argument in place: only its shape and dtype matter.
    fills = {aten.uniform_, aten.normal_, aten.random_, aten.bernoulli_, aten.exponential_,
             aten.geometric_, aten.log_normal_, aten.cauchy_}
    # Ops that draw from tensor inputs (probabilities, rates, shapes of `*_like`).
    samplers = {aten.bernoulli, aten.multinomial, aten.poisson, aten.rand_like, aten.randn_like,
                aten.randint_like, aten.normal}
    random_ops = factories | fills | samplers | {aten.native_dropout}
    cpu = torch.device("cpu")

    def on_cpu(value):
        return value.to(cpu) if isinstance(value, torch.Tensor) else value

    def first_device(args, kwargs):
        tensors = [a for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor)]
        return tensors[0].device if tensors else None

    class CPURandom(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = dict(kwargs or {})
            packet = func.overloadpacket
            generator = kwargs.get("generator")
            if packet not in random_ops or (generator is not None and generator.device.type != "cpu"):
                return func(*args, **kwargs)  # every other op, and draws from a GPU generator
            if packet in fills and args[0].device.type != "cpu":
                target = args[0]
                drawn = torch.empty(target.shape, dtype=target.dtype, device=cpu)
                func(drawn, *map(on_cpu, args[1:]), **{k: on_cpu(v) for k, v in kwargs.items()})
                return target.copy_(drawn)
            if packet is aten.native_dropout:
                return dropout(*args, **kwargs)
            device = kwargs.get("device") or first_device(args, kwargs)
            if device is None or torch.device(device).type == "cpu":
                return func(*args, **kwargs)
            if "device" in kwargs:
                kwargs["device"] = cpu
            result = func(*map(on_cpu, args), **{k: on_cpu(v) for k, v in kwargs.items()})
            return result.to(device)

    def dropout(input, p, train=None):
        """The CPU's dropout (`input * noise`, noise = bernoulli(1-p) / (1-p)) with its draws."""
        if input.device.type == "cpu" or train is False or p == 0 or input.numel() == 0:
            return aten.native_dropout(input, p, train)
        noise = torch.empty(input.shape, dtype=input.dtype, device=cpu).bernoulli_(1 - p).div_(1 - p)
        noise = noise.to(input.device)
        return input * noise, noise != 0

    return CPURandom()


def start_pytorch() -> str:
    import torch

    if not torch.cuda.is_available():
        raise GPUKernelError(f"no CUDA device is visible to PyTorch {torch.__version__} "
                             f"(its CUDA build: {torch.version.cuda or 'none, a CPU-only build'})")
    device = put_pytorch_on("cuda")
    return f"PyTorch {torch.__version__} on {torch.cuda.get_device_name(device)}"


def put_pytorch_on(device_type: str):
    """Make `device_type` PyTorch's default device, with the CPU generator's random numbers.

    Apart from the CUDA check, this is the whole PyTorch GPU kernel; the stand-in device of
    tests/test_stand_in.py goes through it too. Returns the device of a first computation there.
    """
    import torch

    torch.set_default_device(device_type)
    torch.backends.cudnn.allow_tf32 = False  # float32 means float32, as on the CPU
    torch.backends.cuda.matmul.allow_tf32 = False
    cpu_random_mode().__enter__()  # for the kernel's lifetime, in the thread that runs the cells
    x = torch.ones(2) * 2  # a first computation, so that a broken setup fails here
    if x.device.type != device_type or x.sum().item() != 4:
        raise GPUKernelError(f"a first computation did not run on {device_type}: {x!r}")
    return x.device


# --- TensorFlow ---------------------------------------------------------------------------------


def start_tensorflow() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        raise GPUKernelError(f"no GPU is visible to TensorFlow {tf.__version__} "
                             f"(built with CUDA: {tf.test.is_built_with_cuda()})")
    tf.config.experimental.enable_tensor_float_32_execution(False)
    x = tf.ones(2) * 2  # TensorFlow places ops on the first GPU by itself
    if "GPU" not in x.device or float(tf.reduce_sum(x)) != 4:
        raise GPUKernelError(f"a first computation did not run on the GPU: {x.device}")
    return f"TensorFlow {tf.__version__} on {gpus[0].name}"


# --- MXNet --------------------------------------------------------------------------------------


def route_mxnet_random_to_cpu(module) -> None:
    """Make `module`'s samplers (mxnet.np.random) draw on the CPU and copy to the requested context.

    Only calls with scalar parameters are routed: a sampler given arrays already on the GPU keeps
    drawing there. Gluon initializes parameters on the CPU by itself.
    """
    import inspect

    import mxnet as mx

    def routed(sampler):
        def draw(*args, ctx=None, out=None, **kwargs):
            target = ctx or mx.context.current_context()
            arrays = any(isinstance(a, mx.nd.NDArray) for a in (*args, *kwargs.values()))
            if out is not None or arrays or target == mx.cpu():
                return sampler(*args, ctx=ctx, out=out, **kwargs)
            return sampler(*args, ctx=mx.cpu(), **kwargs).copyto(target)

        draw.__wrapped__ = sampler
        draw.__doc__ = sampler.__doc__
        return draw

    for name, sampler in vars(module).copy().items():
        if callable(sampler) and not name.startswith("_"):
            try:
                parameters = inspect.signature(sampler).parameters
            except (TypeError, ValueError):
                continue
            if "ctx" in parameters and "out" in parameters:
                setattr(module, name, routed(sampler))


def start_mxnet() -> str:
    import mxnet as mx

    if mx.context.num_gpus() == 0:
        raise GPUKernelError(f"no GPU is visible to MXNet {mx.__version__} "
                             f"(built with CUDA: {mx.runtime.Features().is_enabled('CUDA')})")
    return f"MXNet {mx.__version__} on {put_mxnet_on(mx.gpu(0))}"


def put_mxnet_on(context):
    """Make `context` MXNet's default context, with the CPU generator's random numbers.

    Apart from the GPU check, this is the whole MXNet GPU kernel; the stand-in context of
    tests/test_stand_in.py goes through it too. Returns the context of a first computation.
    """
    import mxnet as mx

    mx.test_utils.set_default_context(context)  # thread-local: this is the thread that runs cells
    route_mxnet_random_to_cpu(mx.np.random)
    x = mx.np.ones(2) * 2  # also gets MXNet's one-off log lines out before the first cell
    if x.ctx != context or float(x.sum()) != 4:
        raise GPUKernelError(f"a first computation did not run on {context}: {x.ctx}")
    return x.ctx


STARTS: dict[str, Callable[[], str]] = {
    "pytorch": start_pytorch,
    "tensorflow": start_tensorflow,
    "mxnet": start_mxnet,
}


def start(framework: str) -> str:
    """Put the framework on the GPU; raise GPUKernelError, with the reason, if that fails."""
    try:
        return STARTS[framework]()
    except GPUKernelError:
        raise
    except Exception as error:  # an import error, a CUDA error in the first computation...
        raise GPUKernelError(f"{type(error).__name__}: {error}") from error


def refuse_every_cell(shell, message: str) -> None:
    """Make every cell fail with `message` before it runs (an input transformer that raises)."""

    def refuse(lines: list[str]) -> list[str]:
        raise GPUKernelError(message)

    shell.input_transformers_post.append(refuse)


def main(argv: list[str]) -> None:
    framework, kernel_args = argv[1], argv[2:]
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        sys.path.pop(0)  # the kernelspec folder is no place to import from
    try:
        print(f"dlbook GPU kernel: {start(framework)}", file=sys.stderr)
        refusal = None
    except GPUKernelError as error:
        refusal = (f"the {framework} GPU kernel cannot compute on a GPU, so it runs nothing: {error}. "
                   f"Use the kernel dlbook-{framework}-cpu on this machine.")
        print(f"dlbook GPU kernel: {refusal}", file=sys.stderr)

    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(kernel_args)
    if refusal:
        refuse_every_cell(app.shell, refusal)
    app.start()


if __name__ == "__main__":
    main(sys.argv)
