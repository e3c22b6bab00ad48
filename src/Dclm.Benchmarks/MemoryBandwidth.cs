using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using Dclm.Tensors.Compute;

namespace Dclm.Benchmarks;

/// <summary>
/// Measures sustained read bandwidth: the pool's threads sum disjoint parts of a buffer far larger than
/// the caches, as a decode step streams weights. Best of several passes, in bytes per second, spread
/// over about half a second: on a shared VM one core can vanish for a moment, and a short burst of
/// passes then reports half the bandwidth (29.8 against 63.5 GB/s in two runs a minute apart).
/// </summary>
public sealed unsafe class MemoryBandwidth : ComputeJob
{
    private float* _data;
    private long _count;
    private readonly double[] _sinks = new double[64];

    public static double Measure(ComputePool pool, long bytes = 1L << 30, int passes = 16)
    {
        var job = new MemoryBandwidth { _count = bytes / sizeof(float) };
        job._data = (float*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        try
        {
            new Span<float>(job._data, (int)Math.Min(job._count, int.MaxValue)).Fill(1f);
            for (long i = int.MaxValue; i < job._count; i++) job._data[i] = 1f;
            double best = 0;
            for (int p = 0; p < passes; p++)
            {
                var clock = Stopwatch.StartNew();
                pool.Run(job);
                best = Math.Max(best, bytes / clock.Elapsed.TotalSeconds);
                Thread.Sleep(10);
            }
            return best;
        }
        finally
        {
            NativeMemory.AlignedFree(job._data);
        }
    }

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
}
