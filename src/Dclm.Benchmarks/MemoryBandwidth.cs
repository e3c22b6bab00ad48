using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dclm.Tensors.Compute;

namespace Dclm.Benchmarks;

/// <summary>
/// Measures sustained read bandwidth the way a decode step reads its weights: the pool's threads (as many as decode
/// uses) each stream their own contiguous span of a buffer far larger than the caches, held in 2 MB pages as copied
/// weights are (<see cref="HugePageMemory"/>), with the kernels' software prefetch
/// (<see cref="MatMul.PrefetchDistance"/> bytes ahead) in one read loop and the hardware prefetcher alone in the other.
/// A probe is the best pass of either loop, and a benchmark probes several times: on this shared VM a core can vanish
/// for a moment, and one burst of passes then reports far less than the machine reads (53.9 against 78.7 GB/s in one
/// run), which would flatter a decode rate set against it. The buffer is allocated once, so a benchmark can probe
/// again after each repetition.
/// </summary>
public sealed unsafe class MemoryBandwidth : ComputeJob, IDisposable
{
    private readonly HugePageMemory _memory;
    private readonly long _bytes;
    private readonly long[] _sinks = new long[64];
    private bool _prefetch;

    /// <summary>Allocates and faults in a buffer of <paramref name="bytes"/> (1 GiB by default) in 2 MB pages where Linux gives them.</summary>
    public MemoryBandwidth(long bytes = 1L << 30)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 1L << 20);
        _bytes = bytes / 256 * 256;
        _memory = HugePageMemory.Allocate(_bytes);
        for (long at = 0; at < _bytes; at += int.MaxValue)
            new Span<byte>(_memory.Pointer + at, (int)Math.Min(_bytes - at, int.MaxValue)).Fill(1);
    }

    /// <summary>
    /// The best rate of <paramref name="passes"/> passes over the buffer by <paramref name="pool"/>'s threads, in bytes
    /// per second; the passes alternate between the prefetching and the plain read loop, 10 ms apart.
    /// </summary>
    public double Measure(ComputePool pool, int passes = 16)
    {
        double best = 0;
        for (int p = 0; p < passes; p++)
        {
            _prefetch = p % 2 == 0;
            long start = Stopwatch.GetTimestamp();
            pool.Run(this);
            best = Math.Max(best, _bytes / Stopwatch.GetElapsedTime(start).TotalSeconds);
            long sum = 0;
            for (int t = 0; t < Math.Min(pool.Threads, _sinks.Length); t++) sum += _sinks[t];
            LastChecksum = sum;
            Thread.Sleep(10);
        }
        return best;
    }

    /// <summary>
    /// The wrapping sum of the 64-bit words the last pass read: the buffer holds bytes of 1, so a pass that read every
    /// byte exactly once, whatever its threads, sums to (bytes / 8) · 0x0101010101010101.
    /// </summary>
    public long LastChecksum { get; private set; }

    /// <summary>The bytes one pass reads.</summary>
    public long Bytes => _bytes;

    /// <inheritdoc/>
    public override void Execute(int thread, int threads)
    {
        long span = _bytes / threads / 256 * 256;
        byte* start = _memory.Pointer + span * thread;
        long length = thread == threads - 1 ? _bytes - span * thread : span;
        _sinks[thread % _sinks.Length] = Vector512.IsHardwareAccelerated ? Sum512(start, length, _prefetch) : Sum256(start, length, _prefetch);
    }

    /// <summary>Sums 256 bytes a step in four 64-byte loads: integer adds, so the loads and not the adds set the pace.</summary>
    private static long Sum512(byte* data, long length, bool prefetch)
    {
        Vector512<long> a = default, b = default, c = default, d = default;
        for (long i = 0; i < length; i += 256)
        {
            byte* p = data + i;
            if (prefetch)
            {
                byte* ahead = p + MatMul.PrefetchDistance;
                Sse.Prefetch0(ahead); Sse.Prefetch0(ahead + 64); Sse.Prefetch0(ahead + 128); Sse.Prefetch0(ahead + 192);
            }
            a += Vector512.Load((long*)p); b += Vector512.Load((long*)(p + 64));
            c += Vector512.Load((long*)(p + 128)); d += Vector512.Load((long*)(p + 192));
        }
        return Vector512.Sum(a + b + c + d);
    }

    /// <summary>The same with 32-byte loads, where 512-bit vectors are not accelerated.</summary>
    private static long Sum256(byte* data, long length, bool prefetch)
    {
        Vector256<long> a = default, b = default, c = default, d = default;
        for (long i = 0; i < length; i += 128)
        {
            byte* p = data + i;
            if (prefetch && Sse.IsSupported)
            {
                byte* ahead = p + MatMul.PrefetchDistance;
                Sse.Prefetch0(ahead); Sse.Prefetch0(ahead + 64);
            }
            a += Vector256.Load((long*)p); b += Vector256.Load((long*)(p + 32));
            c += Vector256.Load((long*)(p + 64)); d += Vector256.Load((long*)(p + 96));
        }
        return Vector256.Sum(a + b + c + d);
    }

    /// <summary>Frees the buffer.</summary>
    public void Dispose() => _memory.Dispose();
}
