using Dclm.Formats;

namespace Dclm.Checkpoints;

/// <summary>Where a loaded model's weights live, why, and what the load cost: what the CLI and server report.</summary>
/// <param name="Residence">Mapped from the file or copied into memory.</param>
/// <param name="Bytes">Bytes of the model file(s).</param>
/// <param name="HugePageBytes">Bytes of a copy that Linux backs with 2 MB pages (0 when mapped).</param>
/// <param name="LoadTime">Time to open the file(s), including any copy.</param>
/// <param name="Reason">Why this residence: "asked for", or the memory it was weighed against.</param>
public sealed record WeightResidence(FileResidence Residence, long Bytes, long HugePageBytes, TimeSpan LoadTime, string Reason)
{
    /// <summary>
    /// The residence <see cref="WeightLoading.Automatic"/> gives <paramref name="bytes"/> of weights: a copy when
    /// they fit in <paramref name="memory"/> with <see cref="Headroom"/> to spare, else the mapping.
    /// </summary>
    public static (FileResidence Residence, string Reason) Choose(long bytes, AvailableMemory memory, WeightLoading loading)
    {
        if (loading == WeightLoading.Mapped) return (FileResidence.Mapped, "asked for");
        if (loading == WeightLoading.Copied) return (FileResidence.Copied, "asked for");
        long headroom = Headroom(memory);
        string weighed = $"{Gigabytes(bytes)} of weights and {Gigabytes(headroom)} to spare against {Gigabytes(memory.AvailableBytes)} available ({memory.Source})";
        return bytes + headroom <= memory.AvailableBytes
            ? (FileResidence.Copied, weighed)
            : (FileResidence.Mapped, weighed + ": not enough to copy");
    }

    /// <summary>
    /// Memory left free after a copy, for the KV cache, activations and the rest of the machine: a sixteenth
    /// of all memory, at least 1 GiB.
    /// </summary>
    public static long Headroom(AvailableMemory memory) => Math.Max(1L << 30, memory.TotalBytes / 16);

    /// <summary>One line for users, e.g. "weights copied into memory: 3.88 GB in 1.2 s, 100% in 2 MB pages (...)".</summary>
    public string Describe() => Residence == FileResidence.Copied
        ? $"weights copied into memory: {Gigabytes(Bytes)} in {LoadTime.TotalSeconds:F1} s, {HugePagePercent}% in 2 MB pages ({Reason})"
        : Reason == "asked for"
            ? $"weights mapped from the file, as asked ({Gigabytes(Bytes)})"
            : $"weights mapped from the file ({Reason}); decode may run far below the memory-bandwidth bound";

    private int HugePagePercent => Bytes > 0 ? (int)Math.Min(100, 100 * HugePageBytes / Bytes) : 0;

    private static string Gigabytes(long bytes) => bytes >= 1e9 ? $"{bytes / 1e9:F2} GB" : $"{bytes / 1e6:F1} MB";
}
