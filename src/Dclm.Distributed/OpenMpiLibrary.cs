using System.Runtime.InteropServices;

namespace Dclm.Distributed;

/// <summary>
/// The few entry points of Open MPI's libmpi that <see cref="MpiCommunicator"/> uses, bound at run time. Open MPI's
/// handles are addresses: MPI_COMM_WORLD is &amp;ompi_mpi_comm_world and MPI_FLOAT is &amp;ompi_mpi_float, so they are
/// read as exported symbols. (MPICH encodes handles as integers; it is not supported.)
/// </summary>
internal sealed unsafe class OpenMpiLibrary
{
    private const int ThreadSerialized = 2; // MPI_THREAD_SERIALIZED: any thread may call, one at a time
    private static readonly string[] Names = ["libmpi.so.40", "libmpi.so"];

    private readonly delegate* unmanaged<int*, int> _initialized;
    private readonly delegate* unmanaged<int*, nint, int, int*, int> _initThread;
    private readonly delegate* unmanaged<int*, int> _finalized;
    private readonly delegate* unmanaged<int> _finalize;
    private readonly delegate* unmanaged<nint, int*, int> _commRank;
    private readonly delegate* unmanaged<nint, int*, int> _commSize;
    private readonly delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int> _allToAll;
    private readonly delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int> _allGather;
    private readonly delegate* unmanaged<void*, int, nint, int, nint, int> _broadcast;
    private readonly delegate* unmanaged<nint, int> _barrier;
    private readonly delegate* unmanaged<nint, int, int> _abort;

    private OpenMpiLibrary(nint library)
    {
        nint Export(string name) => NativeLibrary.TryGetExport(library, name, out var address) ? address
            : throw new DllNotFoundException($"libmpi has no symbol {name}: DclmSharp's MPI layer needs Open MPI (apt-get install openmpi-bin libopenmpi-dev)");
        _initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        _initThread = (delegate* unmanaged<int*, nint, int, int*, int>)Export("MPI_Init_thread");
        _finalized = (delegate* unmanaged<int*, int>)Export("MPI_Finalized");
        _finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        _commRank = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_rank");
        _commSize = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_size");
        _allToAll = (delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int>)Export("MPI_Alltoall");
        _allGather = (delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int>)Export("MPI_Allgather");
        _broadcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)Export("MPI_Bcast");
        _barrier = (delegate* unmanaged<nint, int>)Export("MPI_Barrier");
        _abort = (delegate* unmanaged<nint, int, int>)Export("MPI_Abort");
        World = Export("ompi_mpi_comm_world");
        Float = Export("ompi_mpi_float");
        Double = Export("ompi_mpi_double");
        Byte = Export("ompi_mpi_byte");
    }

    /// <summary>MPI_COMM_WORLD.</summary>
    public nint World { get; }
    /// <summary>MPI_FLOAT.</summary>
    public nint Float { get; }
    /// <summary>MPI_DOUBLE.</summary>
    public nint Double { get; }
    /// <summary>MPI_BYTE.</summary>
    public nint Byte { get; }

    /// <summary>
    /// Loads libmpi with RTLD_GLOBAL: Open MPI's components (plugins it dlopens itself) resolve symbols of libmpi,
    /// which a plain dlopen, as .NET's loader does, would keep private.
    /// </summary>
    public static OpenMpiLibrary Load()
    {
        const int Now = 2, Global = 0x100;
        foreach (var name in Names)
        {
            nint handle = DlOpen(name, Now | Global);
            if (handle != 0) return new OpenMpiLibrary(handle);
        }
        throw new DllNotFoundException($"started under an MPI launcher, but Open MPI's library ({string.Join(" or ", Names)}) was not found: apt-get install openmpi-bin libopenmpi-dev");
    }

    public bool Initialized { get { int flag; Check(_initialized(&flag), "MPI_Initialized"); return flag != 0; } }
    public bool Finalized { get { int flag; Check(_finalized(&flag), "MPI_Finalized"); return flag != 0; } }

    public void Initialize()
    {
        int provided;
        Check(_initThread(null, 0, ThreadSerialized, &provided), "MPI_Init_thread");
        if (provided < ThreadSerialized) throw new InvalidOperationException($"MPI provides thread level {provided}; DclmSharp needs MPI_THREAD_SERIALIZED ({ThreadSerialized})");
    }

    public void Shutdown() => Check(_finalize(), "MPI_Finalize");
    public int Rank(nint communicator) { int rank; Check(_commRank(communicator, &rank), "MPI_Comm_rank"); return rank; }
    public int Size(nint communicator) { int size; Check(_commSize(communicator, &size), "MPI_Comm_size"); return size; }

    public void AllToAll(void* source, void* destination, int count, nint type, nint communicator) =>
        Check(_allToAll(source, count, type, destination, count, type, communicator), "MPI_Alltoall");

    public void AllGather(void* source, void* destination, int count, nint type, nint communicator) =>
        Check(_allGather(source, count, type, destination, count, type, communicator), "MPI_Allgather");

    public void Broadcast(void* buffer, int count, nint type, int root, nint communicator) =>
        Check(_broadcast(buffer, count, type, root, communicator), "MPI_Bcast");

    public void Barrier(nint communicator) => Check(_barrier(communicator), "MPI_Barrier");
    public void Abort(nint communicator, int code) => _abort(communicator, code);

    private static void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error {code}");
    }

    [DllImport("libc", EntryPoint = "dlopen")]
    private static extern nint DlOpen(string file, int mode);
}
