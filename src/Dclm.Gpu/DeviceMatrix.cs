using System.Runtime.InteropServices;
using Dclm.Gpu.Kernels;
using Dclm.Tensors;
using ILGPU;
using ILGPU.Runtime;

namespace Dclm.Gpu;

/// <summary>
/// A weight matrix (rows, columns) uploaded once, in its own type: f32 as floats, f16/bf16 as pairs in uints, Q8_0 and
/// Q4_0 kept in their blocks (levels and f16 scales in two aligned arrays). Products run through <see cref="Apply"/>.
/// </summary>
internal sealed unsafe class DeviceMatrix : IDisposable
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? _floats;
    private readonly MemoryBuffer1D<uint, Stride1D.Dense>? _pairs;
    private readonly MemoryBuffer1D<int, Stride1D.Dense>? _levels;
    private readonly MemoryBuffer1D<ushort, Stride1D.Dense>? _scales;

    /// <summary>Copies <paramref name="m"/> to the device; <paramref name="name"/> names it in errors.</summary>
    public DeviceMatrix(Accelerator accelerator, WeightMatrix m, string name)
    {
        if (m.Columns % 32 != 0) throw new NotSupportedException($"{name}: the GPU backend needs columns in multiples of 32, not {m.Columns}");
        (Type, Rows, Columns, ByteLength) = (m.Type, m.Rows, m.Columns, m.ByteLength);
        long elements = (long)m.Rows * m.Columns, blocks = elements / 32;
        switch (m.Type)
        {
            case GgmlType.F32:
                _floats = accelerator.Allocate1D<float>(elements);
                Upload(_floats.View, (float*)m.Data, elements);
                break;
            case GgmlType.F16 or GgmlType.BF16:
                _pairs = accelerator.Allocate1D<uint>(elements / 2);
                Upload(_pairs.View, (uint*)m.Data, elements / 2);
                break;
            case GgmlType.Q8_0 or GgmlType.Q4_0:
            {
                int perBlock = m.Type == GgmlType.Q8_0 ? 8 : 4, blockBytes = 2 + 4 * perBlock;
                var levels = new int[blocks * perBlock];
                var scales = new ushort[blocks];
                for (long b = 0; b < blocks; b++)
                {
                    byte* block = m.Data + b * blockBytes;
                    scales[b] = *(ushort*)block;
                    for (int k = 0; k < perBlock; k++) levels[b * perBlock + k] = *(int*)(block + 2 + 4 * k);
                }
                _levels = accelerator.Allocate1D(levels);
                _scales = accelerator.Allocate1D(scales);
                break;
            }
            default:
                throw new NotSupportedException($"{name}: the GPU backend runs f32, f16, bf16, q8_0 and q4_0 weights, not {GgmlTypeInfo.Name(m.Type)}");
        }
    }

    public GgmlType Type { get; }
    public int Rows { get; }
    public int Columns { get; }
    /// <summary>Bytes of the matrix in its file's layout (what a decode step streams).</summary>
    public long ByteLength { get; }

    /// <summary>Whether the product takes activations quantized to Q8_0 (as the CPU engine quantizes them) instead of floats.</summary>
    public bool WantsQ8Input => Type is GgmlType.Q8_0 or GgmlType.Q4_0;

    /// <summary>y[t, offset + r] (+)= Σ_c W[r, c]·x[t, c] for <paramref name="tokens"/> tokens; y rows are <paramref name="stride"/> apart.</summary>
    public void Apply(GpuKernels kernels, ArrayView<float> x, int tokens, ArrayView<float> y, int stride, int offset, bool accumulate)
    {
        var shape = Shape(tokens, stride, offset, accumulate);
        switch (Type)
        {
            case GgmlType.F32: kernels.F32.Run(new F32Rows(_floats!.View, Columns), x, shape, y); break;
            case GgmlType.F16: kernels.F16.Run(new F16Rows(_pairs!.View, Columns), x, shape, y); break;
            case GgmlType.BF16: kernels.BF16.Run(new BF16Rows(_pairs!.View, Columns), x, shape, y); break;
            default: throw new InvalidOperationException($"{GgmlTypeInfo.Name(Type)} weights take Q8_0 activations");
        }
    }

    /// <summary>As <see cref="Apply"/> for Q8_0/Q4_0 weights, x given as Q8_0 levels (tokens, columns/4) and scales (tokens, columns/32).</summary>
    public void ApplyQuantized(GpuKernels kernels, ArrayView<int> levels, ArrayView<float> scales, int tokens, ArrayView<float> y, int stride, int offset,
        bool accumulate)
    {
        var shape = Shape(tokens, stride, offset, accumulate);
        if (Type == GgmlType.Q8_0) kernels.Q8.Run(new Q8Rows(_levels!.View, _scales!.View, Columns / 32), levels, scales, shape, y);
        else kernels.Q4.Run(new Q4Rows(_levels!.View, _scales!.View, Columns / 32), levels, scales, shape, y);
    }

    private MatrixShape Shape(int tokens, int stride, int offset, bool accumulate) =>
        new() { Tokens = tokens, Rows = Rows, Columns = Columns, OutputStride = stride, OutputOffset = offset, Accumulate = accumulate ? 1 : 0 };

    /// <summary>Copies host memory to the device in pieces of at most 2^30 elements (spans are int-sized).</summary>
    private static void Upload<T>(ArrayView1D<T, Stride1D.Dense> view, T* source, long count) where T : unmanaged
    {
        const long piece = 1L << 30;
        for (long at = 0; at < count; at += piece)
        {
            int n = (int)Math.Min(piece, count - at);
            view.SubView(at, n).AsContiguous().CopyFromCPU(new ReadOnlySpan<T>(source + at, n));
        }
    }

    public void Dispose()
    {
        _floats?.Dispose();
        _pairs?.Dispose();
        _levels?.Dispose();
        _scales?.Dispose();
    }
}
