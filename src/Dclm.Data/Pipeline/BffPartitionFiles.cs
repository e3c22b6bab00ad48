using Dclm.Data.Dedup;
using Dclm.Data.Inputs;
using Dclm.Data.IO;
using Dclm.Formats;

namespace Dclm.Data.Pipeline;

/// <summary>
/// The per-partition count files of partitioned BFF (<c>dedup.bff.partitions</c> &gt; 1): written by
/// <c>--phase dedup --partition p/P</c> workers (or by the global phase itself for missing ones) and read back
/// in lockstep by the global phase.
/// </summary>
public sealed class BffPartitionFiles : IDisposable
{
    private readonly BinaryReader[] _readers;
    private readonly string[] _names;
    private readonly double _threshold;
    private readonly bool _exact;

    private BffPartitionFiles(string[] paths, double threshold, bool exact)
    {
        _names = paths;
        _readers = paths.Select(p => new BinaryReader(new BufferedStream(File.OpenRead(p), 1 << 16))).ToArray();
        _threshold = threshold;
        _exact = exact;
    }

    /// <summary>File of partition <paramref name="partition"/> of <paramref name="partitions"/>.</summary>
    public static string PathOf(string output, int partition, int partitions) =>
        Path.Combine(output, "global", $"bff-partition-{partition:D4}-of-{partitions:D4}.bin");

    /// <summary>
    /// Counts partition <paramref name="partition"/> over every document of the parts, in unit order, and writes
    /// its file atomically. The filter gets 1/P of the expected n-grams.
    /// </summary>
    public static void Write(PipelineConfig config, string output, IReadOnlyList<InputUnit> plan, long expectedNgrams, int partition, CancellationToken cancellation)
    {
        var bff = config.Dedup.Bff;
        int partitions = bff.Partitions;
        long expected = (bff.ExpectedNgrams > 0 ? bff.ExpectedNgrams : Math.Max(1024, expectedNgrams)) / partitions + 1;
        var filter = BloomFilter.Create(expected, bff.FalsePositiveRate, bff.MaxMemoryMb << 20);
        var counter = new PartitionedBff(partition, partitions, filter, bff.NgramSize, bff.MinNgramSize);
        AtomicFile.Write(PathOf(output, partition, partitions), stream =>
        {
            using var writer = new BinaryWriter(new NonClosingStream(new BufferedStream(stream, 1 << 16)));
            foreach (var unit in plan)
            {
                foreach (var document in DocumentJsonl.ReadFile(LocalPhase.PartPath(output, unit.Index), unit.Source))
                {
                    cancellation.ThrowIfCancellationRequested();
                    counter.Count(document.Text, writer);
                }
            }
            writer.Flush();
        });
    }

    /// <summary>Opens all P files (every one must exist).</summary>
    public static BffPartitionFiles Open(PipelineConfig config, string output)
    {
        int partitions = config.Dedup.Bff.Partitions;
        var paths = Enumerable.Range(0, partitions).Select(p => PathOf(output, p, partitions)).ToArray();
        return new BffPartitionFiles(paths, config.Dedup.Bff.Threshold, config.Dedup.Exact);
    }

    /// <summary>The combined verdict for the next document, whose text must be <paramref name="text"/>.</summary>
    public (bool ExactDuplicate, BffResult Result) Next(string text)
    {
        var records = new PartitionedBff.Record[_readers.Length];
        for (int p = 0; p < _readers.Length; p++) records[p] = PartitionedBff.Read(_readers[p], _names[p]);
        if (!_exact) records = records.Select(r => r with { Exact = PartitionedBff.ExactVerdict.NotOwner }).ToArray();
        return PartitionedBff.Decide(text, records, _threshold);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var reader in _readers) reader.Dispose();
    }
}
