using ILGPU;
using ILGPU.Runtime;

namespace Dclm.Gpu;

/// <summary>
/// Everything of one element type a step uploads, packed into one page-locked host array and sent in one asynchronous
/// copy on the accelerator's default stream (the stream the kernels run on, so they see it; page-locked memory lets
/// the driver copy without a staging copy or a wait). Grown to the largest step seen.
/// </summary>
/// <remarks>The host array must not be rewritten until the copy is done: the model waits for the stream before packing again.</remarks>
internal sealed class StagingBuffer<T>(Accelerator accelerator) : IDisposable where T : unmanaged
{
    private PageLockedArray1D<T>? _host;
    private MemoryBuffer1D<T, Stride1D.Dense>? _device;
    private long _used;

    /// <summary>Starts packing a step of at most <paramref name="capacity"/> elements (no copy may be in flight).</summary>
    public void Begin(long capacity)
    {
        if (capacity > int.MaxValue) throw new NotSupportedException($"a step of {capacity} staged values is beyond one upload");
        if (_host is null || _host.Length < capacity)
        {
            Dispose();
            _host = accelerator.AllocatePageLocked1D<T>(capacity);
            _device = accelerator.Allocate1D<T>(capacity);
        }
        _used = 0;
    }

    /// <summary>The next <paramref name="length"/> host elements (at least one is reserved, so views are never empty) and where they start.</summary>
    public Span<T> Reserve(int length, out long offset)
    {
        offset = _used;
        _used += Math.Max(1, length);
        if (_used > _host!.Length) throw new InvalidOperationException($"staged {_used} values into room for {_host.Length}");
        return _host.Span.Slice((int)offset, length);
    }

    /// <summary>Queues the copy of everything reserved since <see cref="Begin"/> to the device.</summary>
    public void Upload()
    {
        if (_used == 0) return;
        var target = _device!.View.SubView(0, _used).AsContiguous();
        target.CopyFrom(accelerator.DefaultStream, _host!.ArrayView.SubView(0, _used));
    }

    /// <summary>The device copy of elements [offset, offset + length).</summary>
    public ArrayView1D<T, Stride1D.Dense> View(long offset, long length) => _device!.View.SubView(offset, Math.Max(1, length));

    public void Dispose()
    {
        _host?.Dispose();
        _device?.Dispose();
        (_host, _device) = (null, null);
    }
}

/// <summary>
/// A region of the step's upload (<see cref="StagingBuffer{T}"/>) that kernels read, handed out through the same
/// <see cref="Ensure"/> as a <see cref="GrowingBuffer{T}"/>, so readers need not know it was packed.
/// </summary>
internal sealed class StagedRegion<T> where T : unmanaged
{
    private ArrayView1D<T, Stride1D.Dense> _view;

    /// <summary>Points the region at this step's copy.</summary>
    public void Set(ArrayView1D<T, Stride1D.Dense> view) => _view = view;

    /// <summary>The first <paramref name="length"/> elements (at least one) of what the step staged here.</summary>
    public ArrayView1D<T, Stride1D.Dense> Ensure(long length)
    {
        length = Math.Max(1, length);
        if (length > _view.Length) throw new InvalidOperationException($"the step staged {_view.Length} values here, not {length}");
        return _view.SubView(0, length);
    }
}

/// <summary>A page-locked host array grown to the largest length asked for: where the logits land before the step returns them.</summary>
internal sealed class PinnedBuffer<T>(Accelerator accelerator) : IDisposable where T : unmanaged
{
    private PageLockedArray1D<T>? _host;

    /// <summary>The array, at least <paramref name="length"/> long (no copy into it may be in flight).</summary>
    public PageLockedArray1D<T> Ensure(long length)
    {
        if (_host is null || _host.Length < length)
        {
            _host?.Dispose();
            _host = accelerator.AllocatePageLocked1D<T>(Math.Max(1, length));
        }
        return _host;
    }

    public void Dispose() => _host?.Dispose();
}
