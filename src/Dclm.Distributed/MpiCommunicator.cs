namespace Dclm.Distributed;

/// <summary>
/// MPI_COMM_WORLD of Open MPI: the processes mpirun, srun or the MPI Operator started. Messages larger than
/// MPI's int counts are sent in pieces.
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    // Elements per MPI call: counts are C ints, and a block of 2^30 bytes keeps every buffer offset in range.
    private const int MaxCount = 1 << 28;
    private readonly OpenMpiLibrary _mpi;
    private readonly bool _ownsInitialization;
    private bool _disposed;

    private MpiCommunicator(OpenMpiLibrary mpi, bool ownsInitialization)
    {
        _mpi = mpi;
        _ownsInitialization = ownsInitialization;
        Rank = mpi.Rank(mpi.World);
        Size = mpi.Size(mpi.World);
    }

    public int Rank { get; }
    public int Size { get; }

    /// <summary>Initializes MPI (once per process) and returns the world communicator.</summary>
    public static MpiCommunicator InitializeWorld()
    {
        var mpi = OpenMpiLibrary.Load();
        bool already = mpi.Initialized;
        if (!already) mpi.Initialize();
        return new MpiCommunicator(mpi, !already);
    }

    public void AllToAll(ReadOnlySpan<float> source, Span<float> destination)
    {
        int block = Block(source.Length, destination.Length, "AllToAll");
        if (block > MaxCount) throw new ArgumentException($"AllToAll blocks of {block} values exceed {MaxCount}; send smaller buckets");
        fixed (float* s = source, d = destination) _mpi.AllToAll(s, d, block, _mpi.Float, _mpi.World);
    }

    public void AllGather(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (destination.Length != (long)source.Length * Size) throw new ArgumentException($"AllGather needs a destination of {Size} × {source.Length} values");
        if (source.Length > MaxCount) throw new ArgumentException($"AllGather of {source.Length} values exceeds {MaxCount}; send smaller pieces");
        fixed (float* s = source, d = destination) _mpi.AllGather(s, d, source.Length, _mpi.Float, _mpi.World);
    }

    public void AllGather(ReadOnlySpan<double> source, Span<double> destination)
    {
        if (destination.Length != (long)source.Length * Size) throw new ArgumentException($"AllGather needs a destination of {Size} × {source.Length} values");
        fixed (double* s = source, d = destination) _mpi.AllGather(s, d, source.Length, _mpi.Double, _mpi.World);
    }

    public void Broadcast(Span<byte> buffer, int root)
    {
        fixed (byte* b = buffer)
            for (int start = 0; start < buffer.Length; start += MaxCount)
                _mpi.Broadcast(b + start, Math.Min(MaxCount, buffer.Length - start), _mpi.Byte, root, _mpi.World);
    }

    public void Barrier() => _mpi.Barrier(_mpi.World);

    public void Abort(int exitCode) => _mpi.Abort(_mpi.World, exitCode);

    /// <summary>Finalizes MPI when this communicator initialized it.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_ownsInitialization && !_mpi.Finalized) _mpi.Shutdown();
    }

    private int Block(int source, int destination, string call)
    {
        if (source != destination || source % Size != 0) throw new ArgumentException($"{call} needs equal source and destination lengths divisible by the {Size} ranks (got {source} and {destination})");
        return source / Size;
    }
}
