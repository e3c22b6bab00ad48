namespace Dclm.Tensors.Compute;

/// <summary>
/// Work that a <see cref="ComputePool"/> runs on all of its threads at once. Every thread calls
/// <see cref="Execute"/> with its own index; the job splits its work by that index or by claiming
/// chunks from a shared counter. Jobs are reusable objects so that running one allocates nothing.
/// </summary>
public abstract class ComputeJob
{
    /// <summary>Runs this thread's share: <paramref name="thread"/> in [0, <paramref name="threads"/>).</summary>
    public abstract void Execute(int thread, int threads);
}
