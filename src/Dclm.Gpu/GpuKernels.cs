using Dclm.Gpu.Kernels;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Dclm.Gpu;

/// <summary>Every kernel, compiled once per accelerator (PTX for CUDA, IL for the CPU accelerator).</summary>
internal sealed class GpuKernels : IDisposable
{
    public GpuKernels(Accelerator accelerator)
    {
        Accelerator = accelerator;
        var c = Counter;
        NormThreads = Math.Min(ElementKernels.NormThreads, accelerator.MaxNumThreadsPerGroup);
        F32 = new MatrixPair<F32Rows>(accelerator, c);
        _f16TensorCores = HalfTensorCorePrefill<F16Tensor>.TryOpen(accelerator, c);
        _bf16TensorCores = HalfTensorCorePrefill<BF16Tensor>.TryOpen(accelerator, c);
        F16 = new MatrixPair<F16Rows>(accelerator, c, _f16TensorCores is { } f16 ? (w, x, shape, y) => f16.Run(w.Data, x, shape, y) : null);
        BF16 = new MatrixPair<BF16Rows>(accelerator, c, _bf16TensorCores is { } bf16 ? (w, x, shape, y) => bf16.Run(w.Data, x, shape, y) : null);
        Q8 = new QuantizedPair<Q8Rows>(accelerator, c);
        Q4 = new QuantizedPair<Q4Rows>(accelerator, c);
        QuantizeToQ8 = c.Wrap(accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>>(ElementKernels.QuantizeToQ8));
        Norm = c.Wrap(accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, NormShape>(ElementKernels.Norm));
        AddBias = c.Wrap(accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, int, int, ArrayView<float>>(ElementKernels.AddBias));
        Rope = c.Wrap(accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, RopeShape>(ElementKernels.Rope));
        StoreKeyValue = c.Wrap(accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, int, int, ArrayView<int>, ArrayView<float>, ArrayView<float>>(ElementKernels.StoreKeyValue));
        SwiGlu = c.Wrap(accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, ArrayView<float>>(ElementKernels.SwiGlu));
        GatherRows = c.Wrap(accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, int, ArrayView<float>>(ElementKernels.GatherRows));
        Copy = c.Wrap(accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(ElementKernels.Copy));
        Attend = c.Wrap(accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<int>,
            ArrayView<float>, AttentionShape, ArrayView<float>>(AttentionKernel.Attend));
        AttendSplit = c.Wrap(accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<int>,
            ArrayView<float>, AttentionShape, ArrayView<float>>(AttentionKernel.AttendSplit));
        Combine = c.Wrap(accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, AttentionShape, ArrayView<float>>(AttentionKernel.Combine));
        NormRows = c.Wrap(accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, NormShape, ArrayView<int>,
            ArrayView<float>>(FusedKernels.NormRows));
        SwiGluQuantize = c.Wrap(accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, ArrayView<float>, ArrayView<int>, ArrayView<float>>(
            FusedKernels.SwiGluQuantize));
        PrepareQueryKeyValue = c.Wrap(accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, PrepareShape>(FusedKernels.PrepareQueryKeyValue));
        TiledAttend = LoadTiledAttention(accelerator) is { } tiled ? c.Wrap(tiled) : null;
    }

    /// <summary>
    /// The tiled attention kernel, or null (with one line on standard error) when the device will not load it, so the model
    /// runs the per-warp kernel instead: it needs about 36 KB of shared memory per group, more than any other kernel.
    /// </summary>
    private static Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<int>,
        ArrayView<float>, ArrayView<int>, AttentionShape, ArrayView<float>>? LoadTiledAttention(Accelerator accelerator)
    {
        try
        {
            return accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<int>,
                ArrayView<float>, ArrayView<int>, AttentionShape, ArrayView<float>>(TiledAttentionKernel.Attend);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"warning: the tiled attention kernel did not load ({error.GetType().Name}: {error.Message}); using the per-warp kernel");
            return null;
        }
    }

    /// <summary>f16/bf16 prefill on tensor cores; null where it is off or did not load (the FMA tile kernel runs).</summary>
    private readonly HalfTensorCorePrefill<F16Tensor>? _f16TensorCores;
    private readonly HalfTensorCorePrefill<BF16Tensor>? _bf16TensorCores;

    /// <summary>Frees the tensor-core prefill's split activations.</summary>
    public void Dispose()
    {
        _f16TensorCores?.Dispose();
        _bf16TensorCores?.Dispose();
    }

    public Accelerator Accelerator { get; }
    /// <summary>Launches of every kernel below, and the model's transfers.</summary>
    public LaunchCounter Counter { get; } = new();
    /// <summary>Threads per group of the norm kernel.</summary>
    public int NormThreads { get; }
    public MatrixPair<F32Rows> F32 { get; }
    public MatrixPair<F16Rows> F16 { get; }
    public MatrixPair<BF16Rows> BF16 { get; }
    public QuantizedPair<Q8Rows> Q8 { get; }
    public QuantizedPair<Q4Rows> Q4 { get; }
    public Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>> QuantizeToQ8 { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormShape> Norm { get; }
    public Action<Index1D, ArrayView<float>, int, int, int, ArrayView<float>> AddBias { get; }
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, RopeShape> Rope { get; }
    public Action<Index1D, ArrayView<float>, int, int, int, ArrayView<int>, ArrayView<float>, ArrayView<float>> StoreKeyValue { get; }
    public Action<Index1D, ArrayView<float>, int, ArrayView<float>> SwiGlu { get; }
    public Action<Index1D, ArrayView<float>, ArrayView<int>, int, ArrayView<float>> GatherRows { get; }
    public Action<Index1D, ArrayView<float>, ArrayView<float>> Copy { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<int>,
        ArrayView<float>, AttentionShape, ArrayView<float>> Attend { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<int>,
        ArrayView<float>, AttentionShape, ArrayView<float>> AttendSplit { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<int>, AttentionShape, ArrayView<float>> Combine { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, NormShape, ArrayView<int>, ArrayView<float>> NormRows { get; }
    public Action<Index1D, ArrayView<float>, int, ArrayView<float>, ArrayView<int>, ArrayView<float>> SwiGluQuantize { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, PrepareShape> PrepareQueryKeyValue { get; }
    /// <summary>Null when the device would not load it (see <see cref="LoadTiledAttention"/>).</summary>
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<int>,
        ArrayView<float>, ArrayView<int>, AttentionShape, ArrayView<float>>? TiledAttend { get; }
}

/// <summary>The decode and prefill products of one weight format, and the launch shapes that pick between them.</summary>
internal sealed class MatrixPair<TWeights> where TWeights : struct, IWeightRows
{
    private readonly Action<KernelConfig, TWeights, ArrayView<float>, MatrixShape, ArrayView<float>> _vector, _matrix;
    private readonly int _warp, _tile;
    /// <summary>Prefill on tensor cores (f16/bf16, <see cref="HalfTensorCorePrefill{TFormat}"/>); null runs <see cref="_matrix"/>.</summary>
    private readonly Action<TWeights, ArrayView<float>, MatrixShape, ArrayView<float>>? _tensorCores;

    public MatrixPair(Accelerator accelerator, LaunchCounter counter, Action<TWeights, ArrayView<float>, MatrixShape, ArrayView<float>>? tensorCores = null)
    {
        _tensorCores = tensorCores;
        _vector = counter.Wrap(accelerator.LoadStreamKernel<TWeights, ArrayView<float>, MatrixShape, ArrayView<float>>(MatrixKernels.MatrixVector));
        _matrix = counter.Wrap(accelerator.LoadStreamKernel<TWeights, ArrayView<float>, MatrixShape, ArrayView<float>>(MatrixKernels.MatrixMatrix));
        _warp = accelerator.WarpSize;
        if (_warp % MatrixKernels.RowLanes != 0) throw new NotSupportedException($"the decode kernels need a warp width that is a multiple of 8, not {_warp}");
        _tile = accelerator.MaxNumThreadsPerGroup >= MatrixKernels.MaxTile * MatrixKernels.MaxTile ? MatrixKernels.MaxTile : (int)Math.Sqrt(accelerator.MaxNumThreadsPerGroup);
    }

    /// <summary>y (+)= W·x for shape's tokens: eight lanes per row up to <see cref="MatrixKernels.DecodeTokens"/> tokens, tiles beyond.</summary>
    public void Run(TWeights weights, ArrayView<float> x, MatrixShape shape, ArrayView<float> y)
    {
        if (shape.Tokens == 0 || shape.Rows == 0) return;
        if (shape.Tokens <= MatrixKernels.DecodeTokens)
        {
            int rowsPerGroup = MatrixKernels.DecodeWarps * _warp / MatrixKernels.RowLanes;
            _vector(new KernelConfig((shape.Rows + rowsPerGroup - 1) / rowsPerGroup, MatrixKernels.DecodeWarps * _warp), weights, x, shape, y);
            return;
        }
        if (_tensorCores is not null)
        {
            _tensorCores(weights, x, shape, y);
            return;
        }
        shape.Tile = _tile;
        int tiles = (shape.Rows + _tile - 1) / _tile * ((shape.Tokens + _tile - 1) / _tile);
        _matrix(new KernelConfig(tiles, _tile * _tile), weights, x, shape, y);
    }
}

/// <summary>The decode and prefill products of one quantized format (Q8_0 activations in), picked as <see cref="MatrixPair{TWeights}"/> picks.</summary>
internal sealed class QuantizedPair<TWeights> where TWeights : struct, IQuantizedRows
{
    private readonly Action<KernelConfig, TWeights, ArrayView<int>, ArrayView<float>, MatrixShape, ArrayView<float>> _vector, _matrix;
    private readonly int _warp, _tile;
    /// <summary>Prefill on tensor cores, same bits as <see cref="_matrix"/>; null where it is off or did not load.</summary>
    private readonly TensorCorePrefill<TWeights>? _tensorCores;

    public QuantizedPair(Accelerator accelerator, LaunchCounter counter)
    {
        // Checked before loading: the driver would reject the kernels' dp4a with a less clear error.
        if (accelerator is CudaAccelerator { Architecture: { } architecture } && architecture < CudaArchitecture.SM_61)
            throw new NotSupportedException($"the q8_0/q4_0 kernels use dp4a, which needs compute capability 6.1 or newer, not {architecture}");
        _tensorCores = TensorCorePrefill<TWeights>.TryOpen(accelerator, counter);
        _vector = counter.Wrap(accelerator.LoadStreamKernel<TWeights, ArrayView<int>, ArrayView<float>, MatrixShape, ArrayView<float>>(QuantizedMatrixKernels.MatrixVector));
        _matrix = counter.Wrap(accelerator.LoadStreamKernel<TWeights, ArrayView<int>, ArrayView<float>, MatrixShape, ArrayView<float>>(QuantizedMatrixKernels.MatrixMatrix));
        _warp = accelerator.WarpSize;
        if (_warp % 8 != 0) throw new NotSupportedException($"the quantized kernels need a warp width that is a multiple of 8, not {_warp}");
        _tile = accelerator.MaxNumThreadsPerGroup >= MatrixKernels.MaxTile * MatrixKernels.MaxTile ? MatrixKernels.MaxTile : (int)Math.Sqrt(accelerator.MaxNumThreadsPerGroup);
    }

    /// <summary>y (+)= W·x for shape's tokens, x given as Q8_0 levels and scales.</summary>
    public void Run(TWeights weights, ArrayView<int> levels, ArrayView<float> scales, MatrixShape shape, ArrayView<float> y)
    {
        if (shape.Tokens == 0 || shape.Rows == 0) return;
        if (shape.Tokens <= MatrixKernels.DecodeTokens)
        {
            int rowsPerGroup = MatrixKernels.DecodeWarps * _warp / MatrixKernels.RowLanes;
            _vector(new KernelConfig((shape.Rows + rowsPerGroup - 1) / rowsPerGroup, MatrixKernels.DecodeWarps * _warp), weights, levels, scales, shape, y);
            return;
        }
        if (_tensorCores is not null)
        {
            _tensorCores.Run(weights, levels, scales, shape, y);
            return;
        }
        shape.Tile = _tile;
        int tiles = (shape.Rows + _tile - 1) / _tile * ((shape.Tokens + _tile - 1) / _tile);
        _matrix(new KernelConfig(tiles, _tile * _tile), weights, levels, scales, shape, y);
    }
}
