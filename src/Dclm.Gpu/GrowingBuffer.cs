using ILGPU;
using ILGPU.Runtime;

namespace Dclm.Gpu;

/// <summary>A device buffer reallocated only when a step needs more than it holds, so steady decoding allocates nothing.</summary>
internal sealed class GrowingBuffer<T>(Accelerator accelerator) : IDisposable where T : unmanaged
{
    private MemoryBuffer1D<T, Stride1D.Dense>? _buffer;

    /// <summary>The first <paramref name="length"/> elements (at least one, so views are never empty).</summary>
    public ArrayView1D<T, Stride1D.Dense> Ensure(long length)
    {
        length = Math.Max(1, length);
        if (_buffer is null || _buffer.Length < length)
        {
            _buffer?.Dispose();
            _buffer = accelerator.Allocate1D<T>(length);
        }
        return _buffer.View.SubView(0, length);
    }

    /// <summary>Copies <paramref name="source"/> into the start of the buffer and returns that view.</summary>
    public ArrayView1D<T, Stride1D.Dense> Upload(ReadOnlySpan<T> source)
    {
        var view = Ensure(source.Length);
        if (!source.IsEmpty) view.SubView(0, source.Length).AsContiguous().CopyFromCPU(source);
        return view;
    }

    public void Dispose() => _buffer?.Dispose();
}
