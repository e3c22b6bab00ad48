using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Dclm.Tensors.Compute;

/// <summary>
/// A fixed set of worker threads that kernels split their work over, with a fork/join cheap enough
/// for the ~200 matrix products of one decoded token. A job has <see cref="Threads"/> parts; the
/// calling thread and the workers claim parts from a shared counter, so the caller runs every part
/// that no worker has picked up (a busy machine that delays a worker only slows the job, never
/// stalls it). Idle workers poll for <see cref="SpinMicroseconds"/> before blocking, so back-to-back
/// jobs start without a kernel wake-up.
/// </summary>
/// <remarks>
/// Each part index runs exactly once, but parts are not guaranteed to run at the same time (one
/// thread may run several in turn), so a job must not wait for another of its own parts.
/// <see cref="Run"/> is safe to call from several threads: calls are serialized, one job at a time.
/// A job that itself calls <see cref="Run"/> (from inside <see cref="ComputeJob.Execute"/>) has that
/// inner job run inline on its own thread rather than deadlocking.
/// </remarks>
public sealed class ComputePool : IDisposable
{
    private readonly Thread[] workers;
    private readonly object runGate = new();
    private readonly object wakeGate = new();
    private readonly ManualResetEventSlim finished = new(false, spinCount: 100);
    private ComputeJob? job;
    private int generation;
    // (generation << 32) | next unclaimed part: a late worker can claim only parts of the job it saw.
    private long claims;
    private int unfinished;
    private int sleepers;
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
            workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"dclm-compute-{i + 1}" };
            workers[i].Start();
        }
        // ManualResetEventSlim makes its monitor object the first time a wait blocks; block once here (1 ms) so that it
        // is made now and Run never allocates (the engine's steady decode step allocates nothing, EngineTests checks).
        if (workers.Length > 0) finished.Wait(1);
    }

    /// <summary>Number of parts each job is split into, and of threads working on them (the caller's included).</summary>
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
    /// Runs parts 0..<see cref="Threads"/>-1 of <paramref name="work"/> and returns when all have
    /// finished. An exception thrown by any part is rethrown here (the first one).
    /// </summary>
    public void Run(ComputeJob work)
    {
        ArgumentNullException.ThrowIfNull(work);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (insideJob || Threads == 1)
        {
            for (int part = 0; part < Threads; part++) work.Execute(part, Threads);
            return;
        }
        lock (runGate)
        {
            int next = generation + 1;
            job = work;
            failure = null;
            finished.Reset();
            Volatile.Write(ref unfinished, Threads);
            Volatile.Write(ref claims, (long)next << 32);
            Interlocked.Exchange(ref generation, next);
            if (Volatile.Read(ref sleepers) > 0)
                lock (wakeGate) Monitor.PulseAll(wakeGate);
            RunParts(work, next);
            // The counter is the truth, the event only a wake-up: a worker that finished the previous
            // job's last part may set the event late, after this job reset it, and returning on that
            // Set would let the caller reuse the job's buffers while a worker still runs a part.
            while (Volatile.Read(ref unfinished) != 0)
            {
                finished.Wait();
                if (Volatile.Read(ref unfinished) == 0) break;
                finished.Reset();
            }
            job = null;
            failure?.Throw();
        }
    }

    /// <summary>Claims and runs parts of the job of <paramref name="jobGeneration"/> until none are left.</summary>
    private void RunParts(ComputeJob work, int jobGeneration)
    {
        insideJob = true;
        try
        {
            while (true)
            {
                long current = Volatile.Read(ref claims);
                int part = (int)current;
                if ((int)(current >> 32) != jobGeneration || part >= Threads) return;
                if (Interlocked.CompareExchange(ref claims, current + 1, current) != current) continue;
                try { work.Execute(part, Threads); }
                catch (Exception e) { Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null); }
                if (Interlocked.Decrement(ref unfinished) == 0) finished.Set();
            }
        }
        finally { insideJob = false; }
    }

    private void WorkerLoop()
    {
        int seen = 0;
        while (WaitForGeneration(ref seen))
        {
            // Run publishes the job before the generation, so the job read here belongs to `seen`
            // or a later generation; the claim check discards it in the second case.
            ComputeJob? work = Volatile.Read(ref job);
            if (work != null) RunParts(work, seen);
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
            Thread.SpinWait(20);
        }
        if (disposed) return false;
        seen = Volatile.Read(ref generation);
        return true;
    }

    /// <summary>Stops the worker threads; a running job finishes first.</summary>
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
