using Dclm.Tensors.Compute;

namespace Dclm.Training.Kernels;

/// <summary>
/// Splits independent items (rows, heads) over a <see cref="ComputePool"/>. Each item is processed by
/// exactly one thread, so results never depend on the thread count.
/// </summary>
internal sealed class ParallelRows : ComputeJob
{
    private Action<int, int>? body;
    private int count, next, chunk;

    private ParallelRows() { }

    /// <summary>Calls <paramref name="body"/>(start, end) over disjoint ranges covering [0, <paramref name="count"/>).</summary>
    public static void Run(ComputePool pool, int count, Action<int, int> body, int chunk = 16)
    {
        if (count <= 0) return;
        if (pool.Threads == 1 || count <= chunk)
        {
            body(0, count);
            return;
        }
        var job = new ParallelRows { body = body, count = count, chunk = Math.Max(1, chunk) };
        pool.Run(job);
    }

    public override void Execute(int thread, int threads)
    {
        while (true)
        {
            int start = Interlocked.Add(ref next, chunk) - chunk;
            if (start >= count) return;
            body!(start, Math.Min(start + chunk, count));
        }
    }
}
