namespace Dclm.Tensors.Compute;

/// <summary>A fixed set of worker threads that kernels split their work over.</summary>
// PLACEHOLDER: replaced by the kernels work.
public sealed class ComputePool : IDisposable
{
    public ComputePool(int threads) => Threads = Math.Max(1, threads);

    /// <summary>Number of threads work is split over, the caller's included.</summary>
    public int Threads { get; }

    /// <summary>A pool sized to the machine's processors.</summary>
    public static ComputePool Shared { get; } = new(Environment.ProcessorCount);

    public void Dispose() { }
}
