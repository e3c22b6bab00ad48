using Dclm.Tensors.Compute;

namespace Dclm.Tensors.Tests;

public class ComputePoolTests
{
    private sealed class CountingJob(int parts) : ComputeJob
    {
        public readonly int[] Hits = new int[parts];
        public int Threads;

        public override void Execute(int thread, int threads)
        {
            Threads = threads;
            Interlocked.Increment(ref Hits[thread]);
        }
    }

    private sealed class ThrowingJob : ComputeJob
    {
        public override void Execute(int thread, int threads)
        {
            if (thread == threads - 1) throw new InvalidOperationException("boom");
        }
    }

    private sealed class NestedJob(ComputePool pool) : ComputeJob
    {
        public int Inner;

        public override void Execute(int thread, int threads)
        {
            var inner = new CountingJob(pool.Threads);
            pool.Run(inner);
            Interlocked.Add(ref Inner, inner.Hits.Sum());
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void EveryThreadRunsEachJobExactlyOnce(int threads)
    {
        using var pool = new ComputePool(threads) { SpinMicroseconds = 0 };
        for (int round = 0; round < 300; round++)
        {
            var job = new CountingJob(threads);
            pool.Run(job);
            Assert.All(job.Hits, hits => Assert.Equal(1, hits));
            Assert.Equal(threads, job.Threads);
        }
    }

    [Fact]
    public void WorkerExceptionsReachTheCaller()
    {
        using var pool = new ComputePool(3);
        Assert.Throws<InvalidOperationException>(() => pool.Run(new ThrowingJob()));
        var job = new CountingJob(3);
        pool.Run(job);
        Assert.All(job.Hits, hits => Assert.Equal(1, hits));
    }

    [Fact]
    public void NestedRunExecutesInlineInsteadOfDeadlocking()
    {
        using var pool = new ComputePool(2);
        var job = new NestedJob(pool);
        pool.Run(job);
        Assert.Equal(2 * 2, job.Inner);
    }

    [Fact]
    public void ConcurrentCallersAreSerialized()
    {
        using var pool = new ComputePool(2);
        var failures = 0;
        Parallel.For(0, 4, _ =>
        {
            for (int i = 0; i < 200; i++)
            {
                var job = new CountingJob(2);
                pool.Run(job);
                if (job.Hits.Any(h => h != 1)) Interlocked.Increment(ref failures);
            }
        });
        Assert.Equal(0, failures);
    }
}
