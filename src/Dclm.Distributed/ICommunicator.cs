namespace Dclm.Distributed;

/// <summary>
/// The collective operations a process group offers (an MPI communicator, or one process alone). Every call is
/// collective: each rank makes the same calls in the same order with the same counts. Reductions are left to the
/// callers, which sum what <see cref="AllToAll"/> or <see cref="AllGather(ReadOnlySpan{double}, Span{double})"/>
/// delivers in rank order, so a result never depends on the network's reduction order.
/// </summary>
public interface ICommunicator : IDisposable
{
    /// <summary>This process's index, 0 to <see cref="Size"/> − 1.</summary>
    int Rank { get; }
    /// <summary>Processes in the group.</summary>
    int Size { get; }
    /// <summary>Whether this is rank 0, the one that writes files and talks to the user.</summary>
    bool IsRoot => Rank == 0;

    /// <summary>
    /// Block r of <paramref name="source"/> (Size blocks of equal length) goes to rank r; block r of
    /// <paramref name="destination"/> arrives from rank r.
    /// </summary>
    void AllToAll(ReadOnlySpan<float> source, Span<float> destination);

    /// <summary>Every rank's <paramref name="source"/>, concatenated in rank order into <paramref name="destination"/> (Size × source.Length).</summary>
    void AllGather(ReadOnlySpan<float> source, Span<float> destination);

    /// <summary>Every rank's <paramref name="source"/>, concatenated in rank order into <paramref name="destination"/> (Size × source.Length).</summary>
    void AllGather(ReadOnlySpan<double> source, Span<double> destination);

    /// <summary>Rank <paramref name="root"/>'s <paramref name="buffer"/> into every rank's.</summary>
    void Broadcast(Span<byte> buffer, int root);

    /// <summary>Returns when every rank has called it.</summary>
    void Barrier();

    /// <summary>Ends every process of the group with <paramref name="exitCode"/> (a rank that failed alone would leave the others waiting forever).</summary>
    void Abort(int exitCode);
}
