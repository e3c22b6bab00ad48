using System.Globalization;
using System.Runtime.InteropServices;

namespace Dclm.Tensors.Compute;

/// <summary>
/// One block of private, zeroed memory for weights, which Linux is asked to back with 2 MB transparent
/// huge pages (madvise MADV_HUGEPAGE) and to fault in at once (MADV_POPULATE_WRITE). Decode streams every
/// weight once per token. On this project's VM, a 3.8 GB file mapped through 4 KB page-cache pages read at
/// 1 GB/s, the same bytes in this block at 15 GB/s (7B-shaped q4_0: 0.17 against 1.7 tok/s); see
/// docs/benchmarks.md. Elsewhere than Linux the block is ordinary aligned native memory.
/// </summary>
/// <remarks>
/// Faulting the block in before filling it matters: reading a file into untouched huge-page memory
/// took 16.8 s for 3.8 GB, populating first (<see cref="Populate"/>) and then reading 1.3 s (both from
/// the page cache). Populating is the dear part where the hypervisor must back fresh memory (8 s of
/// system time for 3.8 GB on a busy day here, 0.3 s on a quiet one).
/// </remarks>
public sealed unsafe class HugePageMemory : IDisposable
{
    private const int MadviseHugePage = 14;
    private const int MadvisePopulateWrite = 23;
    private const nuint HugePage = 2 << 20;

    private byte* block;
    private readonly nuint length;
    private readonly bool mapped;

    private HugePageMemory(byte* block, long byteLength, nuint length, bool mapped, bool hugePagesAdvised)
    {
        this.block = block;
        this.length = length;
        this.mapped = mapped;
        ByteLength = byteLength;
        HugePagesAdvised = hugePagesAdvised;
    }

    /// <summary>
    /// Allocates at least <paramref name="byteLength"/> bytes (rounded up to 2 MB), 2 MB aligned where Linux maps
    /// them; <paramref name="populate"/> faults them all in now (else call <see cref="Populate"/> before writing).
    /// </summary>
    /// <exception cref="OutOfMemoryException">when the memory cannot be had.</exception>
    public static HugePageMemory Allocate(long byteLength, bool populate = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteLength);
        nuint length = ((nuint)Math.Max(byteLength, 1) + HugePage - 1) & ~(HugePage - 1);
        if (OperatingSystem.IsLinux())
        {
            // Ask for 2 MB more so the block can start on a 2 MB boundary, then give the ends back.
            nint reserved = Mmap(0, length + HugePage, 3 /* PROT_READ | PROT_WRITE */, 0x22 /* MAP_PRIVATE | MAP_ANONYMOUS */, -1, 0);
            if (reserved != -1)
            {
                nint start = (nint)(((nuint)reserved + HugePage - 1) & ~(HugePage - 1));
                nuint head = (nuint)(start - reserved);
                if (head > 0) Munmap(reserved, head);
                Munmap(start + (nint)length, HugePage - head);
                bool advised = Madvise(start, length, MadviseHugePage) == 0;
                var memory = new HugePageMemory((byte*)start, byteLength, length, mapped: true, advised);
                if (populate) memory.Populate(0, byteLength);
                return memory;
            }
            throw new OutOfMemoryException($"mmap of {length:N0} bytes failed (errno {Marshal.GetLastPInvokeError()})");
        }
        byte* block = (byte*)NativeMemory.AlignedAlloc(length, 64);
        NativeMemory.Clear(block, length);
        return new HugePageMemory(block, byteLength, length, mapped: false, hugePagesAdvised: false);
    }

    /// <summary>
    /// Faults in the pages under [offset, offset + count) in one call (MADV_POPULATE_WRITE), rounded out to
    /// 2 MB, so writing there takes no page faults; the memory stays zero.
    /// </summary>
    public void Populate(long offset, long count)
    {
        if (offset < 0 || count < 0 || offset + count > ByteLength) throw new ArgumentOutOfRangeException(nameof(count), $"[{offset}, {offset + count}) is outside the block's {ByteLength} bytes");
        if (!mapped || count == 0) return;
        nuint start = (nuint)offset & ~(HugePage - 1);
        nuint end = Math.Min(length, ((nuint)(offset + count) + HugePage - 1) & ~(HugePage - 1));
        if (Madvise((nint)(Pointer + start), end - start, MadvisePopulateWrite) != 0)
        {
            // Before Linux 5.14: touch every 4 KB page (writing the zero it already holds).
            for (nuint at = start; at < end; at += 4096) Pointer[at] = 0;
        }
    }

    /// <summary>Address of the first byte; valid until <see cref="Dispose"/>.</summary>
    public byte* Pointer => block != null ? block : throw new ObjectDisposedException(nameof(HugePageMemory));

    /// <summary>The bytes asked for.</summary>
    public long ByteLength { get; }

    /// <summary>True when Linux accepted the huge-page advice (the pages are still its choice; see <see cref="HugePageBytes"/>).</summary>
    public bool HugePagesAdvised { get; }

    /// <summary>
    /// How many bytes of the block Linux backs with huge pages now (AnonHugePages of its mapping in
    /// /proc/self/smaps), or 0 where that cannot be read.
    /// </summary>
    public long HugePageBytes()
    {
        if (!mapped || block == null) return 0;
        try
        {
            ulong start = (ulong)block;
            bool inside = false;
            foreach (string line in File.ReadLines("/proc/self/smaps"))
            {
                int dash = line.IndexOf('-');
                int space = line.IndexOf(' ');
                if (dash > 0 && space > dash && ulong.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, null, out ulong from)
                    && ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, null, out ulong to))
                {
                    inside = from <= start && start < to;
                    continue;
                }
                if (inside && line.StartsWith("AnonHugePages:", StringComparison.Ordinal))
                {
                    long kilobytes = long.Parse(line.AsSpan(14).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
                    return Math.Min(kilobytes * 1024, (long)length);
                }
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return 0;
    }

    /// <summary>Frees the block; pointers into it must no longer be used.</summary>
    public void Dispose()
    {
        if (block == null) return;
        if (mapped) Munmap((nint)block, length);
        else NativeMemory.AlignedFree(block);
        block = null;
    }

    [DllImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static extern nint Mmap(nint address, nuint length, int protection, int flags, int descriptor, nint offset);

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(nint address, nuint length, int advice);

    [DllImport("libc", EntryPoint = "munmap")]
    private static extern int Munmap(nint address, nuint length);
}
