using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using Dclm.Tensors.Compute;

namespace Dclm.Benchmarks;

/// <summary>
/// Measures sustained read bandwidth: the pool's threads sum disjoint parts of a buffer far larger than
/// the caches, as a decode step streams weights. Best of several passes, in bytes per second, spread
/// over about half a second: on a shared VM one core can vanish for a moment, and a short burst of
/// passes then reports half the bandwidth (29.8 against 63.5 GB/s in two runs a minute apart). The buffer is
/// allocated once, so a benchmark can probe again after each repetition.
/// </summary>
public sealed unsafe class MemoryBandwidth : ComputeJob, IDisposable
{
    private float* _data;
    private readonly long _bytes;
    private readonly long _count;
    private readonly double[] _sinks = new double[64];

    /// <summary>Allocates and touches a buffer of <paramref name="bytes"/> (1 GiB by default).</summary>
    public MemoryBandwidth(long bytes = 1L << 30)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 1L << 20);
        _bytes = bytes;
        _count = bytes / sizeof(float);
        _data = (float*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        for (long start = 0; start < _count; start += int.MaxValue)
            new Span<float>(_data + start, (int)Math.Min(_count - start, int.MaxValue)).Fill(1f);
    }

    /// <summary>The best rate of <paramref name="passes"/> passes over the buffer by <paramref name="pool"/>'s threads, in bytes per second.</summary>
    public double Measure(ComputePool pool, int passes = 16)
    {
        ObjectDisposedException.ThrowIf(_data == null, this);
        double best = 0;
        for (int p = 0; p < passes; p++)
        {
            var clock = Stopwatch.StartNew();
            pool.Run(this);
            best = Math.Max(best, _bytes / clock.Elapsed.TotalSeconds);
            Thread.Sleep(10);
        }
        return best;
    }

    /// <inheritdoc/>
    public override void Execute(int thread, int threads)
    {
        long per = _count / threads / Vector<float>.Count * Vector<float>.Count;
        float* p = _data + per * thread;
        var a = Vector<float>.Zero; var b = Vector<float>.Zero;
        int width = Vector<float>.Count;
        for (long i = 0; i + 2 * width <= per; i += 2 * width)
        {
            a += *(Vector<float>*)(p + i);
            b += *(Vector<float>*)(p + i + width);
        }
        _sinks[thread % _sinks.Length] = Vector.Sum(a + b);
    }

    /// <summary>Frees the buffer.</summary>
    public void Dispose()
    {
        if (_data == null) return;
        NativeMemory.AlignedFree(_data);
        _data = null;
    }
}
