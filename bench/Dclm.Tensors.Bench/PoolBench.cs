using System.Diagnostics;
using Dclm.Tensors.Compute;

namespace Dclm.Tensors.Bench;

/// <summary>The cost of one fork/join of an empty job, against Parallel.For over the same threads.</summary>
internal static class PoolBench
{
    private sealed class EmptyJob : ComputeJob
    {
        public int Count;
        public override void Execute(int thread, int threads) => Interlocked.Increment(ref Count);
    }

    public static void Run()
    {
        foreach (int threads in new[] { 2, Environment.ProcessorCount })
        {
            using var pool = new ComputePool(threads);
            var job = new EmptyJob();
            const int Rounds = 20000;
            for (int i = 0; i < 1000; i++) pool.Run(job);
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < Rounds; i++) pool.Run(job);
            double poolMicroseconds = watch.Elapsed.TotalMicroseconds / Rounds;
            var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
            watch.Restart();
            for (int i = 0; i < Rounds; i++) Parallel.For(0, threads, options, _ => Interlocked.Increment(ref job.Count));
            double parallelMicroseconds = watch.Elapsed.TotalMicroseconds / Rounds;
            Console.WriteLine($"threads {threads}: ComputePool.Run {poolMicroseconds:F2} µs, Parallel.For {parallelMicroseconds:F2} µs per fork/join");
        }
    }
}
