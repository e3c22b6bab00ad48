using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Dclm.Tensors.Compute;

/// <summary>
/// A fixed set of worker threads that kernels split their work over, with a fork/join cheap enough
/// for the ~200 matrix products of one decoded token. The calling thread takes part as thread 0.
/// Idle workers spin for a short while (<see cref="SpinMicroseconds"/>) before blocking, so back-to-back
/// jobs start without a kernel wake-up.
/// </summary>
/// <remarks>
/// <see cref="Run"/> is safe to call from several threads: calls are serialized, one job at a time.
/// A job that itself calls <see cref="Run"/> on a pool (from inside <see cref="ComputeJob.Execute"/>)
/// runs that inner job inline on its own thread rather than deadlocking.
/// </remarks>
public sealed class ComputePool : IDisposable
{
    private readonly Thread[] workers;
    private readonly object runGate = new();
    private readonly object wakeGate = new();
    private readonly ManualResetEventSlim finished = new(false, spinCount: 200);
    private ComputeJob? job;
    private int generation;
    private int sleepers;
    private int pending;
    private volatile bool disposed;
    private ExceptionDispatchInfo? failure;

    [ThreadStatic] private static bool insideJob;

    /// <summary>Creates a pool that splits work over <paramref name="threads"/> threads (at least 1), the caller's included.</summary>
    public ComputePool(int threads)
    {
        Threads = Math.Max(1, threads);
        workers = new Thread[Threads - 1];
        for (int i = 0; i < workers.Length; i++)
        {
            int index = i + 1;
            workers[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"dclm-compute-{index}" };
            workers[i].Start();
        }
    }

    /// <summary>Number of threads work is split over, the caller's included.</summary>
    public int Threads { get; }

    /// <summary>How long an idle worker polls for the next job before it blocks.</summary>
    public int SpinMicroseconds { get; set; } = 200;

    /// <summary>A pool sized to the machine's processors, created on first use.</summary>
    public static ComputePool Shared => SharedHolder.Instance;

    private static class SharedHolder
    {
        public static readonly ComputePool Instance = new(Environment.ProcessorCount);
    }

    /// <summary>
    /// Runs <paramref name="work"/> on every thread of the pool and returns when all have finished.
    /// An exception thrown by any thread is rethrown here (the first one).
    /// </summary>
    public void Run(ComputeJob work)
    {
        ArgumentNullException.ThrowIfNull(work);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (insideJob || Threads == 1)
        {
            for (int t = 0; t < Threads; t++) work.Execute(t, Threads);
            return;
        }
        lock (runGate)
        {
            job = work;
            failure = null;
            finished.Reset();
            Volatile.Write(ref pending, workers.Length);
            Interlocked.Increment(ref generation);
            if (Volatile.Read(ref sleepers) > 0)
                lock (wakeGate) Monitor.PulseAll(wakeGate);
            insideJob = true;
            try { work.Execute(0, Threads); }
            catch (Exception e) { Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null); }
            finally { insideJob = false; }
            finished.Wait();
            job = null;
            failure?.Throw();
        }
    }

    private void WorkerLoop(int index)
    {
        int seen = 0;
        while (true)
        {
            if (!WaitForGeneration(ref seen)) return;
            insideJob = true;
            try { job!.Execute(index, Threads); }
            catch (Exception e) { Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null); }
            finally { insideJob = false; }
            if (Interlocked.Decrement(ref pending) == 0) finished.Set();
        }
    }

    /// <summary>Spins, then blocks, until a new job is posted; false once the pool is disposed.</summary>
    private bool WaitForGeneration(ref int seen)
    {
        long deadline = Stopwatch.GetTimestamp() + SpinMicroseconds * Stopwatch.Frequency / 1_000_000;
        while (Volatile.Read(ref generation) == seen && !disposed)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                lock (wakeGate)
                {
                    // The increment is a full fence: either Run sees this sleeper and pulses, or this
                    // thread sees Run's new generation below and does not wait.
                    Interlocked.Increment(ref sleepers);
                    while (Volatile.Read(ref generation) == seen && !disposed) Monitor.Wait(wakeGate);
                    Interlocked.Decrement(ref sleepers);
                }
                break;
            }
            Thread.SpinWait(30);
        }
        if (disposed) return false;
        seen = Volatile.Read(ref generation);
        return true;
    }

    /// <summary>Stops the worker threads; running jobs finish first.</summary>
    public void Dispose()
    {
        lock (runGate)
        {
            if (disposed) return;
            disposed = true;
            lock (wakeGate) Monitor.PulseAll(wakeGate);
        }
        foreach (var worker in workers) worker.Join();
        finished.Dispose();
    }
}
